"""`meltano run` with all three taps into PostgreSQL, then `dbt build`: the production shape.

Runs the `dev` environment against the fakes serving the sample data; checks the mart totals per
provider x month x scope in SQL, independently of dbt's own tests, and that a re-run keeps them.
"""

from __future__ import annotations

import pytest

from tests.conftest import assert_no_secrets
from tests.e2e.conftest import Database, _connect, private_sys_dir, run_meltano
from tests.e2e.test_demo import aws_totals, azure_totals, gcp_totals
from tests.fakes.sample_services import sample_services

pytestmark = [pytest.mark.postgres, pytest.mark.meltano]

PIPELINE = (
    "run",
    "tap-aws-carbon",
    "target-postgres",
    "tap-azure-emissions",
    "target-postgres",
    "tap-gcp-carbon",
    "target-postgres",
    "dbt-postgres:build",
)


def check_reporting_marts(db: Database, schema: str, expected: dict) -> None:
    """fct_ghg_inventory, publication_status and fct_esrs_e1_6_cloud on the sample data.

    The inventory's month rows rebuild the sample files' totals: location-based plus
    market-based total, less the figures counted in both (scope 1 and unsplit scopes), is every
    figure once. Years are the sum of their months; the E1-6 view is the fiscal years in tonnes.
    """
    rows = db.rows(
        "select provider, period_start::text, sum(total_location_based_kgco2e"
        " + total_market_based_kgco2e - coalesce(scope_1_kgco2e, 0)"
        " - coalesce(scope_2_unsplit_kgco2e, 0) - coalesce(scope_3_unsplit_kgco2e, 0))"
        f' from "{schema}".fct_ghg_inventory where period_kind = %s group by 1, 2',
        ("month",),
    )
    by_month: dict[tuple[str, str], object] = {}
    for (provider, month, _scope), kg in expected.items():
        by_month[(provider, month)] = by_month.get((provider, month), 0) + kg
    assert {(p, m): kg for p, m, kg in rows} == by_month

    methods = db.rows(
        "select provider, scope_2_methods_supplied, count(scope_2_location_based_kgco2e),"
        f' count(scope_2_unsplit_kgco2e) from "{schema}".fct_ghg_inventory group by 1, 2'
    )
    supplied = {p: (m, lb > 0, unsplit > 0) for p, m, lb, unsplit in methods}
    assert supplied == {
        "aws": ("location_based and market_based", True, False),
        "azure": ("neither: one figure as reported", False, True),
        "gcp": ("location_based and market_based", True, False),
    }
    years = db.rows(
        "select period_kind, round(sum(total_location_based_kgco2e), 6),"
        f' round(sum(total_market_based_kgco2e), 6) from "{schema}".fct_ghg_inventory group by 1'
    )
    # The same totals in every period kind.
    assert len({(lb, mb) for _kind, lb, mb in years}) == 1, years
    esrs = db.rows(
        "select round(sum(total_location_based_tco2e) * 1000, 6),"
        f' round(sum(total_market_based_tco2e) * 1000, 6) from "{schema}".fct_esrs_e1_6_cloud'
    )
    assert esrs[0] == years[0][1:]


def check_as_of_and_fiscal_year(db: Database, schema: str, env: dict[str, str]) -> None:
    """publication_status as of a fixed day, and fiscal years from April (the two vars).

    As of 2026-04-10 March is published by none of the three; Google's sample data stops in
    December 2025, so its January and February are missing. AWS and Google re-read 3 months,
    Azure 2: a month turns final on the publication day of the month lookback + 2 after it.
    """
    run_meltano(
        "invoke",
        "dbt-postgres",
        "build",
        "--select",
        "publication_status fct_ghg_inventory+",
        "--vars",
        "{as_of_date: '2026-04-10', fiscal_year_start_month: 4}",
        env=env,
        timeout=300,
    ).check()
    status = db.rows(
        f"select provider, status, count(*), min(usage_month)::text, max(usage_month)::text"
        f' from "{schema}".publication_status group by 1, 2'
    )
    assert {(p, s): (n, first, last) for p, s, n, first, last in status} == {
        ("aws", "final"): (22, "2024-01-01", "2025-10-01"),
        ("aws", "restatable"): (5, "2025-11-01", "2026-03-01"),
        ("azure", "final"): (8, "2025-04-01", "2025-11-01"),
        ("azure", "restatable"): (4, "2025-12-01", "2026-03-01"),
        ("gcp", "final"): (22, "2024-01-01", "2025-10-01"),
        ("gcp", "restatable"): (2, "2025-11-01", "2025-12-01"),
        ("gcp", "missing"): (2, "2026-01-01", "2026-02-01"),
        ("gcp", "not_yet_published"): (1, "2026-03-01", "2026-03-01"),
    }
    missing = db.rows(
        f'select accounts_expected, accounts_missing from "{schema}".publication_status'
        " where provider = 'gcp' and status <> 'final' order by usage_month"
    )
    assert missing == [(4, 0)] * 2 + [(4, 4)] * 3
    years = db.rows(
        "select fiscal_year, period_start::text, period_end::text"
        f' from "{schema}".fct_esrs_e1_6_cloud'
    )
    assert sorted(years) == [
        ("FY2024", "2023-04-01", "2024-03-31"),
        ("FY2025", "2024-04-01", "2025-03-31"),
        ("FY2026", "2025-04-01", "2026-03-31"),
        ("FY2027", "2026-04-01", "2027-03-31"),
    ]


def check_source_freshness(db: Database, raw: str, env: dict[str, str]) -> None:
    """`dbt source freshness` passes on a fresh load, warns on a load older than one
    publication cycle (35 days) and fails on one older than two (65 days)."""
    fresh = run_meltano("invoke", "dbt-postgres", "source", "freshness", env=env, timeout=300)
    assert fresh.returncode == 0, fresh.output[-3000:]
    # Every raw table but the CUR's (the aws_cur switch is off): 3 AWS, 8 Azure, 2 Google.
    assert fresh.output.count("PASS freshness of") == 13, fresh.output[-3000:]
    table = f'"{raw}".emissions_monthly'
    try:
        for days, code, word in ((40, 0, "WARN"), (70, 1, "ERROR STALE")):
            with _connect(db.host, db.port, db.dbname) as conn:
                conn.execute(f"update {table} set _sdc_batched_at = now() - interval '{days} days'")
            stale = run_meltano(
                "invoke",
                "dbt-postgres",
                "source",
                "freshness",
                "--select",
                "source:azure.emissions_monthly",
                env=env,
                timeout=300,
            )
            tail = stale.output[-3000:]
            assert stale.returncode == code, tail
            assert f"{word} freshness of azure.emissions_monthly" in stale.output, tail
    finally:
        with _connect(db.host, db.port, db.dbname) as conn:
            conn.execute(f"update {table} set _sdc_batched_at = now()")


def test_three_taps_to_postgres_then_dbt_build_reconcile_with_the_sources(
    tmp_path, test_db, raw_schema, analytics_schema
):
    state = tmp_path / "state"
    state.mkdir()
    with sample_services() as fakes:
        env = {
            **fakes,
            "MELTANO_STATE_BACKEND_URI": f"file://{state}",
            "MELTANO_SYS_DIR_ROOT": str(private_sys_dir(tmp_path)),
            "TARGET_POSTGRES_DATABASE": "test",
            "TARGET_POSTGRES_DEFAULT_TARGET_SCHEMA": raw_schema,
            "DBT_POSTGRES_DBNAME": "test",
            "DBT_POSTGRES_SCHEMA": analytics_schema,
            "DBT_POSTGRES_SOURCE_SCHEMA": raw_schema,
            "DBT_TARGET_PATH": str(tmp_path / "dbt-target"),
            "DBT_LOG_PATH": str(tmp_path / "dbt-logs"),
        }
        first = run_meltano(*PIPELINE, env=env, timeout=900).check()
        assert "Completed successfully" in first.stderr
        states = run_meltano("state", "list", env=env).check().stdout.split()
        assert sorted(states) == [
            "dev:tap-aws-carbon-to-target-postgres",
            "dev:tap-azure-emissions-to-target-postgres",
            "dev:tap-gcp-carbon-to-target-postgres",
        ]

        expected = {**aws_totals(), **azure_totals(), **gcp_totals()}

        def mart() -> dict[tuple[str, str, int], object]:
            rows = test_db.rows(
                "select provider, usage_month::text, scope, sum(emissions_kgco2e)"
                f' from "{analytics_schema}".fct_cloud_emissions group by 1, 2, 3'
            )
            return {(p, m, int(s)): kg for p, m, s, kg in rows}

        assert mart() == expected
        check_reporting_marts(test_db, analytics_schema, expected)
        check_source_freshness(test_db, raw_schema, env)
        check_as_of_and_fiscal_year(test_db, analytics_schema, env)
        rows_before = test_db.one(f'select count(*) from "{analytics_schema}".fct_cloud_emissions')

        again = run_meltano(*PIPELINE, env=env, timeout=900).check()
        assert mart() == expected  # re-reads upsert; nothing doubles
        assert (
            test_db.one(f'select count(*) from "{analytics_schema}".fct_cloud_emissions')
            == rows_before
        )
        assert_no_secrets(first.output, again.output)

        # A project without AWS (the `providers` setting): the build and its raw-table
        # reconciliations start from another provider's part, which must name the columns itself.
        other = f"{analytics_schema}_na"
        without_aws = {**env, "DBT_POSTGRES_PROVIDERS": "azure,gcp", "DBT_POSTGRES_SCHEMA": other}
        try:
            run_meltano("invoke", "dbt-postgres:build", env=without_aws, timeout=600).check()
            providers = test_db.rows(f'select distinct provider from "{other}".fct_cloud_emissions')
            assert sorted(p for (p,) in providers) == ["azure", "gcp"]
        finally:
            test_db.drop_schema(other)
