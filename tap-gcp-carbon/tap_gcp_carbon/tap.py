"""tap-gcp-carbon: the Google Cloud Carbon Footprint export and billing usage as Singer streams."""

from __future__ import annotations

from carbon_taps_shared.config import endpoint_problem
from carbon_taps_shared.listsettings import repeats
from carbon_taps_shared.settings import FirstMonth, LookBack, history_settings, resilience_settings
from carbon_taps_shared.tapbase import CarbonTap, TapUserError
from singer_sdk import Stream
from singer_sdk import typing as th

from tap_gcp_carbon.identifiers import check_project, check_table, dataset_ref, table_ref
from tap_gcp_carbon.services import GcpServices
from tap_gcp_carbon.streams import BillingUsageDailyStream, CarbonFootprintStream

CARBON_HISTORY_START = "2021-01-01"  # the earliest month a Carbon Footprint backfill delivers
MIN_BYTES_BILLED = 10 * 1024 * 1024  # BigQuery bills at least 10 MB per query
DEFAULT_BYTES_BILLED = 10 * 1024**3  # 10 GiB: ~USD 0.06 on demand; the carbon table bills 10 MB


class TapGcpCarbon(CarbonTap[GcpServices]):
    """Reads BigQuery with google-cloud-bigquery; auth is google-auth (key, ADC, impersonation)."""

    name = "tap-gcp-carbon"
    provider = "gcp"

    config_jsonschema = th.PropertiesList(
        th.Property(
            "credentials_path",
            th.StringType,
            description="Path to a service-account key file. Leave unset (with credentials_json) "
            "to use Application Default Credentials.",
        ),
        th.Property(
            "credentials_json",
            th.StringType,
            secret=True,
            description="The service-account key file's content, for secret stores.",
        ),
        th.Property(
            "impersonate_service_account",
            th.StringType,
            description="Service account e-mail to impersonate on top of the base credentials "
            "(needs roles/iam.serviceAccountTokenCreator on it).",
        ),
        th.Property(
            "project_id",
            th.StringType,
            description="Project that runs and pays for the queries (BigQuery Job User). "
            "Default: the key's or ADC's project.",
        ),
        th.Property(
            "location",
            th.StringType,
            description="BigQuery job location (e.g. `US`, `EU`, `europe-west1`): the datasets'.",
        ),
        th.Property(
            "api_endpoint",
            th.StringType,
            description="Override the BigQuery API endpoint (private endpoints, tests).",
        ),
        th.Property(
            "carbon_footprint_dataset",
            th.StringType,
            description="Dataset of the Carbon Footprint export (`dataset` or `project.dataset`).",
        ),
        th.Property(
            "carbon_footprint_table",
            th.StringType,
            default="carbon_footprint",
            description="Table of the Carbon Footprint export in that dataset.",
        ),
        th.Property(
            "billing_account_ids",
            th.ArrayType(th.StringType),
            description="Only these billing accounts (XXXXXX-XXXXXX-XXXXXX). Default: all rows.",
        ),
        *history_settings(
            FirstMonth(
                "start_month",
                "First month to read on a first run (YYYY-MM-DD; the day is ignored); "
                "billing_usage_daily also never reads usage before it.",
                default=CARBON_HISTORY_START,
            ),
            LookBack(
                "Months before the carbon_footprint bookmark re-read each run, because Google "
                "rewrites a month when it is backfilled.",
                default=3,
                maximum=36,
            ),
        ),
        th.Property(
            "include_zero_emissions",
            th.BooleanType,
            default=True,
            description="Keep rows whose every scope is zero (false filters them in the query).",
        ),
        th.Property(
            "carbon_footprint_uri",
            th.StringType,
            description="Read carbon_footprint from exported files (NDJSON, CSV or Parquet, "
            "optionally .gz) in this local folder instead of BigQuery.",
        ),
        th.Property(
            "billing_export_table",
            th.StringType,
            description="Standard billing export table (`dataset.table` or "
            "`project.dataset.table`). Enables the billing_usage_daily stream.",
        ),
        th.Property(
            "maximum_bytes_billed",
            th.IntegerType(minimum=MIN_BYTES_BILLED),
            default=DEFAULT_BYTES_BILLED,
            description="Fail any query that would bill more bytes than this (BigQuery's own "
            "guard; 10 MB minimum).",
        ),
        *resilience_settings(default_rps=10.0),
    ).to_dict()

    def setting_errors(self) -> list[str]:
        """Rules a JSON schema cannot state, reported as what to change."""
        config = self.config
        errors: list[str] = []
        if config.get("credentials_path") and config.get("credentials_json"):
            errors.append("set credentials_path or credentials_json, not both")
        has_dataset = bool(config.get("carbon_footprint_dataset"))
        has_uri = bool(config.get("carbon_footprint_uri"))
        if has_dataset and has_uri:
            errors.append(
                "set carbon_footprint_dataset (BigQuery) or carbon_footprint_uri (files), not both"
            )
        problem = endpoint_problem("api_endpoint", config.get("api_endpoint"))
        if problem:
            errors.append(problem)
        # Compared as BigQuery compares text (exactly), like the query's IN filter.
        errors += repeats("billing_account_ids", config.get("billing_account_ids"))
        default_project = config.get("project_id") or "default-project"
        checks = [
            ("project_id", lambda v: check_project(v, "project_id")),
            (
                "carbon_footprint_dataset",
                lambda v: dataset_ref(v, default_project, "carbon_footprint_dataset"),
            ),
            ("carbon_footprint_table", lambda v: check_table(v, "carbon_footprint_table")),
            (
                "billing_export_table",
                lambda v: table_ref(v, default_project, "billing_export_table"),
            ),
        ]
        for name, check in checks:
            if config.get(name):
                try:
                    check(config[name])
                except TapUserError as exc:
                    errors.append(str(exc))
        return errors

    def build_services(self) -> GcpServices:
        """The run's services, with the BigQuery reader every stream of the run shares."""
        return GcpServices(self.config, self.logger, self.name)

    def discover_streams(self) -> list[Stream]:
        """Every stream, whatever is configured: a run skips those with nothing to read."""
        return [
            CarbonFootprintStream(self, self.services),
            BillingUsageDailyStream(self, self.services),
        ]

    def source_missing(self, stream_name: str) -> str | None:
        """Each stream names the setting that gives it a table or folder to read."""
        config = self.config
        if stream_name == CarbonFootprintStream.name and not (
            config.get("carbon_footprint_dataset") or config.get("carbon_footprint_uri")
        ):
            return (
                "neither carbon_footprint_dataset (BigQuery) nor carbon_footprint_uri (exported "
                "files) is set; set one to read the Carbon Footprint export"
            )
        if stream_name == BillingUsageDailyStream.name and not config.get("billing_export_table"):
            return "billing_export_table is not set; set it to read the standard billing export"
        return None


if __name__ == "__main__":
    TapGcpCarbon.cli()
