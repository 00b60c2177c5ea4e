"""The stage's WebSocket API on a domain of its own: a certificate, API Gateway's domain name, the mapping of the
stage to it, and the DNS alias, so that clients connect to ``wss://<name>``.

Only clients use the domain. The functions and the fan-out post to @connections on the API's own execute-api host
(cdk/websocket_api.py: ``callback_url``), which stays enabled.
"""

from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_route53 as route53
from aws_cdk import aws_route53_targets as targets
from constructs import Construct

from cdk.domain_settings import DomainSettings


def hosted_zone(scope: Construct, domain: DomainSettings) -> route53.IHostedZone | None:
    """The stage's Route 53 zone, from its id and name in cdk.json (no lookup at synth); None when it is elsewhere."""
    if not domain.in_hosted_zone:
        return None
    return route53.HostedZone.from_hosted_zone_attributes(
        scope, "HostedZone", hosted_zone_id=domain.hosted_zone_id, zone_name=domain.hosted_zone_name
    )


class ChatDomain(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        domain: DomainSettings,
        zone: route53.IHostedZone | None,
        api: apigwv2.WebSocketApi,
        stage: apigwv2.WebSocketStage,
    ) -> None:
        """``zone``: where the certificate is validated and the alias created; None: ``domain.certificate_arn`` is
        used and the DNS record is left to whoever holds the zone (``dns_target``)."""
        super().__init__(scope, construct_id)
        certificate = (
            acm.Certificate(
                self, "Certificate", domain_name=domain.name, validation=acm.CertificateValidation.from_dns(zone)
            )
            if zone
            else acm.Certificate.from_certificate_arn(self, "Certificate", domain.certificate_arn)
        )
        # Regional: a WebSocket API's custom domain can be regional only (API Gateway developer guide, "Custom
        # domain names for WebSocket APIs").
        self.domain_name = apigwv2.DomainName(
            self,
            "Name",
            domain_name=domain.name,
            certificate=certificate,
            endpoint_type=apigwv2.EndpointType.REGIONAL,
            security_policy=apigwv2.SecurityPolicy.TLS_1_2,
        )
        # No mapping key: the stage is the domain's root, wss://<name> (not wss://<name>/<stage>).
        apigwv2.ApiMapping(self, "Mapping", api=api, domain_name=self.domain_name, stage=stage)
        if zone:
            route53.ARecord(
                self,
                "Alias",
                zone=zone,
                record_name=domain.name,
                target=route53.RecordTarget.from_alias(
                    targets.ApiGatewayv2DomainProperties(
                        self.domain_name.regional_domain_name, self.domain_name.regional_hosted_zone_id
                    )
                ),
            )
        self.url = f"wss://{domain.name}"
        # What a CNAME of the name must point to when the zone is elsewhere.
        self.dns_target = self.domain_name.regional_domain_name
