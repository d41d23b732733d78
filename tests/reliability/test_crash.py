"""Crash recovery: SIGKILL the tap inside a real `meltano run … target-postgres`, then resume.

Per tap, a clean run loads a reference schema and times the tap's requests. Each trial then
starts the same pipeline in a fresh schema with a fresh state and kills the tap (only the tap)
at a moment a seeded RNG draws from the clean run's extraction, replayed as "so long after the
fake answered the tap's n-th request" so that machine load cannot push it past the end. It
re-runs — possibly killed again — until a run completes, then compares the warehouse with the
reference by primary key (no row missing, duplicated, unexpected or different) and Meltano's
saved bookmarks with the clean run's.

Each fake serves enough data that extraction takes a few seconds. `CARBON_TAPS_RELIABILITY=full`
runs 20 trials per tap; the default runs 2, which still kills every tap at least twice.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from tests.conftest import TEST_SECRETS
from tests.e2e.conftest import ACCESS_KEY, KEY, Database, postgres, test_db
from tests.fakes.aws_data import ACCOUNTS, synthetic_rows, synthetic_water_rows
from tests.fakes.aws_export import write_export
from tests.fakes.aws_sustainability import SustainabilityFake
from tests.fakes.azure_arm import AzureFake
from tests.fakes.azure_data import subscription_ids, synthetic_carbon_rows, synthetic_cost_rows
from tests.fakes.gcp_bigquery import BigQueryFake, FakeTable, generate_service_account
from tests.fakes.gcp_data import (
    BILLING_PARTITIONING,
    BILLING_SCHEMA,
    CARBON_PARTITIONING,
    CARBON_SCHEMA,
    billing_rows,
    carbon_rows,
)
from tests.reliability.crash import CrashTrials, Report, TapUnderTest
from tests.reliability.figures import record, trials

pytestmark = [pytest.mark.postgres, pytest.mark.meltano]
__all__ = ["postgres", "test_db"]  # the e2e PostgreSQL fixtures, used here too

TRIALS = trials(ci=2, full=20)


def settle(report: Report) -> None:
    """Record what happened, print it, then hold it to the specification."""
    record(
        report.figure,
        crash_trials=report.trials,
        rows_lost=report.rows_lost,
        rows_duplicated=report.rows_duplicated,
    )
    print(f"\n{report.line()}")
    assert report.trials == TRIALS
    assert report.rows_lost == 0, report.line()
    assert report.rows_duplicated == 0, report.line()
    assert report.rows_unexpected == 0 and report.rows_differing == 0, report.line()
    assert not report.state_mismatches, report.state_mismatches
    # A kill that lands after the tap finished tests nothing: most trials must crash mid-run.
    assert report.trials_killed > TRIALS / 2 and report.kills_mid_run >= 2, report.line()


# --- AWS: the Sustainability API streams and the export from local files ------------------------


@pytest.fixture
def aws_fake() -> Iterator[SustainabilityFake]:
    with SustainabilityFake(
        synthetic_rows(date(2024, 1, 1), 24, seed=31),
        water_rows=synthetic_water_rows(2024, 2, seed=32),
        page_size_cap=50,
        credentials={ACCESS_KEY: TEST_SECRETS["aws_secret_access_key"]},
    ) as fake:
        yield fake


def test_aws_resumes_after_kills_with_every_row_once(aws_fake, tmp_path, test_db: Database):
    export = tmp_path / "carbon-export"
    accounts = [*ACCOUNTS, "210987654321", "000000000042", "555566667777"]
    export_rows = synthetic_rows(date(2022, 1, 1), 48, seed=33, accounts=accounts)
    export_rows += synthetic_rows(date(2025, 1, 1), 12, seed=34, model_version="v3.1.0")
    write_export(export, export_rows, chunk_rows=50)

    def env(schema: str, state: Path) -> dict[str, str]:
        return {
            "MELTANO_STATE_BACKEND_URI": f"file://{state}",
            "TAP_AWS_CARBON_SUSTAINABILITY_ENDPOINT_URL": aws_fake.url,
            "TAP_AWS_CARBON_START_DATE": "2024-01-01",
            "TAP_AWS_CARBON_END_DATE": "2026-01-01",
            "TAP_AWS_CARBON_AWS_ACCESS_KEY_ID": ACCESS_KEY,
            "TAP_AWS_CARBON_AWS_SECRET_ACCESS_KEY": TEST_SECRETS["aws_secret_access_key"],
            "TAP_AWS_CARBON_CARBON_EXPORT_URI": str(export),
            "TARGET_POSTGRES_DATABASE": "test",
            "TARGET_POSTGRES_DEFAULT_TARGET_SCHEMA": schema,
        }

    tap = TapUnderTest(
        figure="aws",
        executable="tap-aws-carbon",
        tables={
            "carbon_emissions": KEY,
            "water_allocation": KEY,
            "carbon_emissions_export": (
                "usage_period",
                "model_version",
                "usage_account_id",
                "region_code",
                "product_code",
            ),
        },
        env=env,
        served=lambda: len(aws_fake.requests),
        expected_rows={
            "carbon_emissions": len(aws_fake.rows),
            "water_allocation": len(aws_fake.water_rows),
            "carbon_emissions_export": len(export_rows),
        },
    )
    settle(CrashTrials(tap, test_db, tmp_path, seed=2031).run(TRIALS))


# --- Azure: the emissions streams and cost_daily ------------------------------------------------

AZURE_TENANT, AZURE_CLIENT = "crash-tenant", "crash-client"
AZURE_ITEM_KEYS = {
    "emissions_by_subscription": ("subscription_id",),
    "emissions_by_resource_group": ("resource_group_url",),
    "emissions_by_resource": ("resource_id",),
    "emissions_by_resource_type": ("resource_type",),
    "emissions_by_location": ("location",),
}


@pytest.fixture
def azure_fake() -> Iterator[AzureFake]:
    subs = subscription_ids(12, seed=41)
    with AzureFake(
        synthetic_carbon_rows(subs, date(2025, 7, 1), 6, seed=42, resources=3),
        synthetic_cost_rows(subs, date(2026, 9, 1), 45, seed=43),
        subscriptions=subs,
        tenant=AZURE_TENANT,
        clients={AZURE_CLIENT: TEST_SECRETS["azure_client_secret"]},
        item_page_cap=20,
        cost_page_size=50,
    ) as fake:
        yield fake


def test_azure_resumes_after_kills_with_every_row_once(azure_fake, tmp_path, test_db: Database):
    def env(schema: str, state: Path) -> dict[str, str]:
        return {
            "MELTANO_STATE_BACKEND_URI": f"file://{state}",
            "TAP_AZURE_EMISSIONS_ARM_ENDPOINT": azure_fake.url,
            "TAP_AZURE_EMISSIONS_AUTHORITY_HOST": azure_fake.url,
            "TAP_AZURE_EMISSIONS_CA_BUNDLE": azure_fake.ca_file,
            "TAP_AZURE_EMISSIONS_TENANT_ID": AZURE_TENANT,
            "TAP_AZURE_EMISSIONS_CLIENT_ID": AZURE_CLIENT,
            "TAP_AZURE_EMISSIONS_CLIENT_SECRET": TEST_SECRETS["azure_client_secret"],
            "TAP_AZURE_EMISSIONS_COST_START_DATE": "2026-09-01",
            "TARGET_POSTGRES_DATABASE": "test",
            "TARGET_POSTGRES_DEFAULT_TARGET_SCHEMA": schema,
        }

    tables = {
        "emissions_monthly": ("month", "scope", "subscription_id"),
        **{table: ("month", "scope", *key) for table, key in AZURE_ITEM_KEYS.items()},
        "cost_daily": (
            "scope",
            "usage_date",
            "resource_location",
            "service_name",
            "currency",
            "cost_type",
        ),
    }  # subscription_access is left out: its key holds each run's start time
    tap = TapUnderTest(
        figure="azure",
        executable="tap-azure-emissions",
        tables=tables,
        env=env,
        served=lambda: len(azure_fake.requests),
        expected_rows={
            "emissions_by_resource": len(
                {(r.month, r.scope, r.resource_id.lower()) for r in azure_fake.carbon_rows}
            ),
            "cost_daily": len(azure_fake.cost_rows),
        },
    )
    settle(CrashTrials(tap, test_db, tmp_path, seed=2041).run(TRIALS))


# --- GCP: carbon_footprint and billing_usage_daily from BigQuery --------------------------------

GCP_PROJECT = "carbon-crash-project"
CARBON_TABLE = "carbon_export.carbon_footprint"
BILLING_TABLE = "billing_export.gcp_billing_export_v1_crash"


@pytest.fixture
def gcp_fake(tmp_path: Path) -> Iterator[BigQueryFake]:
    tables = {
        CARBON_TABLE: FakeTable(
            CARBON_SCHEMA, carbon_rows(date(2023, 1, 1), 36, seed=51), CARBON_PARTITIONING
        ),
        BILLING_TABLE: FakeTable(
            BILLING_SCHEMA, billing_rows(date(2025, 6, 1), 75, seed=52), BILLING_PARTITIONING
        ),
    }
    fake = BigQueryFake(tables, project=GCP_PROJECT, page_rows=50)
    fake.start()
    key, public = generate_service_account(f"{fake.url}/token", GCP_PROJECT)
    fake.service_accounts[key["client_email"]] = public
    (tmp_path / "gcp-key.json").write_text(json.dumps(key))
    yield fake
    fake.stop()


def test_gcp_resumes_after_kills_with_every_row_once(gcp_fake, tmp_path, test_db: Database):
    def env(schema: str, state: Path) -> dict[str, str]:
        return {
            "MELTANO_STATE_BACKEND_URI": f"file://{state}",
            "GCP_BIGQUERY_ENDPOINT_URL": gcp_fake.url,
            "GCP_FAKE_CREDENTIALS_PATH": str(tmp_path / "gcp-key.json"),
            "TAP_GCP_CARBON_PROJECT_ID": GCP_PROJECT,
            "TAP_GCP_CARBON_CARBON_FOOTPRINT_URI": "",  # BigQuery, not the dev files
            "TAP_GCP_CARBON_CARBON_FOOTPRINT_DATASET": "carbon_export",
            "TAP_GCP_CARBON_BILLING_EXPORT_TABLE": BILLING_TABLE,
            "TAP_GCP_CARBON_START_MONTH": "2023-01-01",
            "TARGET_POSTGRES_DATABASE": "test",
            "TARGET_POSTGRES_DEFAULT_TARGET_SCHEMA": schema,
        }

    tap = TapUnderTest(
        figure="gcp",
        executable="tap-gcp-carbon",
        tables={
            "carbon_footprint": (
                "usage_month",
                "billing_account_id",
                "project_key",
                "service_id",
                "location_key",
            ),
            "billing_usage_daily": (
                "usage_date",
                "billing_account_id",
                "project_key",
                "service_id",
                "sku_id",
                "location_key",
                "usage_unit",
                "currency",
            ),
        },
        env=env,
        served=lambda: len(gcp_fake.requests),
        expected_rows={
            "carbon_footprint": len(gcp_fake.tables[f"{GCP_PROJECT}.{CARBON_TABLE}"].rows),
            "billing_usage_daily": len(
                {
                    (r["usage_start_time"].date(), r["project"]["number"], r["sku"]["id"])
                    for r in gcp_fake.tables[f"{GCP_PROJECT}.{BILLING_TABLE}"].rows
                }
            ),
        },
    )
    settle(CrashTrials(tap, test_db, tmp_path, seed=2051).run(TRIALS))
