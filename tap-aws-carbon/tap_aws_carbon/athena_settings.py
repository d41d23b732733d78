"""Settings of the Athena engine for cur_usage_daily, and the rules a JSON schema cannot state."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from carbon_taps_shared.config import endpoint_problem
from singer_sdk import typing as th

ENGINES = ("local", "athena")
DEFAULT_CATALOG = "AwsDataCatalog"
# Athena's own default DML timeout is 30 minutes (Service Quotas, "DML query timeout").
DEFAULT_QUERY_TIMEOUT_MINUTES = 30
# Names Glue and Athena accept for databases and tables (lower case, digits, `_`).
_NAME = re.compile(r"^[A-Za-z0-9_]{1,255}$")


def athena_settings() -> list[th.Property]:
    """The settings block of the Athena engine (the tap's config schema includes it)."""
    return [
        th.Property(
            "cur_engine",
            th.StringType,
            default="local",
            allowed_values=list(ENGINES),
            description="Where cur_usage_daily aggregates the CUR: `local` (DuckDB on the "
            "machine running the tap, files read from cur_uri) or `athena` (one query per "
            "billing period in Amazon Athena over the CUR's Athena table; cur_uri still names "
            "the report, whose manifests say which periods changed).",
        ),
        th.Property(
            "athena_database",
            th.StringType,
            description="Glue database of the CUR table (the legacy CUR Athena integration "
            "names it athenacurcfn_<report>). Required with cur_engine: athena.",
        ),
        th.Property(
            "athena_table",
            th.StringType,
            description="The CUR table: partitioned by year/month (legacy CUR) or "
            "billing_period (CUR 2.0). Required with cur_engine: athena.",
        ),
        th.Property(
            "athena_workgroup",
            th.StringType,
            default="primary",
            description="Athena workgroup the queries run in; its BytesScannedCutoffPerQuery "
            "caps every query on AWS's side too.",
        ),
        th.Property(
            "athena_output_location",
            th.StringType,
            description="s3://bucket/prefix/ where Athena writes query results; leave unset "
            "when the workgroup sets (or enforces) its own.",
        ),
        th.Property(
            "athena_catalog",
            th.StringType,
            default=DEFAULT_CATALOG,
            description="Athena data catalog of athena_database. The tap reads the table's "
            "columns and partitions from the Glue Data Catalog of its own account in "
            "athena_region, so a catalog of another account is not supported.",
        ),
        th.Property(
            "athena_region",
            th.StringType,
            description="Region of the Athena workgroup and Glue catalog. Default: aws_region.",
        ),
        th.Property(
            "athena_max_bytes_scanned_per_query",
            th.IntegerType(minimum=0),
            default=0,
            description="Stop (StopQueryExecution) and fail a query whose scanned bytes pass "
            "this, read from the query's own statistics while it runs; 0 = no cap. Athena "
            "bills per byte scanned.",
        ),
        th.Property(
            "athena_query_timeout_minutes",
            th.NumberType,
            default=DEFAULT_QUERY_TIMEOUT_MINUTES,
            description="Cancel and fail a query still queued or running after this long.",
        ),
        th.Property(
            "athena_endpoint_url",
            th.StringType,
            description="Override the Athena endpoint (private endpoints, tests).",
        ),
        th.Property(
            "glue_endpoint_url",
            th.StringType,
            description="Override the Glue endpoint (private endpoints, tests).",
        ),
    ]


def athena_setting_errors(config: Mapping[str, Any]) -> list[str]:
    """One message per wrong Athena setting, saying what to set."""
    errors = []
    for name in ("athena_endpoint_url", "glue_endpoint_url"):
        problem = endpoint_problem(name, config.get(name))
        if problem:
            errors.append(problem)
    if config.get("cur_engine", "local") != "athena":
        return errors
    for name in ("athena_database", "athena_table"):
        value = config.get(name)
        if not value:
            errors.append(f"cur_engine athena needs {name} (the CUR's Glue database and table)")
        elif not _NAME.match(str(value)):
            errors.append(f"{name} must be a Glue name (letters, digits and _), not {value!r}")
    output = config.get("athena_output_location")
    if output and not str(output).startswith("s3://"):
        errors.append("athena_output_location must be an s3://bucket/prefix/ URI")
    timeout = config.get("athena_query_timeout_minutes")
    if timeout is not None and float(timeout) <= 0:
        errors.append("athena_query_timeout_minutes must be more than 0")
    if not config.get("cur_uri"):
        errors.append(
            "cur_engine athena needs cur_uri too: the report's manifests there say which "
            "billing periods changed"
        )
    return errors
