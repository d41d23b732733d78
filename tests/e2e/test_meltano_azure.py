"""`meltano run tap-azure-emissions target-postgres` against the ARM fake with 130 subscriptions.

The fake plays Entra ID and ARM over HTTPS; the tap lists the subscriptions (three pages),
chunks them 100 + 30 per Carbon request, and loads every stream into its own schema. Totals
per month x scope x category in SQL must equal the fake's data exactly.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from tests.conftest import TEST_SECRETS, assert_no_secrets
from tests.e2e.conftest import Database, MeltanoRun, private_sys_dir, run_meltano
from tests.fakes.azure_arm import AzureFake
from tests.fakes.azure_data import subscription_ids, synthetic_carbon_rows, synthetic_cost_rows

pytestmark = [pytest.mark.postgres, pytest.mark.meltano]

TENANT, CLIENT_ID = "e2e-tenant", "e2e-client"
SUBSCRIPTIONS = 130
DATA_FIRST, DATA_MONTHS = date(2025, 12, 1), 4  # window 2025-12 .. 2026-03
COST_FIRST = date(2026, 2, 20)
ITEM_TABLES = (
    "emissions_by_subscription",
    "emissions_by_resource_group",
    "emissions_by_resource",
    "emissions_by_resource_type",
    "emissions_by_location",
)


@pytest.fixture
def fake():
    subs = subscription_ids(SUBSCRIPTIONS, seed=23)
    with AzureFake(
        synthetic_carbon_rows(subs, DATA_FIRST, DATA_MONTHS, resources=2),
        synthetic_cost_rows(subs, COST_FIRST, 12),
        subscriptions=subs,
        tenant=TENANT,
        clients={CLIENT_ID: TEST_SECRETS["azure_client_secret"]},
        denied=[subs[7]],
        item_page_cap=200,
        cost_page_size=20,
    ) as server:
        yield server


@pytest.fixture
def env(fake: AzureFake, tmp_path: Path, raw_schema: str) -> dict[str, str]:
    state = tmp_path / "state"
    state.mkdir()
    return {
        "MELTANO_STATE_BACKEND_URI": f"file://{state}",
        "MELTANO_SYS_DIR_ROOT": str(private_sys_dir(tmp_path)),
        "TAP_AZURE_EMISSIONS_ARM_ENDPOINT": fake.url,
        "TAP_AZURE_EMISSIONS_AUTHORITY_HOST": fake.url,
        "TAP_AZURE_EMISSIONS_CA_BUNDLE": fake.ca_file,
        "TAP_AZURE_EMISSIONS_TENANT_ID": TENANT,
        "TAP_AZURE_EMISSIONS_CLIENT_ID": CLIENT_ID,
        "TAP_AZURE_EMISSIONS_CLIENT_SECRET": TEST_SECRETS["azure_client_secret"],
        "TAP_AZURE_EMISSIONS_COST_START_DATE": COST_FIRST.isoformat(),
        "TAP_AZURE_EMISSIONS_LOOKBACK_MONTHS": "1",
        "TAP_AZURE_EMISSIONS_MAX_REQUESTS_PER_SECOND": "0",
        "TAP_AZURE_EMISSIONS_COST_MAX_REQUESTS_PER_SECOND": "0",
        "TARGET_POSTGRES_DATABASE": "test",
        "TARGET_POSTGRES_DEFAULT_TARGET_SCHEMA": raw_schema,
    }


def load(env: dict[str, str]) -> MeltanoRun:
    run = run_meltano("run", "tap-azure-emissions", "target-postgres", env=env).check()
    assert_no_secrets(run.stdout, run.stderr)
    return run


def expected_carbon(fake: AzureFake) -> dict[tuple[date, str], Decimal]:
    totals: dict[tuple[date, str], Decimal] = defaultdict(Decimal)
    for r in fake.carbon_rows:
        if r.subscription_id not in fake.denied:
            totals[(r.month, r.scope)] += Decimal(repr(r.emissions))
    return dict(totals)


def loaded_carbon(db: Database, schema: str, table: str) -> dict[tuple[date, str], Decimal]:
    rows = db.rows(
        f'select "month", "scope", sum(latest_month_emissions_kgco2e) from "{schema}".{table} '
        "group by 1, 2"
    )
    return {(m, s): total for m, s, total in rows}


def test_every_stream_loads_with_exact_totals_per_month_scope_and_category(env, fake, test_db):
    run = load(env)
    schema = env["TARGET_POSTGRES_DEFAULT_TARGET_SCHEMA"]
    expected = expected_carbon(fake)
    assert len(expected) == DATA_MONTHS * 3
    for table in (*ITEM_TABLES, "emissions_monthly"):
        assert loaded_carbon(test_db, schema, table) == expected, table
    denied = fake.subscriptions[7]
    access = dict(
        test_db.rows(f'select subscription_id, decision from "{schema}".subscription_access')
    )
    assert len(access) == SUBSCRIPTIONS and access[denied] == "Denied"
    assert denied in run.stderr  # the warning names it

    cost = defaultdict(Decimal)
    for r in fake.cost_rows:
        cost[(f"subscriptions/{r.subscription_id}", r.day, r.currency)] += Decimal(repr(r.cost))
    loaded = test_db.rows(
        f'select scope, usage_date, currency, sum(cost) from "{schema}".cost_daily group by 1, 2, 3'
    )
    assert {(s, d, c): t for s, d, c, t in loaded} == dict(cost)
    bodies = fake.carbon_bodies("ItemDetailsReport")
    # 130 subscriptions, one denied: item details ask for the 129 allowed, in chunks of 100 and 29
    assert {len(b["subscriptionList"]) for b in bodies} == {100, 29}
    assert all(denied not in b["subscriptionList"] for b in bodies)


def test_a_rerun_without_new_months_reads_only_the_lookback_and_adds_nothing(env, fake, test_db):
    schema = env["TARGET_POSTGRES_DEFAULT_TARGET_SCHEMA"]
    load(env)
    counts = {t: test_db.one(f'select count(*) from "{schema}".{t}') for t in ITEM_TABLES}

    fake.requests.clear()
    load(env)

    months = {b["dateRange"]["start"] for b in fake.carbon_bodies("ItemDetailsReport")}
    assert months == {"2026-02-01", "2026-03-01"}  # the bookmark month and lookback_months=1
    assert {t: test_db.one(f'select count(*) from "{schema}".{t}') for t in ITEM_TABLES} == counts
    expected = expected_carbon(fake)
    for table in ITEM_TABLES:
        assert loaded_carbon(test_db, schema, table) == expected, table
