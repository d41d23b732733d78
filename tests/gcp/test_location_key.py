"""location_key = location, else region, else '': rows without a location stay apart by region.

Google leaves `location.location` NULL on some rows; if such rows of one month, account, project
and service differ only by region, the key must still tell them apart, or the loader's upsert
keeps one and silently drops the other. The generated fake data never has this case (its rows
without a location have no region either), so these tests build it on purpose.
"""

from __future__ import annotations

import copy
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from tests.fakes.gcp_bigquery import FakeTable
from tests.fakes.gcp_data import (
    BILLING_PARTITIONING,
    BILLING_SCHEMA,
    CARBON_PARTITIONING,
    CARBON_SCHEMA,
    write_ndjson,
)
from tests.gcp.conftest import BILLING, DATASET, PROJECT, gcp_config
from tests.gcp.test_billing_usage_daily import KEY as BILLING_KEY
from tests.gcp.test_carbon_footprint import KEY
from tests.gcp.test_file_mode import write_csv

REGIONS = ("us-central1", "europe-west1")


def carbon_row(region: str | None, scope1: float) -> dict[str, Any]:
    """One Carbon Footprint row without a location; everything else but region and value equal."""
    return {
        "billing_account_id": "01A2B3-C4D5E6-F7A8B9",
        "project": {"id": "carbon-web-prod", "number": "482910375521"},
        "service": {"id": "6F81-5844-456A", "description": "Compute Engine"},
        "location": {"location": None, "region": region},
        "usage_month": date(2024, 3, 1),
        "carbon_footprint_kgCO2e": {
            "scope1": scope1,
            "scope2": {"location_based": 1.0, "market_based": 0.5},
            "scope3": 2.0,
        },
        "carbon_footprint_total_kgCO2e": {
            "location_based": scope1 + 3.0,
            "market_based": scope1 + 2.5,
            "after_offsets": None,
        },
        "carbon_model_version": 10,
        "carbon_offsets_kgCO2e": None,
    }


ROWS = [carbon_row(REGIONS[0], 1.25), carbon_row(REGIONS[1], 7.5), carbon_row(None, 0.75)]
# What each row must become: location_key from region, '' when neither is reported.
EXPECTED = {REGIONS[0]: 1.25, REGIONS[1]: 7.5, "": 0.75}


def assert_kept_apart(records: list[dict[str, Any]]) -> None:
    keys = {tuple(r[k] for k in KEY) for r in records}
    assert len(records) == len(keys) == 3, "rows differing only by region share a key"
    assert {r["location_key"]: r["scope1_kgco2e"] for r in records} == EXPECTED
    assert all(r["location"] is None for r in records)


def test_bigquery_rows_without_a_location_are_keyed_by_region(fake_and_key, tap_runner):
    fake, key = fake_and_key
    fake.put_table(
        f"{PROJECT}.{DATASET}.carbon_footprint",
        FakeTable(CARBON_SCHEMA, copy.deepcopy(ROWS), CARBON_PARTITIONING),
    )
    config = gcp_config(fake, key, billing_export_table=None, start_month="2024-01-01")
    run = tap_runner("tap-gcp-carbon", config)
    assert run.returncode == 0, run.stderr
    assert_kept_apart(run.records("carbon_footprint"))


@pytest.mark.parametrize("kind", ["ndjson", "csv"])
def test_file_rows_without_a_location_are_keyed_by_region(tap_runner, tmp_path, kind):
    folder = tmp_path / "extract"
    folder.mkdir()
    if kind == "ndjson":
        write_ndjson(folder / "carbon_footprint-000000000000.json", CARBON_SCHEMA, ROWS)
    else:
        write_csv(folder / "carbon_footprint-000000000000.csv.gz", ROWS)
    config = {"carbon_footprint_uri": str(folder), "start_month": "2024-01-01"}
    run = tap_runner("tap-gcp-carbon", config)
    assert run.returncode == 0, run.stderr
    assert_kept_apart(run.records("carbon_footprint"))


def test_billing_rows_without_a_location_are_keyed_by_region(fake_and_key, tap_runner):
    fake, key = fake_and_key
    start = datetime(2025, 3, 1, 6, tzinfo=UTC)
    rows = []
    for region, cost in ((REGIONS[0], 1.5), (REGIONS[1], 4.0)):
        rows.append(
            {
                "billing_account_id": "01A2B3-C4D5E6-F7A8B9",
                "service": {"id": "6F81-5844-456A", "description": "Compute Engine"},
                "sku": {"id": "CP-N2-RAM", "description": "N2 Instance Ram"},
                "usage_start_time": start,
                "usage_end_time": start + timedelta(hours=1),
                "project": {"id": "carbon-batch", "number": "109283746501", "name": "b"},
                "location": {"location": None, "country": None, "region": region, "zone": None},
                "export_time": start + timedelta(hours=6),
                "cost": cost,
                "currency": "EUR",
                "usage": {
                    "amount": 60.0,
                    "unit": "byte-seconds",
                    "amount_in_pricing_units": 1.0,
                    "pricing_unit": "hour",
                },
                "credits": [],
                "cost_type": "regular",
            }
        )
    fake.put_table(f"{PROJECT}.{BILLING}", FakeTable(BILLING_SCHEMA, rows, BILLING_PARTITIONING))
    config = gcp_config(fake, key, carbon_footprint_dataset=None, start_month="2025-03-01")
    run = tap_runner("tap-gcp-carbon", config)
    assert run.returncode == 0, run.stderr
    records = run.records("billing_usage_daily")
    assert len({tuple(r[k] for k in BILLING_KEY) for r in records}) == len(records) == 2
    assert {r["location_key"]: r["cost"] for r in records} == {REGIONS[0]: 1.5, REGIONS[1]: 4.0}
