"""`meltano run` with all three taps into PostgreSQL, then `dbt build`: the production shape.

Runs the `dev` environment against the fakes serving the sample data; checks the mart totals per
provider x month x scope in SQL, independently of dbt's own tests, and that a re-run keeps them.
"""

from __future__ import annotations

import pytest

from tests.conftest import assert_no_secrets
from tests.e2e.conftest import private_sys_dir, run_meltano
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
            providers = test_db.rows(
                f'select distinct provider from "{other}".fct_cloud_emissions'
            )
            assert sorted(p for (p,) in providers) == ["azure", "gcp"]
        finally:
            test_db.drop_schema(other)
