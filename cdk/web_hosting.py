"""The web client (web/) hosted with its stage: a private S3 bucket behind CloudFront, with the stage's settings
deployed next to index.html as config.json (cdk/web_config.py), so the page connects to its stage without anyone
typing a URL.

- The bucket blocks all public access and is read only by this distribution, through origin access control
  (CloudFront developer guide, "Restrict access to an Amazon S3 origin").
- Viewers get content over HTTPS only (http:// is answered with a redirect, and HSTS keeps browsers on https),
  with security headers: a Content-Security-Policy that lets the page connect to its stage's WebSocket endpoint and
  nothing else, nosniff, no framing, no referrer.
- On a stage with a domain, the page is served on web.<name> (one host name cannot front both API Gateway and
  CloudFront) with a us-east-1 certificate, TLS 1.2 or later.
- CloudFront's access logs and the bucket's server access logs go to a log bucket kept as the stage keeps its logs.
"""

from typing import Any

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_logs as logs
from aws_cdk import aws_route53 as route53
from aws_cdk import aws_route53_targets as targets
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_deployment as s3_deployment
from constructs import Construct

from cdk.paths import PROJECT_ROOT
from cdk.stage_config import StageConfig
from cdk.web_config import CONFIG_FILE, content_security_policy, page_config

WEB_DIR = PROJECT_ROOT / "web"
# web/package.json only tells Node the modules are ES modules (for the unit tests); browsers never ask for it.
NOT_SERVED = ["package.json"]
HSTS_MAX_AGE = Duration.days(730)


class WebClientHosting(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: StageConfig,
        websocket_url: str,
        auth: dict[str, Any] | None = None,
        certificate: acm.ICertificate | None = None,
        zone: route53.IHostedZone | None = None,
    ) -> None:
        """``certificate``: of web.<domain> (us-east-1), when the stage has a domain; ``zone``: where its alias
        goes, when the stack manages the stage's DNS; ``auth``: config.json's sign-in settings (cdk/web_config.py)."""
        super().__init__(scope, construct_id)
        settings = page_config(websocket_url=websocket_url, auth=auth)
        self.log_bucket = self._log_bucket(config)
        self.bucket = s3.Bucket(
            self,
            "Bucket",
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            server_access_logs_bucket=self.log_bucket,
            server_access_logs_prefix="bucket/",
            # Emptied by the deployment below when the stack is deleted: the bucket can go with it.
            removal_policy=RemovalPolicy.DESTROY,
        )
        web_name = config.domain.web_name if config.domain and certificate else None
        self.distribution = cloudfront.Distribution(
            self,
            "Distribution",
            comment=f"Serverless chat web client ({config.stage})",
            default_root_object="index.html",
            default_behavior=cloudfront.BehaviorOptions(
                # A fixed id: one derived from the construct's path would differ between `make deploy` and the pipeline.
                origin=origins.S3BucketOrigin.with_origin_access_control(self.bucket, origin_id="WebFiles"),
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
                allowed_methods=cloudfront.AllowedMethods.ALLOW_GET_HEAD,
                cache_policy=cloudfront.CachePolicy.CACHING_OPTIMIZED,
                response_headers_policy=self._security_headers(config, content_security_policy(settings)),
            ),
            domain_names=[web_name] if web_name else None,
            certificate=certificate if web_name else None,
            minimum_protocol_version=cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021 if web_name else None,
            price_class=cloudfront.PriceClass.PRICE_CLASS_100,
            http_version=cloudfront.HttpVersion.HTTP2_AND_3,
            enable_logging=True,
            log_bucket=self.log_bucket,
            log_file_prefix="cloudfront/",
        )
        self.deployment = s3_deployment.BucketDeployment(
            self,
            "Files",
            destination_bucket=self.bucket,
            sources=[
                s3_deployment.Source.asset(str(WEB_DIR), exclude=NOT_SERVED),
                s3_deployment.Source.json_data(CONFIG_FILE, settings),
            ],
            # Revalidated on every load (ETag), as the local runtime serves them; CloudFront's copies are
            # invalidated by each deployment.
            cache_control=[s3_deployment.CacheControl.no_cache()],
            distribution=self.distribution,
            distribution_paths=["/*"],
            retain_on_delete=False,
            memory_limit=256,
            # Kept as the stage keeps its logs, like every other log group of the stack (CDK's default keeps its
            # deploy-time function's logs for two years and past the stack's deletion).
            log_group=logs.LogGroup(
                self, "DeploymentLogs", retention=config.log_retention, removal_policy=config.log_removal_policy
            ),
        )
        if zone and web_name:
            alias = route53.RecordTarget.from_alias(targets.CloudFrontTarget(self.distribution))
            route53.ARecord(self, "Alias", zone=zone, record_name=web_name, target=alias)
            route53.AaaaRecord(self, "AliasIpv6", zone=zone, record_name=web_name, target=alias)
        self.url = f"https://{web_name or self.distribution.distribution_domain_name}"

    def _log_bucket(self, config: StageConfig) -> s3.Bucket:
        """CloudFront's standard logs need a bucket with ACLs enabled (CloudFront developer guide, "Standard logging
        (access logs)"); objects expire after the stage's log retention, and the bucket is kept like its logs."""
        retained = config.retain_logs
        return s3.Bucket(
            self,
            "Logs",
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
            lifecycle_rules=[s3.LifecycleRule(expiration=Duration.days(config.log_retention_days))],
            removal_policy=RemovalPolicy.RETAIN if retained else RemovalPolicy.DESTROY,
            auto_delete_objects=not retained,
        )

    def _security_headers(self, config: StageConfig, policy: str) -> cloudfront.ResponseHeadersPolicy:
        return cloudfront.ResponseHeadersPolicy(
            self,
            "SecurityHeaders",
            comment=f"Serverless chat web client ({config.stage}): CSP, HSTS, nosniff, no framing, no referrer",
            security_headers_behavior=cloudfront.ResponseSecurityHeadersBehavior(
                content_security_policy=cloudfront.ResponseHeadersContentSecurityPolicy(
                    content_security_policy=policy, override=True
                ),
                strict_transport_security=cloudfront.ResponseHeadersStrictTransportSecurity(
                    access_control_max_age=HSTS_MAX_AGE, include_subdomains=True, override=True
                ),
                content_type_options=cloudfront.ResponseHeadersContentTypeOptions(override=True),
                frame_options=cloudfront.ResponseHeadersFrameOptions(
                    frame_option=cloudfront.HeadersFrameOption.DENY, override=True
                ),
                referrer_policy=cloudfront.ResponseHeadersReferrerPolicy(
                    referrer_policy=cloudfront.HeadersReferrerPolicy.NO_REFERRER, override=True
                ),
            ),
        )
