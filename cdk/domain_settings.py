"""A stage's own domain (``domain`` in cdk.json), validated before synth; no AWS lookup is needed to use it.

Either the stage's Route 53 hosted zone is given (``hosted_zone_id``, ``hosted_zone_name``): the stack creates
DNS-validated certificates and the DNS records itself; or the zone is elsewhere, and the certificates are given
(``certificate_arn`` in the stage's Region for the WebSocket API, ``web_certificate_arn`` in us-east-1 for the web
client's CloudFront distribution): the stack outputs the host names the DNS records must point to.
"""

import re
from dataclasses import dataclass, fields
from typing import Any

# CloudFront takes certificates from us-east-1 only (CloudFront developer guide, "Requirements for using SSL/TLS
# certificates with CloudFront").
CLOUDFRONT_CERTIFICATE_REGION = "us-east-1"
WEB_SUBDOMAIN = "web"  # the web client is served on web.<name>: one host name cannot front API Gateway and CloudFront
_HOST_NAME = re.compile(r"(?=.{4,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}")
_HOSTED_ZONE_ID = re.compile(r"Z[A-Z0-9]{1,31}")
_CERTIFICATE_ARN = re.compile(r"arn:aws[a-z-]*:acm:(?P<region>[a-z]{2}(-[a-z]+)+-\d):\d{12}:certificate/[0-9a-f-]+")


@dataclass(frozen=True, kw_only=True)
class DomainSettings:
    name: str
    hosted_zone_id: str | None = None
    hosted_zone_name: str | None = None
    certificate_arn: str | None = None
    web_certificate_arn: str | None = None

    @property
    def in_hosted_zone(self) -> bool:
        """The stack manages certificates and DNS records in the stage's Route 53 hosted zone."""
        return self.hosted_zone_id is not None

    @property
    def web_name(self) -> str:
        return f"{WEB_SUBDOMAIN}.{self.name}"

    def problems(self, *, account: str | None, region: str | None) -> list[str]:
        """What is wrong with these settings for a stage in ``account`` and ``region`` (None: not named)."""
        if not isinstance(self.name, str) or not _HOST_NAME.fullmatch(self.name):
            return [f"domain.name must be a lower-case host name like chat.example.com, got {self.name!r}"]
        zone = (self.hosted_zone_id, self.hosted_zone_name)
        certificates = (self.certificate_arn, self.web_certificate_arn)
        by_zone, by_certificates = all(zone) and not any(certificates), all(certificates) and not any(zone)
        if not (by_zone or by_certificates):
            return [
                "domain needs either hosted_zone_id and hosted_zone_name (the stack creates certificates and DNS "
                "records in that Route 53 zone) or certificate_arn and web_certificate_arn (the zone is elsewhere)"
            ]
        if by_zone:
            return self._zone_problems(account=account, region=region)
        return self._certificate_problems(region=region)

    def _zone_problems(self, *, account: str | None, region: str | None) -> list[str]:
        problems = []
        if not _HOSTED_ZONE_ID.fullmatch(str(self.hosted_zone_id)):
            problems.append(
                f"domain.hosted_zone_id must be a Route 53 zone id like Z0123456789ABC, got {self.hosted_zone_id!r}"
            )
        if not self.name.endswith(f".{self.hosted_zone_name}") and self.name != self.hosted_zone_name:
            problems.append(f"domain.name {self.name} is not in the hosted zone {self.hosted_zone_name}")
        if not (account and region):
            problems.append(
                "a domain in a hosted zone needs the stage's account and region: the web client's certificate is "
                f"created in {CLOUDFRONT_CERTIFICATE_REGION} by a stack of its own in that account"
            )
        return problems

    def _certificate_problems(self, *, region: str | None) -> list[str]:
        problems = []
        api, web = (_CERTIFICATE_ARN.fullmatch(str(arn)) for arn in (self.certificate_arn, self.web_certificate_arn))
        if not api:
            problems.append(f"domain.certificate_arn must be an ACM certificate ARN, got {self.certificate_arn!r}")
        elif region and api["region"] != region:
            problems.append(f"domain.certificate_arn must be in the stage's region {region}, not {api['region']}")
        if not web:
            problems.append(
                f"domain.web_certificate_arn must be an ACM certificate ARN, got {self.web_certificate_arn!r}"
            )
        elif web["region"] != CLOUDFRONT_CERTIFICATE_REGION:
            problems.append(
                f"domain.web_certificate_arn must be in {CLOUDFRONT_CERTIFICATE_REGION} (CloudFront's): {web['region']}"
            )
        return problems


def load_domain(settings: Any) -> DomainSettings | None:
    """``domain`` of a stage: absent or null for none."""
    if settings is None:
        return None
    if not isinstance(settings, dict):
        raise TypeError("'domain' must be an object with name and either the hosted zone or the certificates")
    known = {field.name for field in fields(DomainSettings)}
    unknown = sorted(set(settings) - known)
    if unknown or "name" not in settings:
        raise TypeError(
            f"domain: {', '.join(unknown) or 'name'} {'is not a known setting' if unknown else 'is missing'}"
        )
    return DomainSettings(**settings)
