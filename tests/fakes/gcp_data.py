"""Synthetic Carbon Footprint and billing export data, in the exports' documented shapes.

The demo's billing export is derived from its carbon rows by the factors stated in
`gcp_sample_factors.csv` (spend and usage per reported kgCO2e), so usage, cost and reported
emissions agree; the tests' own billing rows (`billing_rows`) are random.

The carbon rows cover the NULL rules Google documents: a deleted project (id NULL, number
kept), usage without a project (id NULL, number ''), NULL locations before model v10 and NULL
market-based figures before January 2023; some rows are all-zero.
"""

from __future__ import annotations

import csv
import json
import os
import random
import sys
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

SAMPLE_FACTORS_FILE = Path(__file__).with_name("gcp_sample_factors.csv")


def _f(name: str, kind: str, mode: str = "NULLABLE", fields: list | None = None) -> dict:
    spec: dict[str, Any] = {"name": name, "type": kind, "mode": mode}
    if fields:
        spec["fields"] = fields
    return spec


CARBON_SCHEMA = [
    _f("billing_account_id", "STRING"),
    _f("project", "RECORD", fields=[_f("id", "STRING"), _f("number", "STRING")]),
    _f("service", "RECORD", fields=[_f("id", "STRING"), _f("description", "STRING")]),
    _f("location", "RECORD", fields=[_f("location", "STRING"), _f("region", "STRING")]),
    _f("usage_month", "DATE"),
    _f(
        "carbon_footprint_kgCO2e",
        "RECORD",
        fields=[
            _f("scope1", "FLOAT"),
            _f(
                "scope2",
                "RECORD",
                fields=[_f("location_based", "FLOAT"), _f("market_based", "FLOAT")],
            ),
            _f("scope3", "FLOAT"),
        ],
    ),
    _f(
        "carbon_footprint_total_kgCO2e",
        "RECORD",
        fields=[
            _f("location_based", "FLOAT"),
            _f("market_based", "FLOAT"),
            _f("after_offsets", "FLOAT"),
        ],
    ),
    _f("carbon_model_version", "INTEGER"),
    _f("carbon_offsets_kgCO2e", "FLOAT"),
]
CARBON_PARTITIONING = {"type": "MONTH", "field": "usage_month"}

BILLING_SCHEMA = [
    _f("billing_account_id", "STRING"),
    _f("service", "RECORD", fields=[_f("id", "STRING"), _f("description", "STRING")]),
    _f("sku", "RECORD", fields=[_f("id", "STRING"), _f("description", "STRING")]),
    _f("usage_start_time", "TIMESTAMP"),
    _f("usage_end_time", "TIMESTAMP"),
    _f(
        "project",
        "RECORD",
        fields=[_f("id", "STRING"), _f("number", "STRING"), _f("name", "STRING")],
    ),
    _f(
        "location",
        "RECORD",
        fields=[
            _f("location", "STRING"),
            _f("country", "STRING"),
            _f("region", "STRING"),
            _f("zone", "STRING"),
        ],
    ),
    _f("export_time", "TIMESTAMP"),
    _f("cost", "FLOAT"),
    _f("currency", "STRING"),
    _f(
        "usage",
        "RECORD",
        fields=[
            _f("amount", "FLOAT"),
            _f("unit", "STRING"),
            _f("amount_in_pricing_units", "FLOAT"),
            _f("pricing_unit", "STRING"),
        ],
    ),
    _f(
        "credits",
        "RECORD",
        "REPEATED",
        fields=[_f("name", "STRING"), _f("amount", "FLOAT"), _f("type", "STRING")],
    ),
    _f("cost_type", "STRING"),
]
BILLING_PARTITIONING = {"type": "DAY"}  # ingestion-time: no field, filter _PARTITIONTIME

ACCOUNTS = ("01A2B3-C4D5E6-F7A8B9", "0FEDCB-A98765-432100")
PROJECTS = (
    ("carbon-web-prod", "482910375521"),
    ("carbon-batch", "109283746501"),
    (None, "774411002299"),
    (None, ""),
)  # deleted project; usage with no project
SERVICES = (
    ("6F81-5844-456A", "Compute Engine"),
    ("95FF-2EF5-5EA1", "Cloud Storage"),
    ("24E6-581D-38E5", "BigQuery"),
)
LOCATIONS = (("us-central1-a", "us-central1"), ("europe-west1", "europe-west1"), ("us", None))


def add_months(month: date, count: int) -> date:
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


def model_version(month: date) -> int:
    return 9 if month < date(2024, 1, 1) else 10 if month < date(2024, 7, 1) else 11


def carbon_rows(first: date, months: int, seed: int = 5) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    rows = []
    for i in range(months):
        month = add_months(first, i)
        for account in ACCOUNTS:
            for project_id, number in PROJECTS:
                for service in SERVICES:
                    for location, region in LOCATIONS:
                        if rng.random() < 0.35:
                            continue
                        zero = rng.random() < 0.1
                        s1 = 0.0 if zero else round(rng.uniform(0, 2), 6)
                        s2l = 0.0 if zero else round(rng.uniform(0, 40), 6)
                        s3 = 0.0 if zero else round(rng.uniform(0, 9), 6)
                        market = month >= date(2023, 1, 1)
                        s2m = (0.0 if zero else round(rng.uniform(0, 20), 6)) if market else None
                        old_null = month < date(2024, 1, 1) and location == "us"
                        rows.append(
                            {
                                "billing_account_id": account,
                                "project": {"id": project_id, "number": number},
                                "service": {"id": service[0], "description": service[1]},
                                "location": {
                                    "location": None if old_null else location,
                                    "region": region,
                                },
                                "usage_month": month,
                                "carbon_footprint_kgCO2e": {
                                    "scope1": s1,
                                    "scope2": {"location_based": s2l, "market_based": s2m},
                                    "scope3": s3,
                                },
                                "carbon_footprint_total_kgCO2e": {
                                    "location_based": s1 + s2l + s3,
                                    "market_based": None if s2m is None else s1 + s2m + s3,
                                    "after_offsets": None,
                                },
                                "carbon_model_version": model_version(month),
                                "carbon_offsets_kgCO2e": None,
                            }
                        )
    return rows


SKUS = (
    (
        "6F81-5844-456A",
        "Compute Engine",
        "CP-COMPUTEENGINE-VMIMAGE-N2-CPU",
        "N2 Instance Core",
        "seconds",
    ),
    ("6F81-5844-456A", "Compute Engine", "CP-N2-RAM", "N2 Instance Ram", "byte-seconds"),
    ("95FF-2EF5-5EA1", "Cloud Storage", "E5F0-6A5D-7BAD", "Standard Storage", "byte-seconds"),
)


def billing_rows(
    first_day: date, days: int, seed: int = 11, export_delay_hours: int = 6
) -> list[dict[str, Any]]:
    """Hourly-ish rows (every 6 h) per project x SKU; each exported `export_delay_hours` later,
    in batches that share one export_time (the hour of export)."""
    rng = random.Random(seed)
    rows = []
    for d in range(days):
        day = first_day + timedelta(days=d)
        for hour in range(0, 24, 6):
            start = datetime(day.year, day.month, day.day, hour, tzinfo=UTC)
            for project_id, number in PROJECTS[:3]:
                for service_id, service, sku_id, sku, unit in SKUS:
                    credits = []
                    if rng.random() < 0.3:
                        credits = [
                            {
                                "name": "Sustained use discount",
                                "type": "SUSTAINED_USAGE_DISCOUNT",
                                "amount": -round(rng.uniform(0, 0.5), 4),
                            }
                        ]
                    rows.append(
                        {
                            "billing_account_id": ACCOUNTS[0],
                            "service": {"id": service_id, "description": service},
                            "sku": {"id": sku_id, "description": sku},
                            "usage_start_time": start,
                            "usage_end_time": start + timedelta(hours=1),
                            "project": {"id": project_id, "number": number, "name": project_id},
                            "location": {
                                "location": "us-central1",
                                "country": "US",
                                "region": "us-central1",
                                "zone": None,
                            },
                            "export_time": start + timedelta(hours=export_delay_hours),
                            "cost": round(rng.uniform(0, 3), 4),
                            "currency": "EUR",
                            "usage": {
                                "amount": float(rng.randint(1, 3600)),
                                "unit": unit,
                                "amount_in_pricing_units": 1.0,
                                "pricing_unit": "hour",
                            },
                            "credits": credits,
                            "cost_type": "regular",
                        }
                    )
    return rows


def sample_factors() -> dict[str, dict[str, str]]:
    """Service -> its sample SKU and stated factors (`gcp_sample_factors.csv`)."""
    with SAMPLE_FACTORS_FILE.open(newline="") as handle:
        return {row["service"]: row for row in csv.DictReader(handle)}


def reported_kgco2e(row: dict[str, Any]) -> Decimal:
    """A carbon row's location-based total (scope 1 + scope 2 location-based + scope 3)."""
    figures = row["carbon_footprint_kgCO2e"]
    parts = (figures["scope1"], figures["scope2"]["location_based"], figures["scope3"])
    return sum((Decimal(repr(v)) for v in parts if v is not None), Decimal(0))


def consistent_billing_rows(
    carbon: list[dict[str, Any]], months: list[date], nowcast_month: date | None = None
) -> list[dict[str, Any]]:
    """Billing rows derived from the carbon rows of `months` by the stated factors, so usage,
    cost and reported emissions agree: per carbon row (account x project x service x
    location), one row on the month's first day whose cost is the reported location-based
    total divided by the service's kgCO2e per currency unit (exact in decimals) and whose
    usage is that total divided by the service's kgCO2e per usage unit. `nowcast_month`
    repeats the last month's usage and cost one month later, a month Google has not
    published yet."""
    factors = sample_factors()
    sources = [(month, month) for month in months]
    if nowcast_month is not None and months:
        sources.append((months[-1], nowcast_month))
    rows = []
    for reported_month, usage_month in sources:
        for row in carbon:
            total = reported_kgco2e(row)
            stated = factors.get(row["service"]["description"])
            if row["usage_month"] != reported_month or total <= 0 or stated is None:
                continue
            cost = total / Decimal(stated["kgco2e_per_currency_unit"])
            amount = (
                total
                / Decimal(stated["kgco2e_per_class_unit"])
                * Decimal(stated["usage_unit_per_class_unit"])
            )
            start = datetime(usage_month.year, usage_month.month, 1, tzinfo=UTC)
            location = row["location"]["location"] or "us"
            region = row["location"]["region"]
            project = row["project"]
            rows.append(
                {
                    "billing_account_id": row["billing_account_id"],
                    "service": row["service"],
                    "sku": {"id": stated["sku_id"], "description": stated["sku_description"]},
                    "usage_start_time": start,
                    "usage_end_time": start + timedelta(hours=1),
                    "project": {**project, "name": project["id"]},
                    "location": {
                        "location": location,
                        "country": "US" if location.startswith("us") else "BE",
                        "region": region,
                        "zone": None,
                    },
                    "export_time": start + timedelta(hours=6),
                    "cost": float(cost),
                    "currency": "EUR",
                    "usage": {
                        "amount": float(round(amount, 3)),
                        "unit": stated["usage_unit"],
                        "amount_in_pricing_units": 1.0,
                        "pricing_unit": "hour",
                    },
                    "credits": [],
                    "cost_type": "regular",
                }
            )
    return rows


def to_json_row(schema: list[dict[str, Any]], row: dict[str, Any]) -> dict[str, Any]:
    """A row as `bq extract --destination_format=NEWLINE_DELIMITED_JSON` writes it: INTEGER as
    text, DATE as YYYY-MM-DD, TIMESTAMP as `YYYY-MM-DD HH:MM:SS UTC`."""
    return {f["name"]: _json_value(f, row.get(f["name"])) for f in schema}


def _json_value(f: dict[str, Any], value: Any, repeated_done: bool = False) -> Any:
    if value is None:
        return None
    if f.get("mode") == "REPEATED" and not repeated_done:
        return [_json_value(f, v, True) for v in value]
    kind = f["type"]
    if kind == "RECORD":
        return to_json_row(f["fields"], value)
    if kind == "INTEGER":
        return str(value)
    if kind == "DATE":
        return value.isoformat()
    if kind == "TIMESTAMP":
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    return value


def write_ndjson(path: Path, schema: list[dict[str, Any]], rows: list[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as handle:
        for row in rows:
            handle.write(json.dumps(to_json_row(schema, row), separators=(",", ":")) + "\n")


def write_sample(root: Path) -> None:
    """The demo's GCP inputs: the carbon table as a `bq extract` NDJSON file (file mode, and the
    fake's carbon table), the billing export as NDJSON, and the fake's table specs."""
    carbon = root / "carbon_footprint" / "carbon_footprint-000000000000.json"
    reported = carbon_rows(date(2024, 1, 1), 24, seed=2024)
    write_ndjson(carbon, CARBON_SCHEMA, reported)
    billing = root / "billing_export.json"
    # Usage and cost of the last three reported months, derived from the reported figures by
    # the stated factors (gcp_sample_factors.csv), and January 2026, not yet published.
    months = [date(2025, 10, 1), date(2025, 11, 1), date(2025, 12, 1)]
    write_ndjson(
        billing, BILLING_SCHEMA, consistent_billing_rows(reported, months, date(2026, 1, 1))
    )
    tables = root / "bigquery"
    tables.mkdir(parents=True, exist_ok=True)
    specs = {
        "carbon_export.carbon_footprint": (CARBON_SCHEMA, CARBON_PARTITIONING, carbon),
        f"billing_export.gcp_billing_export_v1_{ACCOUNTS[0].replace('-', '_')}": (
            BILLING_SCHEMA,
            BILLING_PARTITIONING,
            billing,
        ),
    }
    for name, (schema, partitioning, rows_file) in specs.items():
        spec = {
            "schema": schema,
            "timePartitioning": partitioning,
            "rows_file": os.path.relpath(rows_file, tables),
        }
        (tables / f"{name}.json").write_text(json.dumps(spec, indent=1) + "\n")


if __name__ == "__main__":
    write_sample(Path(sys.argv[1] if len(sys.argv) > 1 else "sample_data/gcp"))
