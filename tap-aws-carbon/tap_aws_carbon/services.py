"""What one run of tap-aws-carbon builds once and hands to its streams.

The clients live here rather than in method caches on the tap, so they last as long as the run's
services object and no longer, and the streams never reach back into the tap for them.
"""

from __future__ import annotations

from functools import cached_property

from carbon_taps_shared.ratelimit import TokenBucket
from carbon_taps_shared.services import RunServices

from tap_aws_carbon.athena_client import AthenaQueries
from tap_aws_carbon.auth import make_session
from tap_aws_carbon.client import SustainabilityClient, build_client
from tap_aws_carbon.cur_athena import AthenaEngine
from tap_aws_carbon.sources import ExportSource, LocalSource, S3Source


class AwsServices(RunServices):
    """The run's policy, pacer and telemetry, plus one AWS client per stream."""

    def sustainability_client(self, stream: str) -> SustainabilityClient:
        """One Sustainability client per stream, built with the run's policy and pacer."""
        return self.once(
            ("sustainability_client", stream),
            lambda: SustainabilityClient(
                self.config,
                policy=self.retry_policy,
                limiter=self.rate_limiter,
                telemetry=self.telemetry,
                stream=stream,
            ),
        )

    def export_source(self, stream: str, setting: str = "carbon_export_uri") -> ExportSource:
        """The export source a URI setting names, one per stream: a local folder or an S3
        prefix."""
        return self.once(
            ("export_source", stream, setting), lambda: self._build_export_source(stream, setting)
        )

    def _build_export_source(self, stream: str, setting: str) -> ExportSource:
        uri = self.config[setting]
        if not uri.startswith("s3://"):
            return LocalSource(uri, setting)
        client = build_client(
            "s3",
            self.config,
            self.config.get("s3_endpoint_url"),
            policy=self.retry_policy,
            # max_requests_per_second paces the Sustainability API (2/s); S3 serves thousands
            # of GETs per second per prefix, so export and CUR reads are not paced.
            limiter=TokenBucket(0),
            telemetry=self.telemetry,
            stream=stream,
        )
        return S3Source(uri, client, setting)

    def athena_engine(self, stream: str) -> AthenaEngine:
        """The Athena route of cur_usage_daily (cur_engine: athena): one engine, and so one Glue
        table lookup, per stream and run."""
        return self.once(("athena_engine", stream), lambda: self._build_athena_engine(stream))

    def _build_athena_engine(self, stream: str) -> AthenaEngine:
        queries = AthenaQueries(
            self.config,
            policy=self.retry_policy,
            telemetry=self.telemetry,
            stream=stream,
            logger=self.logger,
        )
        return AthenaEngine(queries, self.config.get("cur_include_tags") or [], stream)

    @cached_property
    def api_credentials_found(self) -> bool:
        """Credentials are set, or botocore's default chain finds some (environment, shared
        files, SSO, container or instance role); resolved once per run."""
        config = self.config
        if any(config.get(k) for k in ("aws_access_key_id", "aws_profile", "role_arn")):
            return True  # configured: a wrong one fails in the stream, in one line
        try:
            return make_session(config).get_credentials() is not None
        except Exception:  # a broken chain is the stream's error to report, in one line
            self.logger.debug("Credential lookup failed", exc_info=True)
            return True
