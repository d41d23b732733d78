"""Issue 13 item 7: the production route docs/production.md describes, run here.

- `prod` with Meltano's S3 state backend (the `meltano[s3]` extra in the lock) against moto's S3
  server: the job runs twice and the second run resumes from the bookmark the first stored in the
  bucket, with Meltano's own system database new for each run (as on an ephemeral runner).
- Jobs: one extractor per job, so a failing provider cannot stop another; each job, the
  Snowflake ones included, validates with `meltano run --dry-run --no-install`.
- The cron route: `meltano schedule list --format=json` gives each schedule's cron and job, and
  each scheduled job is one `meltano run <job>`.
"""

from __future__ import annotations

import json
import os
import subprocess
from datetime import date
from pathlib import Path

import boto3
import pytest
import yaml

from tests.conftest import CAPTURED_OUTPUT, ROOT, assert_no_secrets
from tests.e2e.conftest import MELTANO, private_sys_dir, signed_fake, tap_env
from tests.fakes.aws_data import synthetic_rows

BUCKET = "carbon-meltano-state"
STATE_ID = "prod:tap-aws-carbon-to-target-postgres"
MOTO_KEY, MOTO_SECRET = "AKIDMOTOSTATE0000001", "moto-state-not-a-secret"
TAPS = {"tap-aws-carbon", "tap-azure-emissions", "tap-gcp-carbon"}


def meltano(*args: str, env: dict[str, str], timeout: float = 600) -> subprocess.CompletedProcess:
    """`meltano --environment=prod <args>` from the repository, with only the given settings."""
    scrubbed = ("TAP_", "TARGET_", "DBT_", "MELTANO_", "AWS_", "PG", "CARBON_")
    run_env = {k: v for k, v in os.environ.items() if not k.startswith(scrubbed)}
    run_env.update({"AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null"})
    run_env.update(env)
    done = subprocess.run(
        [str(MELTANO), "--environment=prod", *args],
        cwd=ROOT,
        env=run_env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    CAPTURED_OUTPUT.extend((done.stdout, done.stderr))
    return done


def project() -> dict:
    return yaml.safe_load((ROOT / "meltano.yml").read_text())


@pytest.mark.postgres
@pytest.mark.meltano
def test_prod_job_keeps_its_state_in_s3_and_resumes(
    moto_endpoint: str, tmp_path: Path, raw_schema: str
) -> None:
    s3 = boto3.client(
        "s3",
        endpoint_url=moto_endpoint,
        region_name="us-east-1",
        aws_access_key_id=MOTO_KEY,
        aws_secret_access_key=MOTO_SECRET,
    )
    s3.create_bucket(Bucket=BUCKET)
    with signed_fake(synthetic_rows(date(2024, 1, 1), 24), page_size_cap=50) as fake:
        env = {
            **tap_env(fake, tmp_path),
            "MELTANO_STATE_BACKEND_URI": f"s3://{BUCKET}/prod",
            "MELTANO_STATE_BACKEND_S3_ENDPOINT_URL": moto_endpoint,
            "MELTANO_STATE_BACKEND_S3_AWS_ACCESS_KEY_ID": MOTO_KEY,
            "MELTANO_STATE_BACKEND_S3_AWS_SECRET_ACCESS_KEY": MOTO_SECRET,
            "AWS_DEFAULT_REGION": "us-east-1",
            "TARGET_POSTGRES_DATABASE": "test",
            "TARGET_POSTGRES_PASSWORD": "local-trust-auth",
            "TARGET_POSTGRES_DEFAULT_TARGET_SCHEMA": raw_schema,
        }
        first = meltano("run", "aws-carbon-to-postgres", env=env)
        assert first.returncode == 0, first.stderr[-6000:]
        stored = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])]
        assert any(STATE_ID in key for key in stored), stored
        first_months = {b["TimePeriod"]["Start"][:7] for b in fake.carbon_requests()}

        # A new runner: nothing local survives, only the bucket.
        fake.requests.clear()
        (tmp_path / "second").mkdir()
        env["MELTANO_SYS_DIR_ROOT"] = str(private_sys_dir(tmp_path / "second"))
        second = meltano("run", "aws-carbon-to-postgres", env=env)
        assert second.returncode == 0, second.stderr[-6000:]
        second_months = {b["TimePeriod"]["Start"][:7] for b in fake.carbon_requests()}

    assert min(first_months) == "2024-01"
    # prod re-reads 3 months before the bookmark (2025-12): from 2025-09, not from 2024-01.
    assert second_months and min(second_months) == "2025-09", sorted(second_months)
    state = meltano("state", "get", STATE_ID, env=env)
    assert state.returncode == 0, state.stderr
    bookmark = json.loads(state.stdout)["singer_state"]["bookmarks"]["carbon_emissions"]
    assert bookmark["replication_key_value"].startswith("2025-12")
    for done in (first, second, state):
        assert_no_secrets(done.stdout, done.stderr)
        assert MOTO_SECRET not in done.stdout + done.stderr


def test_each_job_runs_one_provider_or_dbt_and_validates(tmp_path: Path) -> None:
    jobs = {job["name"]: job["tasks"] for job in project()["jobs"]}
    loaders = {"target-postgres": 0, "target-snowflake": 0}
    for name, tasks in jobs.items():
        words = " ".join(tasks).split()
        taps = [w for w in words if w in TAPS]
        assert len(taps) <= 1, f"{name} chains {taps}: one failing provider would stop the rest"
        assert taps or all(w.startswith("dbt-") for w in words), name
        for loader in loaders:
            loaders[loader] += loader in words
    assert loaders == {"target-postgres": 3, "target-snowflake": 3}
    assert {"dbt-postgres-build", "dbt-snowflake-build"} <= set(jobs)
    env = {"MELTANO_SYS_DIR_ROOT": str(tmp_path / "sys")}
    done = meltano("run", "--dry-run", "--no-install", *jobs, env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-4000:]
    assert done.stderr.count("Dry run, but would have run block") == len(jobs)
    typo = meltano("run", "--dry-run", "--no-install", "aws-carbon-to-snowfake", env=env)
    assert typo.returncode != 0 and "not found" in typo.stderr


def test_cron_route_schedule_list_gives_one_job_per_schedule(tmp_path: Path) -> None:
    env = {"MELTANO_SYS_DIR_ROOT": str(tmp_path / "sys")}
    done = meltano("schedule", "list", "--format=json", env=env, timeout=120)
    assert done.returncode == 0, done.stderr[-4000:]
    schedules = {s["name"]: s for s in json.loads(done.stdout)["schedules"]["job"]}
    jobs = {job["name"] for job in project()["jobs"]}
    assert set(schedules) == {
        "aws-carbon-daily",
        "azure-emissions-daily",
        "gcp-carbon-daily",
        "dbt-postgres-daily",
    }
    for schedule in schedules.values():
        assert schedule["job"]["name"] in jobs
        minute, hour, *_ = schedule["cron_interval"].split()
        assert minute.isdigit() and hour.isdigit(), schedule
    loads = [s for name, s in schedules.items() if not name.startswith("dbt-")]
    dbt_hour = int(schedules["dbt-postgres-daily"]["cron_interval"].split()[1])
    assert all(int(s["cron_interval"].split()[1]) < dbt_hour for s in loads)
