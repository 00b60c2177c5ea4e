"""The web client hosted with each stage (cdk/web_hosting.py): a private bucket behind CloudFront with origin access
control, HTTPS only, security headers whose Content-Security-Policy allows only the stage's WebSocket endpoint, the
stage's config.json deployed next to index.html, output WebUrl; the local runtime serves the same files."""

import json

from infra_support import PROJECT_ROOT, has_users, render, resources, stage_settings

from cdk.web_config import cognito_auth, content_security_policy, page_config
from cdk.web_hosting import NOT_SERVED

STAGE_URL = "wss://<WebSocketApi273F6915>.execute-api.<AWS::Region>.<AWS::URLSuffix>/{stage}"


def stage_page_config(template: dict, stage: str) -> dict:
    """config.json as the stage should deploy it: its endpoint, and on a stage with sign-in its pool and app client."""
    if not has_users(stage):
        return page_config(websocket_url=STAGE_URL.format(stage=stage))
    (pool_id,) = resources(template, "AWS::Cognito::UserPool")
    (client_id,) = resources(template, "AWS::Cognito::UserPoolClient")
    auth = cognito_auth(
        region="<AWS::Region>",
        user_pool_id=f"<{pool_id}>",
        client_id=f"<{client_id}>",
        self_sign_up=stage_settings(stage)["cognito"]["self_sign_up"],
    )
    return page_config(websocket_url=STAGE_URL.format(stage=stage), auth=auth)


def only(template: dict, resource_type: str) -> tuple[str, dict]:
    ((logical_id, properties),) = resources(template, resource_type).items()
    return logical_id, properties


def site_bucket(template: dict) -> tuple[str, dict]:
    """The bucket CloudFront reads (the other one holds the logs)."""
    _, distribution = only(template, "AWS::CloudFront::Distribution")
    (origin,) = distribution["DistributionConfig"]["Origins"]
    bucket_id = render(origin["DomainName"]).strip("<>").split(".")[0]
    return bucket_id, template["Resources"][bucket_id]["Properties"]


def test_the_bucket_is_private_and_read_only_by_this_distribution_through_origin_access_control(template):
    bucket_id, bucket = site_bucket(template)
    distribution_id, distribution = only(template, "AWS::CloudFront::Distribution")
    (origin,) = distribution["DistributionConfig"]["Origins"]
    policies = [p for p in resources(template, "AWS::S3::BucketPolicy").values() if p["Bucket"] == {"Ref": bucket_id}]
    (policy,) = policies
    statements = policy["PolicyDocument"]["Statement"]
    (cloudfront,) = [s for s in statements if s.get("Principal") == {"Service": "cloudfront.amazonaws.com"}]

    assert bucket["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    assert render(origin["OriginAccessControlId"]).endswith(".Id>")
    assert origin["S3OriginConfig"] == {"OriginAccessIdentity": ""}
    assert (cloudfront["Effect"], cloudfront["Action"]) == ("Allow", "s3:GetObject")
    source = render(cloudfront["Condition"]["StringEquals"]["AWS:SourceArn"])
    assert source.endswith(f":distribution/<{distribution_id}>")
    deny = [s for s in statements if s["Effect"] == "Deny"]
    assert [s["Condition"] for s in deny] == [{"Bool": {"aws:SecureTransport": "false"}}]


def test_viewers_get_content_over_https_only_with_security_headers(template, stage):
    _, distribution = only(template, "AWS::CloudFront::Distribution")
    headers_id, headers = only(template, "AWS::CloudFront::ResponseHeadersPolicy")
    behavior = distribution["DistributionConfig"]["DefaultCacheBehavior"]
    security = headers["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]

    assert behavior["ViewerProtocolPolicy"] == "redirect-to-https"  # http:// gets a redirect, never content
    assert behavior["AllowedMethods"] == ["GET", "HEAD"]
    assert render(behavior["ResponseHeadersPolicyId"]) == f"<{headers_id}>"
    assert distribution["DistributionConfig"]["DefaultRootObject"] == "index.html"
    assert security["StrictTransportSecurity"]["AccessControlMaxAgeSec"] >= 365 * 24 * 3600
    assert security["ContentTypeOptions"] == {"Override": True}
    assert security["FrameOptions"] == {"FrameOption": "DENY", "Override": True}
    assert security["ReferrerPolicy"] == {"ReferrerPolicy": "no-referrer", "Override": True}
    policy = render(security["ContentSecurityPolicy"]["ContentSecurityPolicy"])
    assert policy == content_security_policy(stage_page_config(template, stage))


def test_the_policy_lets_the_page_connect_only_to_its_stage_and_its_own_origin():
    policy = content_security_policy(page_config(websocket_url="wss://abc.execute-api.eu-west-1.amazonaws.com/dev"))
    directives = dict(directive.split(" ", 1) for directive in policy.split("; "))

    assert directives["connect-src"] == "'self' wss://abc.execute-api.eu-west-1.amazonaws.com/dev"
    assert directives["default-src"] == "'none'"
    assert directives["script-src"] == directives["style-src"] == "'self'"  # no inline script or style
    assert directives["frame-ancestors"] == "'none'"
    cognito = {"type": "cognito", "cognito_endpoint": "https://cognito-idp.eu-west-1.amazonaws.com"}
    with_sign_in = content_security_policy({**page_config(websocket_url="wss://x/dev"), "auth": cognito})
    assert "connect-src 'self' wss://x/dev https://cognito-idp.eu-west-1.amazonaws.com;" in with_sign_in


def test_the_web_files_and_the_stages_config_json_are_deployed_at_deploy_time(synth_stage, stage):
    synthesis = synth_stage(stage)
    template = synthesis.template(f"Chat-{stage}")
    bucket_id, _ = site_bucket(template)
    distribution_id, _ = only(template, "AWS::CloudFront::Distribution")
    _, deployment = only(template, "Custom::CDKBucketDeployment")

    assert render(deployment["DestinationBucketName"]) == f"<{bucket_id}>"
    assert render(deployment["DistributionId"]) == f"<{distribution_id}>"  # each deploy invalidates the old files
    assert deployment["Prune"] is True and deployment.get("RetainOnDelete") is False
    assert deployment["SystemMetadata"] == {"cache-control": "no-cache"}
    files, settings = deployment["SourceObjectKeys"]
    web_asset = next(
        synthesis.outdir / asset["source"]["path"]
        for asset in json.loads((synthesis.outdir / f"Chat-{stage}.assets.json").read_text())["files"].values()
        if asset["source"].get("packaging") == "zip"
        and (synthesis.outdir / asset["source"]["path"] / "app.js").is_file()
    )
    assert sorted(path.name for path in web_asset.iterdir()) == sorted(
        path.name for path in (PROJECT_ROOT / "web").iterdir() if path.name not in NOT_SERVED
    )
    # config.json is the JSON data source's file, each deploy-time value (the stage's URL, its pool and client) a
    # marker CDK's handler replaces with the value CloudFormation resolved (a JSON string, quotes included).
    markers = deployment["SourceMarkers"][1]
    config_asset = next(
        synthesis.outdir / asset["source"]["path"]
        for asset in json.loads((synthesis.outdir / f"Chat-{stage}.assets.json").read_text())["files"].values()
        if (synthesis.outdir / asset["source"]["path"] / "config.json").is_file()
    )
    deployed = (config_asset / "config.json").read_text()
    for marker, value in markers.items():
        deployed = deployed.replace(marker, render(value))
    assert json.loads(deployed) == stage_page_config(template, stage)
    assert len({files, settings}) == 2  # two sources: web/ and config.json


def test_logs_of_the_distribution_and_the_bucket_are_kept_as_the_stage_keeps_its_logs(template, stage):
    bucket_id, bucket = site_bucket(template)
    _, distribution = only(template, "AWS::CloudFront::Distribution")
    (logs_id,) = [logical_id for logical_id in resources(template, "AWS::S3::Bucket") if logical_id != bucket_id]
    logs = template["Resources"][logs_id]
    settings = stage_settings(stage)

    assert render(bucket["LoggingConfiguration"]["DestinationBucketName"]) == f"<{logs_id}>"
    assert render(distribution["DistributionConfig"]["Logging"]["Bucket"]) == f"<{logs_id}.RegionalDomainName>"
    assert logs["Properties"]["OwnershipControls"] == {"Rules": [{"ObjectOwnership": "BucketOwnerPreferred"}]}
    (rule,) = logs["Properties"]["LifecycleConfiguration"]["Rules"]
    assert rule["ExpirationInDays"] == settings["log_retention_days"]
    assert logs["DeletionPolicy"] == ("Retain" if settings["retain_logs"] else "Delete")


def test_web_url_is_the_distributions_address(template):
    distribution_id, _ = only(template, "AWS::CloudFront::Distribution")

    assert render(template["Outputs"]["WebUrl"]["Value"]) == f"https://<{distribution_id}.DomainName>"
