"""Issue 13 item 7: the Dagster route of docs/production.md, run here against the local fakes.

Dagster and dagster-meltano live in their own virtualenv (orchestrate/dagster/install.sh), cached
under ~/.cache/cloud-carbon-taps/ by the hash of what installs it, so a machine pays the install
once. Through the `dagster` CLI of that venv:

- the definitions hold one Dagster job per Meltano job and one schedule per Meltano schedule,
  with the same crons;
- `dagster job execute` of the AWS job loads the fake's rows into PostgreSQL (exact count and
  sums) and Dagster reports the run's success;
- the Azure job, whose client secret Entra ID refuses, is retried once and fails, and the AWS job
  run after it still loads everything: one provider per Dagster job.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
import yaml

from tests.conftest import CAPTURED_OUTPUT, ROOT, TEST_SECRETS, assert_no_secrets
from tests.e2e.conftest import (
    COLUMNS,
    Database,
    expected_sums,
    in_range,
    private_sys_dir,
    signed_fake,
    tap_env,
)
from tests.fakes.aws_data import synthetic_rows
from tests.fakes.azure_arm import AzureFake

pytestmark = pytest.mark.meltano

HERE = ROOT / "orchestrate" / "dagster"
DEFINITIONS = HERE / "definitions.py"
CACHE = Path.home() / ".cache" / "cloud-carbon-taps"
AWS_JOB, AZURE_JOB = "aws_carbon_to_postgres", "azure_emissions_to_postgres"
# Dagster's instance settings: no usage statistics sent from a test.
NO_TELEMETRY = "telemetry:\n  enabled: false\n"
# Settings that must come from the test alone, never from the developer's shell.
_SCRUBBED = ("TAP_", "TARGET_", "DBT_", "MELTANO_", "AWS_", "PG", "CARBON_", "DAGSTER_")


@pytest.fixture(scope="module")
def dagster_venv() -> Path:
    """The Dagster venv, installed once per machine for each requirements/installer/Python."""
    if sys.version_info >= (3, 13):
        pytest.fail("dagster-meltano 1.5.5 supports Python < 3.13; the workspace runs on newer")
    digest = hashlib.sha256()
    for part in ("requirements.txt", "install.sh"):
        digest.update((HERE / part).read_bytes())
    digest.update(sys.version.encode())
    venv = CACHE / f"dagster-{digest.hexdigest()[:16]}"
    done = subprocess.run(
        ["bash", str(HERE / "install.sh"), str(venv)],
        env={**os.environ, "DAGSTER_PYTHON": sys.executable},
        capture_output=True,
        text=True,
        timeout=1200,
        check=False,
    )
    assert done.returncode == 0, f"installing Dagster failed:\n{done.stdout}\n{done.stderr}"
    return venv


def dagster(venv: Path, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    """`<venv>/bin/dagster <args>` from the repository, with only the given settings."""
    run_env = {k: v for k, v in os.environ.items() if not k.startswith(_SCRUBBED)}
    run_env.update({"AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null"})
    run_env.update(env)
    done = subprocess.run(
        [str(venv / "bin" / "dagster"), *args],
        cwd=ROOT,
        env=run_env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    CAPTURED_OUTPUT.extend((done.stdout, done.stderr))
    assert_no_secrets(done.stdout, done.stderr)
    return done


def execute(venv: Path, job: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return dagster(venv, "job", "execute", "-f", str(DEFINITIONS), "-j", job, env=env)


def test_definitions_mirror_meltano_jobs_and_schedules(dagster_venv: Path, tmp_path: Path) -> None:
    script = (
        "import json, runpy, sys\n"
        "defs = runpy.run_path(sys.argv[1])['defs']\n"
        "repo = defs.get_repository_def()\n"
        "print(json.dumps({\n"
        "  'jobs': {j.name: [n.name for n in j.nodes] for j in repo.get_all_jobs()},\n"
        "  'schedules': {s.name: [s.cron_schedule, s.job_name] for s in repo.schedule_defs},\n"
        "}))\n"
    )
    (tmp_path / "dagster.yaml").write_text(NO_TELEMETRY)
    env = {"MELTANO_SYS_DIR_ROOT": str(tmp_path / "sys"), "DAGSTER_HOME": str(tmp_path)}
    run_env = {k: v for k, v in os.environ.items() if not k.startswith(_SCRUBBED)} | env
    done = subprocess.run(
        [str(dagster_venv / "bin" / "python"), "-c", script, str(DEFINITIONS)],
        cwd=ROOT,
        env=run_env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    loaded = json.loads(done.stdout.strip().splitlines()[-1])
    project = yaml.safe_load((ROOT / "meltano.yml").read_text())
    name = {j["name"]: j["name"].replace("-", "_") for j in project["jobs"]}
    assert loaded["jobs"] == {name[j]: [f"meltano_run_{name[j]}"] for j in name}
    assert loaded["schedules"] == {
        s["name"].replace("-", "_"): [s["interval"], name[s["job"]]] for s in project["schedules"]
    }


@pytest.mark.postgres
def test_dagster_runs_a_provider_job_into_postgres_and_a_failing_one_stops_only_itself(
    dagster_venv: Path, tmp_path: Path, raw_schema: str, test_db: Database
) -> None:
    home, azure_dir, aws_dir = (tmp_path / d for d in ("dagster-home", "azure", "aws"))
    for folder in (home, azure_dir / "state", aws_dir):
        folder.mkdir(parents=True)
    (home / "dagster.yaml").write_text(NO_TELEMETRY)
    common = {
        "DAGSTER_HOME": str(home),
        "MELTANO_ENVIRONMENT": "prod",
        "TARGET_POSTGRES_DATABASE": "test",
        "TARGET_POSTGRES_PASSWORD": "local-trust-auth",
        "TARGET_POSTGRES_DEFAULT_TARGET_SCHEMA": raw_schema,
    }
    # Azure first: Entra ID refuses the secret, so each attempt fails after one token request.
    with AzureFake(
        tenant="orchestrator-tenant",
        clients={"orchestrator-client": "a-different-secret"},
    ) as azure:
        failed = execute(
            dagster_venv,
            AZURE_JOB,
            {
                **common,
                "MELTANO_STATE_BACKEND_URI": f"file://{azure_dir / 'state'}",
                "MELTANO_SYS_DIR_ROOT": str(private_sys_dir(azure_dir)),
                "TAP_AZURE_EMISSIONS_ARM_ENDPOINT": azure.url,
                "TAP_AZURE_EMISSIONS_AUTHORITY_HOST": azure.url,
                "TAP_AZURE_EMISSIONS_CA_BUNDLE": azure.ca_file,
                "TAP_AZURE_EMISSIONS_DISABLE_INSTANCE_DISCOVERY": "true",
                "TAP_AZURE_EMISSIONS_TENANT_ID": "orchestrator-tenant",
                "TAP_AZURE_EMISSIONS_CLIENT_ID": "orchestrator-client",
                "TAP_AZURE_EMISSIONS_CLIENT_SECRET": TEST_SECRETS["azure_client_secret"],
            },
        )
        token_requests = len(azure.token_requests())
    log = failed.stdout + failed.stderr
    assert failed.returncode != 0, log[-4000:]
    assert "RUN_FAILURE" in log and "RUN_SUCCESS" not in log, log[-4000:]
    assert log.count("STEP_UP_FOR_RETRY") == 1, log[-4000:]
    assert "AADSTS7000215" in log or "invalid_client" in log, log[-4000:]
    assert token_requests >= 2, "the retry did not run the tap again"

    with signed_fake(synthetic_rows(date(2023, 10, 1), 30), page_size_cap=20) as fake:
        done = execute(dagster_venv, AWS_JOB, {**common, **tap_env(fake, aws_dir)})
        expected = in_range(fake.rows)
    log = done.stdout + done.stderr
    assert done.returncode == 0, log[-6000:]
    assert f'Finished execution of run for "{AWS_JOB}"' in log, log[-4000:]
    assert "RUN_SUCCESS" in log and "STEP_UP_FOR_RETRY" not in log
    table = f'"{raw_schema}".carbon_emissions'
    assert test_db.one(f"select count(*) from {table}") == len(expected)
    sums = test_db.rows(f"select {', '.join(f'sum({c})' for c in COLUMNS)} from {table}")[0]
    assert dict(zip(COLUMNS, sums, strict=True)) == expected_sums(expected)
