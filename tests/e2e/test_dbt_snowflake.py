"""The dbt project compiles for Snowflake: only cross-database SQL, nothing Postgres-only."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import private_sys_dir, run_meltano

pytestmark = pytest.mark.meltano


def test_every_model_compiles_for_snowflake(tmp_path):
    target = tmp_path / "dbt-target"
    run = run_meltano(
        "invoke",
        "dbt-snowflake",
        "compile",
        "--no-populate-cache",
        env={
            "MELTANO_SYS_DIR_ROOT": str(private_sys_dir(tmp_path)),
            "DBT_SNOWFLAKE_ACCOUNT": "xy12345",
            "DBT_SNOWFLAKE_USER": "compile_only",
            "DBT_SNOWFLAKE_DATABASE": "CARBON",
            "DBT_TARGET_PATH": str(target),
            "DBT_LOG_PATH": str(tmp_path / "dbt-logs"),
        },
    ).check()
    compiled = target / "compiled" / "cloud_carbon" / "models"
    fct = (compiled / "marts" / "fct_cloud_emissions.sql").read_text()
    assert "CARBON.ANALYTICS.int_aws__emissions_by_scope" in fct
    history = (compiled / "marts" / "aws" / "fct_aws_emissions_model_history.sql").read_text()
    assert "split_part" in history.lower()  # dbt's Snowflake rendering of the version order
    assert "Registered adapter: snowflake" in run.output
