"""A stage on a domain of its own (cdk/custom_domain.py, cdk/web_certificate.py): certificates, API Gateway's domain
name and mapping, Route 53 aliases, WebSocketUrl wss://<name> and the web client on web.<name>; @connections stays on
the API's execute-api host. Synthesis needs no AWS lookup: the zone comes from cdk.json."""

import copy
import json

import pytest
from cfnlint.api import lint_file
from infra_support import CONTEXT, STAGES, function_id, render, resources, workflow_id

from cdk.environments import LOCAL_CONTEXT
from cdk.synthesis import Synthesis, synthesize_app

ACCOUNT, REGION = "333333333333", "eu-west-1"
ZONE = {"name": "chat.example.com", "hosted_zone_id": "Z0123456789ABC", "hosted_zone_name": "example.com"}
API_CERTIFICATE = f"arn:aws:acm:{REGION}:{ACCOUNT}:certificate/0a1b2c3d-1111-2222-3333-444455556666"
WEB_CERTIFICATE = f"arn:aws:acm:us-east-1:{ACCOUNT}:certificate/0a1b2c3d-1111-2222-3333-777788889999"
CERTIFICATES = {"name": "chat.example.com", "certificate_arn": API_CERTIFICATE, "web_certificate_arn": WEB_CERTIFICATE}


def prod_with(**settings) -> dict:
    stages = copy.deepcopy(CONTEXT["stages"])
    stages["prod"].update(settings)
    return {"stages": stages, "stage": "prod"}


@pytest.fixture(scope="module")
def in_zone(shared_synthesis) -> Synthesis:
    return shared_synthesis(
        "cdk-prod-domain-in-zone",
        lambda outdir: synthesize_app(outdir, context=prod_with(account=ACCOUNT, region=REGION, domain=ZONE)),
    )


@pytest.fixture(scope="module")
def with_certificates(shared_synthesis) -> Synthesis:
    return shared_synthesis(
        "cdk-prod-domain-certificates", lambda outdir: synthesize_app(outdir, context=prod_with(domain=CERTIFICATES))
    )


def only(template: dict, resource_type: str) -> tuple[str, dict]:
    ((logical_id, properties),) = resources(template, resource_type).items()
    return logical_id, properties


def outputs(template: dict) -> dict:
    return {name: render(output["Value"]) for name, output in template["Outputs"].items()}


@pytest.mark.parametrize("stage", STAGES)
def test_a_stage_without_a_domain_has_none_of_it(templates, stage):
    template = templates(stage)

    for resource_type in (
        "AWS::ApiGatewayV2::DomainName",
        "AWS::ApiGatewayV2::ApiMapping",
        "AWS::CertificateManager::Certificate",
        "AWS::Route53::RecordSet",
    ):
        assert resources(template, resource_type) == {}, resource_type
    assert outputs(template)["WebSocketUrl"].endswith(f".execute-api.<AWS::Region>.<AWS::URLSuffix>/{stage}")
    _, distribution = only(template, "AWS::CloudFront::Distribution")
    assert "Aliases" not in distribution["DistributionConfig"]


def test_in_a_hosted_zone_the_api_gets_a_dns_validated_certificate_its_domain_name_mapping_and_alias(in_zone):
    template = in_zone.template("Chat-prod")
    certificate_id, certificate = only(template, "AWS::CertificateManager::Certificate")
    domain_id, domain = only(template, "AWS::ApiGatewayV2::DomainName")
    _, mapping = only(template, "AWS::ApiGatewayV2::ApiMapping")
    (api_id,) = resources(template, "AWS::ApiGatewayV2::Api")
    (stage_id,) = resources(template, "AWS::ApiGatewayV2::Stage")
    records = {(r["Name"], r["Type"]): r for r in resources(template, "AWS::Route53::RecordSet").values()}

    assert certificate["DomainName"] == "chat.example.com" and certificate["ValidationMethod"] == "DNS"
    assert certificate["DomainValidationOptions"] == [
        {"DomainName": "chat.example.com", "HostedZoneId": ZONE["hosted_zone_id"]}
    ]
    (configuration,) = domain["DomainNameConfigurations"]
    assert domain["DomainName"] == "chat.example.com"
    assert configuration["EndpointType"] == "REGIONAL" and configuration["SecurityPolicy"] == "TLS_1_2"
    assert render(configuration["CertificateArn"]) == f"<{certificate_id}>"
    (mapping_id,) = resources(template, "AWS::ApiGatewayV2::ApiMapping")
    assert render(mapping["ApiId"]) == f"<{api_id}>" and mapping["Stage"] == "prod"
    assert stage_id in template["Resources"][mapping_id]["DependsOn"]  # the stage exists before it is mapped
    assert render(mapping["DomainName"]) == f"<{domain_id}>"
    assert "ApiMappingKey" not in mapping  # the stage is the domain's root: wss://chat.example.com
    alias = records[("chat.example.com.", "A")]
    assert alias["HostedZoneId"] == ZONE["hosted_zone_id"]
    assert render(alias["AliasTarget"]) == {
        "DNSName": f"<{domain_id}.RegionalDomainName>",
        "HostedZoneId": f"<{domain_id}.RegionalHostedZoneId>",
    }


def test_clients_use_the_domain_while_connections_are_posted_to_the_execute_api_host(in_zone):
    template = in_zone.template("Chat-prod")
    (api_id,) = resources(template, "AWS::ApiGatewayV2::Api")
    execute_api = f"https://<{api_id}>.execute-api.{REGION}.<AWS::URLSuffix>/prod"
    task = template["Resources"][function_id(template, "send_connection_id")]["Properties"]
    fanout = template["Resources"][workflow_id(template, "MessageFanout")]["Properties"]

    assert outputs(template)["WebSocketUrl"] == "wss://chat.example.com"
    assert outputs(template)["CallbackUrl"] == execute_api
    assert render(task["Environment"]["Variables"]["CALLBACK_URL"]) == execute_api
    assert render(fanout["DefinitionSubstitutions"]["ConnectionsApiEndpoint"]) == (
        f"<{api_id}>.execute-api.{REGION}.<AWS::URLSuffix>"
    )
    (api,) = resources(template, "AWS::ApiGatewayV2::Api").values()
    assert api.get("DisableExecuteApiEndpoint") in (None, False)  # the posters' endpoint stays enabled


def test_the_web_client_is_on_web_dot_the_domain_with_a_us_east_1_certificate_and_its_aliases(in_zone):
    template = in_zone.template("Chat-prod")
    certificate_stack = in_zone.template("Chat-prod-web-certificate")
    manifest = in_zone.manifest["artifacts"]
    _, certificate = only(certificate_stack, "AWS::CertificateManager::Certificate")
    distribution_id, distribution = only(template, "AWS::CloudFront::Distribution")
    viewer = distribution["DistributionConfig"]["ViewerCertificate"]
    records = {(r["Name"], r["Type"]): r for r in resources(template, "AWS::Route53::RecordSet").values()}
    _, headers = only(template, "AWS::CloudFront::ResponseHeadersPolicy")
    security = headers["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]

    assert manifest["Chat-prod-web-certificate"]["environment"] == f"aws://{ACCOUNT}/us-east-1"
    assert manifest["Chat-prod"]["environment"] == f"aws://{ACCOUNT}/{REGION}"
    assert "Chat-prod-web-certificate" in manifest["Chat-prod"]["dependencies"]
    assert certificate["DomainName"] == "web.chat.example.com"
    assert certificate["DomainValidationOptions"] == [
        {"DomainName": "web.chat.example.com", "HostedZoneId": ZONE["hosted_zone_id"]}
    ]
    assert distribution["DistributionConfig"]["Aliases"] == ["web.chat.example.com"]
    assert viewer["AcmCertificateArn"]["Fn::GetStackOutput"]["StackName"] == "Chat-prod-web-certificate"
    assert viewer["AcmCertificateArn"]["Fn::GetStackOutput"]["Region"] == "us-east-1"
    assert (viewer["MinimumProtocolVersion"], viewer["SslSupportMethod"]) == ("TLSv1.2_2021", "sni-only")
    for record_type in ("A", "AAAA"):
        alias = records[("web.chat.example.com.", record_type)]["AliasTarget"]
        assert render(alias["DNSName"]) == f"<{distribution_id}.DomainName>"
        # CloudFront's alias zone, per partition (Route 53 developer guide, "Routing traffic to CloudFront").
        assert alias["HostedZoneId"]["Fn::FindInMap"][0] == "AWSCloudFrontPartitionHostedZoneIdMap"
    assert outputs(template)["WebUrl"] == "https://web.chat.example.com"
    policy = render(security["ContentSecurityPolicy"]["ContentSecurityPolicy"])
    # prod signs in: the page may also reach Cognito in the stage's Region
    assert "connect-src 'self' wss://chat.example.com https://cognito-idp.eu-west-1.amazonaws.com/;" in policy


def test_a_stage_on_its_domain_synthesizes_cdk_nag_and_cfn_lint_clean(in_zone, with_certificates):
    for synthesis, stacks in (
        (in_zone, ("Chat-prod", "Chat-prod-web-certificate")),
        (with_certificates, ("Chat-prod",)),
    ):
        assert synthesis.validation_error is None
        assert synthesis.findings() == []
        for stack in stacks:
            errors = [m for m in lint_file(synthesis.template_path(stack)) if m.rule.id.startswith("E")]
            assert errors == [], stack


def test_with_the_zone_elsewhere_the_given_certificates_are_used_and_the_dns_targets_are_output(with_certificates):
    template = with_certificates.template("Chat-prod")
    domain_id, domain = only(template, "AWS::ApiGatewayV2::DomainName")
    distribution_id, distribution = only(template, "AWS::CloudFront::Distribution")

    assert [a["environment"] for a in with_certificates.manifest["artifacts"].values() if "environment" in a] == [
        "aws://unknown-account/unknown-region"  # one stack, no account or Region needed
    ]
    assert resources(template, "AWS::CertificateManager::Certificate") == {}
    assert resources(template, "AWS::Route53::RecordSet") == {}
    assert domain["DomainNameConfigurations"][0]["CertificateArn"] == API_CERTIFICATE
    assert distribution["DistributionConfig"]["ViewerCertificate"]["AcmCertificateArn"] == WEB_CERTIFICATE
    assert outputs(template)["DomainTarget"] == f"<{domain_id}.RegionalDomainName>"
    assert outputs(template)["WebDomainTarget"] == f"<{distribution_id}.DomainName>"
    assert outputs(template)["WebSocketUrl"] == "wss://chat.example.com"


def test_the_local_runtime_serves_the_stage_without_its_account_region_and_domain(tmp_path):
    context = {**prod_with(account=ACCOUNT, region=REGION, domain=ZONE), LOCAL_CONTEXT: "true"}

    synthesis = synthesize_app(tmp_path, context=context)

    stacks = {name: a for name, a in synthesis.manifest["artifacts"].items() if a["type"].endswith(":stack")}
    assert {name: a["environment"] for name, a in stacks.items()} == {
        "Chat-prod": "aws://unknown-account/unknown-region"
    }
    assert resources(synthesis.template("Chat-prod"), "AWS::ApiGatewayV2::DomainName") == {}
    assert json.dumps(synthesis.template("Chat-prod")).count(REGION) == 0
