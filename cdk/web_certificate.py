"""Stack Chat-<stage>-web-certificate: the web client's certificate, for a stage with a domain in a Route 53 zone.

CloudFront takes certificates from us-east-1 only (CloudFront developer guide, "Requirements for using SSL/TLS
certificates with CloudFront"), so the certificate of web.<name> is created by a stack of its own there, in the
stage's account, and handed to Chat-<stage> by a cross-region reference (aws-cdk-lib's ``cross_region_references``,
which writes it to an SSM parameter in the stage's Region). ``make deploy`` and the pipeline deploy it first.
"""

from typing import Any

from aws_cdk import Stack
from aws_cdk import aws_certificatemanager as acm
from constructs import Construct

from cdk.custom_domain import hosted_zone
from cdk.domain_settings import DomainSettings


class WebCertificateStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, *, domain: DomainSettings, **kwargs: Any) -> None:
        super().__init__(
            scope,
            construct_id,
            description=f"Serverless chat: the web client's certificate ({domain.web_name})",
            cross_region_references=True,
            **kwargs,
        )
        self.certificate = acm.Certificate(
            self,
            "Certificate",
            domain_name=domain.web_name,
            validation=acm.CertificateValidation.from_dns(hosted_zone(self, domain)),
        )
