"""The standard billing export, aggregated per usage day inside BigQuery.

Two queries per run. The first finds the usage days that received rows exported since the
bookmark (`export_time` only grows; usage time does not: credits and late usage keep arriving for
past hours). The second re-aggregates those whole days, so a day's record is always complete and
re-emitting it upserts. Both prune partitions with constant parameters where the table's
partitioning allows.
"""

from __future__ import annotations

from typing import Any

from singer_sdk import typing as th

from tap_gcp_carbon.identifiers import TableRef

# Columns the aggregation reads (dotted paths, as in tables.get).
REQUIRED = (
    "billing_account_id",
    "project.id",
    "project.number",
    "service.id",
    "service.description",
    "sku.id",
    "sku.description",
    "location.location",
    "location.region",
    "usage.amount",
    "usage.unit",
    "usage_start_time",
    "cost",
    "currency",
    "credits.amount",
    "export_time",
)
KEY = (
    "usage_date",
    "billing_account_id",
    "project_key",
    "service_id",
    "sku_id",
    "location_key",
    "usage_unit",
    "currency",
)
DIMENSIONS = (
    ("usage_date", "CAST(b.usage_start_time AS DATE)"),
    ("billing_account_id", "b.billing_account_id"),
    ("project_id", "b.project.id"),
    ("project_number", "b.project.number"),
    ("service_id", "b.service.id"),
    ("service_description", "b.service.description"),
    ("sku_id", "b.sku.id"),
    ("sku_description", "b.sku.description"),
    ("location", "b.location.location"),
    ("region", "b.location.region"),
    ("usage_unit", "b.usage.unit"),
    ("currency", "b.currency"),
)


def changed_days_query(ref: TableRef, *, partition_guard: bool) -> str:
    """SQL counting, per usage day, billing rows exported since the bookmark."""
    guard = "\n  AND b._PARTITIONTIME >= @partition_floor" if partition_guard else ""
    return (
        "SELECT CAST(b.usage_start_time AS DATE) AS usage_date, COUNT(*) AS new_rows\n"
        f"FROM {ref.sql} AS b\n"
        f"WHERE b.export_time >= @since{guard}\n"
        "  AND b.usage_start_time >= @first_usage\n"
        "GROUP BY usage_date\nORDER BY usage_date"
    )


def aggregate_query(ref: TableRef, *, partition_guard: bool) -> str:
    """Whole usage days. Rows of day D are exported (loaded) on or after D, so with
    ingestion-time partitioning the partitions before D minus some slack cannot hold them."""
    dims = ",\n".join(f"  {expr} AS {name}" for name, expr in DIMENSIONS)
    group = ", ".join(str(i) for i in range(1, len(DIMENSIONS) + 1))
    guard = "\n  AND b._PARTITIONTIME >= @partition_floor" if partition_guard else ""
    return (
        f"SELECT\n{dims},\n"
        "  SUM(b.usage.amount) AS usage_amount,\n"
        "  SUM(b.cost) AS cost,\n"
        "  COALESCE(SUM((SELECT SUM(c.amount) FROM UNNEST(b.credits) AS c)), 0)"
        " AS credits_amount,\n"
        "  COUNT(*) AS source_row_count,\n"
        "  MAX(b.export_time) AS last_export_time\n"
        f"FROM {ref.sql} AS b\n"
        "WHERE b.usage_start_time >= @first_day_ts\n"
        "  AND CAST(b.usage_start_time AS DATE) IN UNNEST(@days)"
        f"{guard}\n"
        f"GROUP BY {group}\n"
        "ORDER BY last_export_time, usage_date"
    )


def schema() -> dict[str, Any]:
    """The stream's JSON schema."""
    s, n = th.StringType, th.NumberType
    return th.PropertiesList(
        th.Property("usage_date", th.DateType, required=True, description="UTC day of usage."),
        th.Property("billing_account_id", s, required=True),
        th.Property("project_id", s, description="Project id; NULL for no project."),
        th.Property("project_number", s, description="Project number (text)."),
        th.Property("service_id", s, required=True),
        th.Property("service_description", s),
        th.Property("sku_id", s, required=True),
        th.Property("sku_description", s, description="What CCF-style models classify on."),
        th.Property("location", s, description="`location.location` (`global` if none)."),
        th.Property("region", s, description="`location.region`; NULL for multi-regions."),
        th.Property("usage_unit", s, required=True, description="`usage.unit` (base unit)."),
        th.Property("usage_amount", n, description="Sum of `usage.amount` in usage_unit."),
        th.Property("cost", n, description="Sum of `cost` (before credits), in currency."),
        th.Property(
            "credits_amount",
            n,
            description="Sum of all `credits[].amount` (negative); net = cost + credits_amount.",
        ),
        th.Property("currency", s, required=True),
        th.Property("source_row_count", th.IntegerType, description="Export rows aggregated."),
        th.Property(
            "last_export_time",
            th.DateTimeType,
            required=True,
            description="Latest `export_time` among the day's rows: the replication key.",
        ),
        th.Property(
            "project_key",
            s,
            required=True,
            description="Key part: project_number, else project_id, else '' (no project).",
        ),
        th.Property(
            "location_key",
            s,
            required=True,
            description="Key part: location, else region, else ''.",
        ),
    ).to_dict()
