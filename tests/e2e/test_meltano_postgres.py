"""`meltano run` with the real plugins: fake -> tap-aws-carbon -> target-postgres -> dbt.

Loads into the `test` database of the PostgreSQL server on 127.0.0.1:5432, each test in its own
schemas. The fake holds months on both sides of the configured range, so exact counts and sums
also prove that start_date and end_date are honoured.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from tests.conftest import assert_no_secrets
from tests.e2e.conftest import (
    COLUMNS,
    KEY,
    Database,
    MeltanoRun,
    expected_sums,
    in_range,
    run_meltano,
    signed_fake,
    tap_env,
)
from tests.fakes.aws_data import synthetic_rows
from tests.fakes.aws_sustainability import EmissionRow, SustainabilityFake

pytestmark = [pytest.mark.postgres, pytest.mark.meltano]

STATE_ID = "dev:tap-aws-carbon-to-target-postgres"
TABLE = "carbon_emissions"


@pytest.fixture
def fake():
    """2023-10 .. 2026-03: three months either side of the 2024-01 .. 2025-12 range read."""
    with signed_fake(synthetic_rows(date(2023, 10, 1), 30), page_size_cap=20) as server:
        yield server


@pytest.fixture
def env(fake: SustainabilityFake, tmp_path: Path, raw_schema: str) -> dict[str, str]:
    return {
        **tap_env(fake, tmp_path),
        "TARGET_POSTGRES_DATABASE": "test",
        "TARGET_POSTGRES_DEFAULT_TARGET_SCHEMA": raw_schema,
    }


def load(env: dict[str, str], *plugins: str) -> MeltanoRun:
    run = run_meltano("run", "tap-aws-carbon", "target-postgres", *plugins, env=env).check()
    assert_no_secrets(run.stdout, run.stderr)
    return run


def loaded_sums(db: Database, schema: str) -> dict[str, Decimal]:
    row = db.rows(f'select {", ".join(f"sum({c})" for c in COLUMNS)} from "{schema}".{TABLE}')[0]
    return dict(zip(COLUMNS, row, strict=True))


def duplicate_keys(db: Database, schema: str) -> int:
    keys = ", ".join(KEY)
    return db.one(
        f'select count(*) from (select {keys}, count(*) from "{schema}".{TABLE} '
        "group by 1, 2, 3, 4 having count(*) > 1) as dupes"
    )


def per_month(rows: list[EmissionRow]) -> dict[date, int]:
    return dict(Counter(r.month for r in rows))


def test_run_loads_every_record_with_exact_sums_and_leading_zero_account_ids(env, fake, test_db):
    load(env)
    schema = env["TARGET_POSTGRES_DEFAULT_TARGET_SCHEMA"]
    expected = in_range(fake.rows)

    types = test_db.column_types(schema, TABLE)
    assert {types[c] for c in COLUMNS} == {"numeric"}, types
    assert test_db.one(f'select count(*) from "{schema}".{TABLE}') == len(expected)
    assert loaded_sums(test_db, schema) == expected_sums(expected)
    months = test_db.rows(f'select usage_period_start, count(*) from "{schema}".{TABLE} group by 1')
    assert dict(months) == per_month(expected)
    assert duplicate_keys(test_db, schema) == 0

    assert types["usage_account_id"] == "text"
    accounts = test_db.rows(f'select distinct usage_account_id from "{schema}".{TABLE}')
    assert {a for (a,) in accounts} == {r.account for r in expected}
    assert {"012345678901", "000987654321"} <= {a for (a,) in accounts}


def test_second_identical_run_rereads_only_the_lookback_and_adds_nothing(env, fake, test_db):
    schema = env["TARGET_POSTGRES_DEFAULT_TARGET_SCHEMA"]
    expected = in_range(fake.rows)
    load(env)
    first_count = test_db.one(f'select count(*) from "{schema}".{TABLE}')
    first_sums = loaded_sums(test_db, schema)
    assert first_count == len(expected)

    fake.requests.clear()
    load(env)

    months = sorted({b["TimePeriod"]["Start"][:7] for b in fake.carbon_requests()})
    assert months == ["2025-09", "2025-10", "2025-11", "2025-12"]  # bookmark + 3 months back
    assert test_db.one(f'select count(*) from "{schema}".{TABLE}') == first_count
    assert loaded_sums(test_db, schema) == first_sums == expected_sums(expected)
    assert duplicate_keys(test_db, schema) == 0


def test_state_is_kept_in_the_configured_backend_under_the_run_state_id(env, tmp_path):
    load(env)

    listed = run_meltano("state", "list", env=env).check()
    assert listed.stdout.split() == [STATE_ID]
    got = run_meltano("state", "get", STATE_ID, env=env).check()
    state = json.loads(got.stdout)
    bookmark = state["singer_state"]["bookmarks"]["carbon_emissions"]
    assert bookmark["replication_key"] == "usage_period_start"
    assert bookmark["replication_key_value"] == "2025-12-01"
    stored = [p for p in (tmp_path / "state").rglob("*") if p.is_file()]
    assert stored, "state must be written under MELTANO_STATE_BACKEND_URI"
    assert_no_secrets(got.stdout, got.stderr, listed.stderr, *(p.read_text() for p in stored))


def test_pipeline_with_dbt_builds_monthly_totals_in_kilograms_exactly(
    env, fake, test_db, analytics_schema
):
    raw = env["TARGET_POSTGRES_DEFAULT_TARGET_SCHEMA"]
    env = {
        **env,
        "DBT_POSTGRES_DBNAME": "test",
        "DBT_POSTGRES_SCHEMA": analytics_schema,
        # Not DBT_SOURCE_SCHEMA: that is the name Meltano exports to dbt (and overwrites with
        # the setting's value); the setting itself is read from DBT_POSTGRES_SOURCE_SCHEMA.
        "DBT_POSTGRES_SOURCE_SCHEMA": raw,
        "DBT_POSTGRES_PROVIDERS": "aws",  # only tap-aws-carbon loaded this schema
    }
    run = load(env, "dbt-postgres:build")
    assert "Completed successfully" in run.stderr, run.stderr[-3000:]

    expected = in_range(fake.rows)
    mbm = expected_sums(expected)["total_mbm_carbon_emissions_mtco2e"]
    mart = f'"{analytics_schema}".aws_emissions_by_month'
    assert test_db.one(f"select sum(total_market_based_kgco2e) from {mart}") == 1000 * mbm
    assert test_db.one(f"select sum(rows_reported) from {mart}") == len(expected)
    by_month = dict(test_db.rows(f"select usage_month, rows_reported from {mart}"))
    assert by_month == per_month(expected)
