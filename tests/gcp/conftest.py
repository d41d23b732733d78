"""A BigQuery fake with carbon and billing tables, and a real service-account key for it."""

from __future__ import annotations

import json
import ssl
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.gcp_bigquery import BigQueryFake, FakeTable, generate_service_account
from tests.fakes.gcp_data import (
    BILLING_PARTITIONING,
    BILLING_SCHEMA,
    CARBON_PARTITIONING,
    CARBON_SCHEMA,
    billing_rows,
    carbon_rows,
)

PROJECT = "carbon-fake-project"
DATASET = "carbon_export"
BILLING = "billing_export.gcp_billing_export_v1_01A2B3_C4D5E6_F7A8B9"
FIRST_MONTH = date(2022, 10, 1)
MONTHS = 30  # 2022-10 .. 2025-03
BILLING_FIRST_DAY = date(2025, 3, 1)
BILLING_DAYS = 10


def make_fake(tls: ssl.SSLContext | None = None, **kwargs: Any) -> tuple[BigQueryFake, dict]:
    """A started fake and a service-account key whose token_uri is the fake's /token."""
    tables = {
        f"{DATASET}.carbon_footprint": FakeTable(
            CARBON_SCHEMA, carbon_rows(FIRST_MONTH, MONTHS), CARBON_PARTITIONING
        ),
        BILLING: FakeTable(
            BILLING_SCHEMA, billing_rows(BILLING_FIRST_DAY, BILLING_DAYS), BILLING_PARTITIONING
        ),
    }
    fake = BigQueryFake(tables, project=PROJECT, **kwargs).start(tls=tls)
    key, public = generate_service_account(f"{fake.url}/token", PROJECT)
    fake.service_accounts[key["client_email"]] = public
    return fake, key


@pytest.fixture
def fake_and_key():
    fake, key = make_fake(page_rows=150)
    yield fake, key
    fake.stop()


def gcp_config(
    fake: BigQueryFake, key: dict[str, Any], tmp: Path | None = None, **overrides: Any
) -> dict[str, Any]:
    config: dict[str, Any] = {
        "credentials_json": json.dumps(key),
        "project_id": PROJECT,
        "location": "US",
        "api_endpoint": fake.url,
        "carbon_footprint_dataset": DATASET,
        "billing_export_table": BILLING,
        "start_month": FIRST_MONTH.isoformat(),
        "max_requests_per_second": 0,
    }
    if tmp is not None:
        path = tmp / "key.json"
        path.write_text(json.dumps(key))
        config.pop("credentials_json")
        config["credentials_path"] = str(path)
    config.update(overrides)
    return {k: v for k, v in config.items() if v is not None}
