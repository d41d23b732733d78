"""Dagster definitions for this Meltano project: one Dagster job and schedule per Meltano one.

The jobs and crons come from `meltano job list` and `meltano schedule list` (through
dagster-meltano), so `meltano.yml` stays the only place they are written. Each Meltano job is its
own Dagster job, one run per provider, so a failing provider cannot stop another. Its one op runs
`meltano --environment=<env> run <job>`, the command of the cron route, and is retried once.

dagster-meltano's own `load_jobs_from_meltano_project` is not used: it names each op after its
task, and the task `dbt-postgres:build` then gets the name of the job `dbt-postgres-build`, which
Dagster refuses ("Conflicting definitions"). It also runs `meltano` from PATH with no
`--environment`; here the workspace's Meltano and MELTANO_ENVIRONMENT (default `prod`) are used.
And it runs `meltano job list` and `meltano schedule list` at once, which on a new Meltano system
database both create its tables and one fails ("table job already exists"); here they run in turn.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from pathlib import Path

from dagster import (
    Definitions,
    JobDefinition,
    ResourceDefinition,
    RetryPolicy,
    ScheduleDefinition,
    job,
)
from dagster_meltano import MeltanoResource, meltano_command_op
from dagster_meltano.schedule import Schedule
from dagster_meltano.utils import generate_dagster_name

PROJECT_ROOT = Path(__file__).resolve().parents[2]
ENVIRONMENT = os.environ.get("MELTANO_ENVIRONMENT") or "prod"
RETRIES = 1


def _meltano_bin() -> str:
    """The workspace's Meltano (the locked one), else whichever `meltano` is on PATH."""
    workspace = PROJECT_ROOT / ".venv" / "bin" / "meltano"
    found = str(workspace) if workspace.exists() else shutil.which("meltano")
    if found is None:
        raise RuntimeError(f"no Meltano: run `uv sync --frozen` in {PROJECT_ROOT}")
    return found


def _dagster_job(meltano_job: str, meltano: MeltanoResource) -> JobDefinition:
    """One Dagster job with one op: `meltano --environment=<env> run <job>`."""
    name = generate_dagster_name(meltano_job)
    run_op = meltano_command_op(
        f"--environment={ENVIRONMENT} run {meltano_job}", dagster_name=f"meltano_run_{name}"
    )

    @job(
        name=name,
        description=f"`meltano --environment={ENVIRONMENT} run {meltano_job}`",
        resource_defs={"meltano": ResourceDefinition.hardcoded_resource(meltano)},
        op_retry_policy=RetryPolicy(max_retries=RETRIES),
        tags={"meltano_job": meltano_job},
    )
    def _run() -> None:
        run_op()

    return _run


def load_definitions() -> Definitions:
    """Every Meltano job as a Dagster job, and every Meltano schedule as a Dagster schedule."""
    meltano = MeltanoResource(project_dir=str(PROJECT_ROOT), meltano_bin=_meltano_bin())
    listed = asyncio.run(meltano.load_json_from_cli(["job", "list", "--format=json"]))
    jobs = [_dagster_job(j["job_name"], meltano) for j in listed["jobs"]]
    listed = asyncio.run(meltano.load_json_from_cli(["schedule", "list", "--format=json"]))
    schedules: list[ScheduleDefinition] = [
        Schedule(s).dagster_schedule for s in listed["schedules"]["job"]
    ]
    return Definitions(jobs=jobs, schedules=schedules)


defs = load_definitions()
