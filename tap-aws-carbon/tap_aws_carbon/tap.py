"""tap-aws-carbon: AWS provider-reported carbon emissions as Singer streams."""

from __future__ import annotations

from datetime import date

from carbon_taps_shared.config import endpoint_problem
from carbon_taps_shared.listsettings import repeats
from carbon_taps_shared.settings import FirstMonth, LookBack, history_settings, resilience_settings
from carbon_taps_shared.tapbase import CarbonTap
from singer_sdk import Stream
from singer_sdk import typing as th

from tap_aws_carbon.athena_settings import athena_setting_errors, athena_settings
from tap_aws_carbon.cur_stream import CurUsageDailyStream
from tap_aws_carbon.export_stream import CarbonEmissionsExportStream
from tap_aws_carbon.services import AwsServices
from tap_aws_carbon.streams import CarbonEmissionsStream, WaterAllocationStream

API_HISTORY_START = "2022-01-01"  # the Sustainability API serves months from January 2022


class TapAwsCarbon(CarbonTap[AwsServices]):
    """Reads the AWS Sustainability API with boto3; auth is botocore's default chain or settings."""

    name = "tap-aws-carbon"
    provider = "aws"

    config_jsonschema = th.PropertiesList(
        *history_settings(
            FirstMonth(
                "start_date",
                "First month to read on a first run (YYYY-MM-DD; the day is ignored). The API "
                "has data from 2022-01.",
                default=API_HISTORY_START,
            ),
            LookBack(
                "Months before the bookmark to read again on each run, because AWS restates "
                "recent months.",
                default=3,
                maximum=36,
            ),
            end_description="Stop before this month (exclusive; YYYY-MM-DD, day ignored). "
            "Default: the current month, which cannot have data yet.",
        ),
        th.Property(
            "water_lookback_years",
            th.IntegerType(minimum=0, maximum=5),
            default=1,
            description="Calendar years before the water_allocation bookmark to read again on "
            "each run, because AWS may restate past years with a new model version.",
        ),
        th.Property(
            "aws_region",
            th.StringType,
            default="us-east-1",
            description="Region of the Sustainability API endpoint (the API is served from "
            "us-east-1 for all commercial regions' data).",
        ),
        th.Property(
            "aws_access_key_id",
            th.StringType,
            secret=True,
            description="Access key id. Leave unset to use the default credential chain "
            "(environment, shared config, SSO, instance or container role).",
        ),
        th.Property(
            "aws_secret_access_key",
            th.StringType,
            secret=True,
            description="Secret access key, with aws_access_key_id.",
        ),
        th.Property(
            "aws_session_token",
            th.StringType,
            secret=True,
            description="Session token, for temporary credentials.",
        ),
        th.Property(
            "aws_profile",
            th.StringType,
            description="Named profile from the shared AWS config/credentials files.",
        ),
        th.Property(
            "role_arn",
            th.StringType,
            description="IAM role to assume (STS AssumeRole) on top of the base credentials; "
            "botocore refreshes it before it expires.",
        ),
        th.Property(
            "external_id",
            th.StringType,
            secret=True,
            description="External id the role's trust policy requires, if any.",
        ),
        th.Property(
            "role_session_name",
            th.StringType,
            default="tap-aws-carbon",
            description="Session name recorded in CloudTrail for the assumed role.",
        ),
        th.Property(
            "sustainability_endpoint_url",
            th.StringType,
            description="Override the Sustainability API endpoint (private endpoints, tests).",
        ),
        th.Property(
            "carbon_export_uri",
            th.StringType,
            description="Root of a CARBON_EMISSIONS Data Export: s3://bucket/prefix/export-name "
            "or a local folder with the same layout. Enables the carbon_emissions_export stream.",
        ),
        th.Property(
            "s3_endpoint_url",
            th.StringType,
            description="Override the S3 endpoint used for carbon_export_uri and cur_uri "
            "(private endpoints, tests).",
        ),
        th.Property(
            "cur_uri",
            th.StringType,
            description="Root of a Cost and Usage Report: a legacy CUR (s3://bucket/prefix/report, "
            "holding the yyyymmdd-yyyymmdd period folders) or a CUR 2.0 export (the folder holding "
            "data/ and metadata/), or a local folder with the same layout. Enables the "
            "cur_usage_daily stream.",
        ),
        th.Property(
            "cur_include_tags",
            th.ArrayType(th.StringType),
            default=[],
            description="Resource tag keys to keep as extra dimensions of cur_usage_daily (e.g. "
            "user:team); all other tag columns are ignored.",
        ),
        th.Property(
            "cur_memory_limit_mb",
            th.IntegerType(minimum=64),
            default=256,
            description="Memory the CUR aggregation engine may use before spilling to a "
            "temporary folder.",
        ),
        *athena_settings(),
        th.Property(
            "sts_endpoint_url",
            th.StringType,
            description="Override the STS endpoint used to assume role_arn (private endpoints, "
            "tests).",
        ),
        *resilience_settings(default_rps=2.0),
    ).to_dict()

    def setting_errors(self) -> list[str]:
        """Rules a JSON schema cannot state, reported as what to change."""
        errors = []
        config = self.config
        if bool(config.get("aws_access_key_id")) != bool(config.get("aws_secret_access_key")):
            errors.append("set aws_access_key_id and aws_secret_access_key together, or neither")
        if config.get("aws_access_key_id") and config.get("aws_profile"):
            errors.append("set either explicit keys or aws_profile, not both")
        start, end = config.get("start_date"), config.get("end_date")
        if start and end and date.fromisoformat(end[:10]) <= date.fromisoformat(start[:10]):
            errors.append("end_date must be after start_date")
        role = config.get("role_arn")
        if role and not role.startswith("arn:"):
            errors.append("role_arn must be an IAM role ARN (arn:aws:iam::<account>:role/<name>)")
        for name in ("sustainability_endpoint_url", "s3_endpoint_url", "sts_endpoint_url"):
            problem = endpoint_problem(name, config.get(name))
            if problem:
                errors.append(problem)
        # Tag keys are case-sensitive in AWS (user:team and user:Team are distinct tags).
        errors += repeats("cur_include_tags", config.get("cur_include_tags"))
        errors += athena_setting_errors(config)
        return errors

    def build_services(self) -> AwsServices:
        """The run's services, with the AWS clients its streams need."""
        return AwsServices(self.config, self.logger, self.name)

    def discover_streams(self) -> list[Stream]:
        """Every stream, whatever is configured: a run skips those with nothing to read."""
        return [
            CarbonEmissionsStream(self, self.services),
            WaterAllocationStream(self, self.services),
            CarbonEmissionsExportStream(self, self.services),
            CurUsageDailyStream(self, self.services),
        ]

    def source_missing(self, stream_name: str) -> str | None:
        """The export and CUR streams need their URI; the API streams need credentials only
        where a file source is set too, so an export-only run needs no AWS identity."""
        config = self.config
        if stream_name == CarbonEmissionsExportStream.name and not config.get("carbon_export_uri"):
            return "carbon_export_uri is not set; set it to read a CARBON_EMISSIONS Data Export"
        if stream_name == CurUsageDailyStream.name and not config.get("cur_uri"):
            return "cur_uri is not set; set it to read a Cost and Usage Report"
        api_streams = (CarbonEmissionsStream.name, WaterAllocationStream.name)
        has_files = config.get("carbon_export_uri") or config.get("cur_uri")
        if stream_name in api_streams and has_files and not self.services.api_credentials_found:
            return (
                "no AWS credentials found for the Sustainability API; set aws_profile, role_arn "
                "or aws_access_key_id and aws_secret_access_key (or give botocore's default "
                "chain credentials), or deselect the stream"
            )
        return None


if __name__ == "__main__":
    TapAwsCarbon.cli()
