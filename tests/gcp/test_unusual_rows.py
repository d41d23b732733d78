"""Empty-string key parts from BigQuery are values: the row loads, keyed as reported."""

from __future__ import annotations

from tests.fakes.gcp_bigquery import BigQueryFake, FakeTable, generate_service_account
from tests.fakes.gcp_data import (
    BILLING_PARTITIONING,
    BILLING_SCHEMA,
    CARBON_PARTITIONING,
    CARBON_SCHEMA,
    billing_rows,
    carbon_rows,
)
from tests.gcp.conftest import (
    BILLING,
    BILLING_DAYS,
    BILLING_FIRST_DAY,
    DATASET,
    FIRST_MONTH,
    PROJECT,
    gcp_config,
)


def test_empty_string_key_parts_load_in_both_streams(tap_runner):
    carbon = carbon_rows(FIRST_MONTH, 3)
    carbon[0] = {**carbon[0], "billing_account_id": ""}
    carbon[1] = {**carbon[1], "service": {**carbon[1]["service"], "id": ""}}
    billing = billing_rows(BILLING_FIRST_DAY, BILLING_DAYS)
    billing[0] = {**billing[0], "sku": {**billing[0]["sku"], "id": ""}}
    tables = {
        f"{DATASET}.carbon_footprint": FakeTable(CARBON_SCHEMA, carbon, CARBON_PARTITIONING),
        BILLING: FakeTable(BILLING_SCHEMA, billing, BILLING_PARTITIONING),
    }
    fake = BigQueryFake(tables, project=PROJECT).start()
    try:
        key, public = generate_service_account(f"{fake.url}/token", PROJECT)
        fake.service_accounts[key["client_email"]] = public
        run = tap_runner("tap-gcp-carbon", gcp_config(fake, key))
    finally:
        fake.stop()
    assert run.returncode == 0, run.stderr[-3000:]
    footprint = run.records("carbon_footprint")
    assert [r for r in footprint if r["billing_account_id"] == ""]
    assert [r for r in footprint if r["service_id"] == ""]
    assert [r for r in run.records("billing_usage_daily") if r["sku_id"] == ""]
