"""The AWS Cost and Usage Report through `meltano run` into PostgreSQL, then `dbt build`.

tap-aws-carbon reads a generated legacy CUR (tests/fakes/aws_cur.py) from a local folder,
target-postgres loads it, and dbt builds with the `aws_cur` switch on. fct_cloud_cost_daily's
AWS cost per day x account x service is checked in SQL against sums computed here straight from
the generated line items, and so is its amortized cost, the line items (Savings Plan and
Reserved Instance usage, negations and fees among them) carrying AWS's effective-cost
columns; then AWS restates January with a new delivery, and the mart must hold the new
delivery's figures only, although the raw table keeps both.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from tests.conftest import assert_no_secrets
from tests.e2e.conftest import Database, private_sys_dir, run_meltano, signed_fake, tap_env
from tests.fakes.aws_cur import LineItem, daily_totals, line_items, write_legacy_cur
from tests.fakes.aws_data import synthetic_rows

pytestmark = [pytest.mark.postgres, pytest.mark.meltano]

PIPELINE = ("run", "tap-aws-carbon", "target-postgres", "dbt-postgres:build")
# Assembly ids are opaque (UUIDs in real reports): the restatement's sorts *before* the first
# delivery's, so only the order in which they were read can tell which is current.
FIRST, RESTATED = "f3c1d2e4-0000-4000-8000-000000000001", "0a9e8b7c-0000-4000-8000-000000000002"

CostByDay = dict[tuple[str, str, str], Decimal]


def expected_cost(items: list[LineItem]) -> CostByDay:
    return {key: cost for key, (_usage, cost) in daily_totals(items).items()}


def mart_cost(db: Database, schema: str, column: str = "cost") -> CostByDay:
    rows = db.rows(
        f"select usage_date::text, account_id, service, sum({column})"
        f" from \"{schema}\".fct_cloud_cost_daily where provider = 'aws' group by 1, 2, 3"
    )
    return {(day, account, service): cost for day, account, service, cost in rows}


def expected_amortized(items: list[LineItem]) -> CostByDay:
    sums: CostByDay = defaultdict(Decimal)
    for item in items:
        assert item.amortized_cost is not None
        sums[(item.day.isoformat(), item.account, item.product_code)] += item.amortized_cost
    return dict(sums)


@pytest.fixture
def fake():
    with signed_fake(synthetic_rows(date(2025, 10, 1), 3), page_size_cap=50) as server:
        yield server


def test_cur_cost_reaches_the_mart_exactly_and_a_restated_period_replaces_the_old_delivery(
    fake, tmp_path, test_db, raw_schema, analytics_schema
):
    root = tmp_path / "cur-bucket"
    january = line_items(date(2026, 1, 1), 300, seed=31)
    february = line_items(date(2026, 2, 1), 200, seed=32)
    write_legacy_cur(root, january + february, assembly_id=FIRST)
    env = {
        **tap_env(fake, tmp_path),
        "TAP_AWS_CARBON_START_DATE": "2025-10-01",
        "TAP_AWS_CARBON_END_DATE": "2026-01-01",
        # The folder holding the yyyymmdd-yyyymmdd/ period folders of report `daily`.
        "TAP_AWS_CARBON_CUR_URI": str(root / "cur" / "daily"),
        "TARGET_POSTGRES_DATABASE": "test",
        "TARGET_POSTGRES_DEFAULT_TARGET_SCHEMA": raw_schema,
        "DBT_POSTGRES_DBNAME": "test",
        "DBT_POSTGRES_SCHEMA": analytics_schema,
        "DBT_POSTGRES_SOURCE_SCHEMA": raw_schema,
        "DBT_POSTGRES_PROVIDERS": "aws",
        "DBT_POSTGRES_AWS_CUR": "true",
    }
    first = run_meltano(*PIPELINE, env=env, timeout=900).check()
    assert "Completed successfully" in first.stderr, first.stderr[-3000:]
    before = expected_cost(january + february)
    assert len(before) > 100 and any(cost < 0 for cost in before.values())  # credits included
    assert mart_cost(test_db, analytics_schema) == before
    amortized = expected_amortized(january + february)
    assert amortized != before  # Savings Plans and RIs make the two measures differ
    assert mart_cost(test_db, analytics_schema, "amortized_cost") == amortized
    kinds = {
        kind
        for (kind,) in test_db.rows(
            f'select distinct line_item_type from "{analytics_schema}".stg_aws__cur_usage_daily'
        )
    }
    assert {"DiscountedUsage", "SavingsPlanCoveredUsage", "SavingsPlanNegation"} <= kinds

    # AWS restates January: a new assembly over fewer days, named by the period's manifest.
    restated = line_items(date(2026, 1, 1), 250, seed=33, days=20)
    write_legacy_cur(root, restated, assembly_id=RESTATED)
    again = run_meltano(*PIPELINE, env=env, timeout=900).check()

    deliveries = test_db.rows(
        f'select distinct billing_period, delivery_id from "{raw_schema}".cur_usage_daily'
    )
    assert set(deliveries) == {("2026-01", FIRST), ("2026-01", RESTATED), ("2026-02", FIRST)}
    after = expected_cost(restated + february)
    assert mart_cost(test_db, analytics_schema) == after
    assert mart_cost(test_db, analytics_schema, "amortized_cost") == expected_amortized(
        restated + february
    )
    dropped_days = {day for day, _, _ in before} - {day for day, _, _ in after}
    assert dropped_days and min(dropped_days) == "2026-01-21"  # only the old delivery had them
    staged = test_db.rows(
        "select distinct billing_period, delivery_id"
        f' from "{analytics_schema}".stg_aws__cur_usage_daily'
    )
    assert set(staged) == {("2026-01", RESTATED), ("2026-02", FIRST)}
    assert_no_secrets(first.output, again.output)


@pytest.mark.parametrize("switch", ["true", "false"])
def test_the_cur_models_compile_for_snowflake_only_when_switched_on(tmp_path: Path, switch: str):
    target = tmp_path / "dbt-target"
    run_meltano(
        "invoke",
        "dbt-snowflake",
        "compile",
        "--no-populate-cache",
        env={
            "MELTANO_SYS_DIR_ROOT": str(private_sys_dir(tmp_path)),
            "DBT_SNOWFLAKE_ACCOUNT": "xy12345",
            "DBT_SNOWFLAKE_USER": "compile_only",
            "DBT_SNOWFLAKE_DATABASE": "CARBON",
            "DBT_SNOWFLAKE_AWS_CUR": switch,
            "DBT_TARGET_PATH": str(target),
            "DBT_LOG_PATH": str(tmp_path / "dbt-logs"),
        },
    ).check()
    compiled = target / "compiled" / "cloud_carbon" / "models"
    cost = (compiled / "marts" / "fct_cloud_cost_daily.sql").read_text()
    staging = compiled / "staging" / "aws" / "cur" / "stg_aws__cur_usage_daily.sql"
    if switch == "true":
        assert "CARBON.ANALYTICS.int_aws__cost_daily" in cost
        assert "CARBON_RAW.cur_usage_daily" in staging.read_text()
    else:
        assert "int_aws__cost_daily" not in cost
        assert not staging.exists()
    assert "CARBON.ANALYTICS.int_azure__cost_daily" in cost
