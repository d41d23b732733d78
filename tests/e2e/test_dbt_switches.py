"""The dbt switches do what dbt_project.yml and the README say.

`unmapped_severity`: a region missing from dim_cloud_region warns by default, so a provider
adding a region does not stop a user's build, and fails the build in this project's own runs
(the `dev` environment sets `error`). The defaults are read from dbt itself, without Meltano.
"""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from tests.conftest import ROOT
from tests.e2e.conftest import Database, run_meltano
from tests.e2e.test_dbt_docs import create_raw_tables, dbt_env

DBT = ROOT / ".meltano" / "utilities" / "dbt-postgres" / "venv" / "bin" / "dbt"
LS_ARGS = ("--resource-type", "test", "--output", "json", "--output-keys", "name config", "-q")
LS_ARGS += ("--profiles-dir", "profiles/postgres")
DRIFT_TESTS = ("accepted_values_stg_azure__emissions_monthly_data_type", "totals_match_")


def test_severities_default_to_warn_and_follow_their_variables(tmp_path):
    def severities(**env: str) -> dict[str, str]:
        base = {k: v for k, v in os.environ.items() if not k.startswith(("CARBON_", "DBT_"))}
        done = subprocess.run(
            [str(DBT), "ls", *LS_ARGS],
            cwd=ROOT / "transform",
            env={
                **base,
                **env,
                "DBT_TARGET_PATH": str(tmp_path / "t"),
                "DBT_LOG_PATH": str(tmp_path / "l"),
            },
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
        nodes = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
        return {n["name"]: n["config"]["severity"].lower() for n in nodes}

    default = severities()
    unmapped = {n: s for n, s in default.items() if n.startswith("mapped_in_")}
    drift = {n: s for n, s in default.items() if n.startswith(DRIFT_TESTS)}
    assert len(unmapped) == 2 and set(unmapped.values()) == {"warn"}
    assert len(drift) >= 5 and set(drift.values()) == {"warn"}
    keys = {n: s for n, s in default.items() if n.startswith("unique_combination_")}
    assert keys and set(keys.values()) == {"error"}  # key tests never soften

    strict = severities(CARBON_UNMAPPED_SEVERITY="error")
    assert {strict[n] for n in unmapped} == {"error"}
    assert {strict[n] for n in drift} == {"warn"}  # each switch governs its own tests
    assert {severities(CARBON_PROVIDER_DRIFT_SEVERITY="error")[n] for n in drift} == {"error"}


@pytest.mark.postgres
@pytest.mark.meltano
def test_an_unmapped_region_warns_for_users_and_fails_the_projects_own_build(
    tmp_path, test_db: Database, raw_schema, analytics_schema
):
    create_raw_tables(tmp_path, raw_schema, taps=("tap-aws-carbon",))
    test_db.rows(
        f'insert into "{raw_schema}".carbon_emissions (usage_period_start, usage_period_end,'
        " usage_account_id, region, service, model_version,"
        " total_scope_1_carbon_emissions_mtco2e) values"
        " ('2026-01-01', '2026-02-01', '012345678901', 'xx-newregion-1', 'AmazonEC2', 'v3.0.0',"
        " 0.5) returning 1"
    )
    env = {**dbt_env(tmp_path, raw_schema, analytics_schema), "DBT_POSTGRES_PROVIDERS": "aws"}

    as_user = run_meltano(
        "invoke", "dbt-postgres", "build", env={**env, "DBT_POSTGRES_UNMAPPED_SEVERITY": "warn"}
    ).check()
    assert "Warning in test mapped_in_fct_cloud_emissions_provider__region" in as_user.output
    rows = test_db.rows(
        f'select region, emissions_kgco2e from "{analytics_schema}".fct_cloud_emissions'
    )
    assert rows == [("xx-newregion-1", 500)]  # built, and kept: not dropped, not NULL

    in_project = run_meltano("invoke", "dbt-postgres", "build", env=env)  # dev sets `error`
    assert in_project.returncode != 0
    assert "Failure in test mapped_in_fct_cloud_emissions_provider__region" in in_project.output
