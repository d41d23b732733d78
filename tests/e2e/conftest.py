"""End-to-end fixtures: the real `meltano run` against the local fake and a real PostgreSQL.

Every Meltano call gets its own environment: state in a file backend under tmp_path (never the
project's system database), its own `.meltano` run files (see `private_sys_dir`), its own raw
and analytics schemas (dropped at teardown), dbt artifacts under tmp_path, and the tap pointed
at a fake started in this process.

Meltano reads a setting from `<PLUGIN_NAME>_<SETTING>` and `<NAMESPACE>_<SETTING>`; an inherited
plugin keeps its parent's namespace, so TARGET_POSTGRES_* also configures target-warehouse and
DBT_POSTGRES_* also configures dbt-warehouse. A setting's own `env:` name (DBT_SOURCE_SCHEMA) is
only what Meltano *exports* to the plugin; it is not read back, and Meltano overwrites it with
the setting's value. That is why the environment is scrubbed of those prefixes before each run.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import CAPTURED_OUTPUT, ROOT, TEST_SECRETS
from tests.fakes.aws_sustainability import EMISSIONS_TYPES, EmissionRow, SustainabilityFake

MELTANO = Path(sys.executable).parent / "meltano"
ACCESS_KEY = "AKIDE2ETEST000000001"
START, END = date(2024, 1, 1), date(2026, 1, 1)
PG_HOST, PG_PORT, PG_DATABASE = "127.0.0.1", 5432, "test"
KEY = ("usage_period_start", "usage_account_id", "region", "service")
# Loaded column name -> API emissions type, for all seven types the API defines.
COLUMNS = {f"{kind.lower()}_mtco2e": kind for kind in EMISSIONS_TYPES}
# Settings that must come from the test alone, never from the developer's shell.
_SCRUBBED_PREFIXES = (
    "TAP_AWS_CARBON_",
    "TARGET_POSTGRES_",
    "TARGET_WAREHOUSE_",
    "DBT_",
    "MELTANO_",
    "AWS_",
    "PG",
)


@dataclass
class MeltanoRun:
    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str  # Meltano's log, with every plugin's stderr relayed into it
    seconds: float

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    def check(self) -> MeltanoRun:
        assert self.returncode == 0, f"meltano {' '.join(self.args)} failed:\n{self.stderr[-6000:]}"
        return self


def run_meltano(*args: str, env: dict[str, str], timeout: float = 300) -> MeltanoRun:
    """`meltano --environment=dev <args>` from the repo root, with exactly the given settings."""
    run_env = {k: v for k, v in os.environ.items() if not k.startswith(_SCRUBBED_PREFIXES)}
    run_env.update({"AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null"})
    # The dev environment points cur_uri at the demo's sample CUR; a test reads a CUR only
    # where it names one (an empty value leaves the cur_usage_daily stream off).
    run_env["TAP_AWS_CARBON_CUR_URI"] = ""
    run_env.update(env)
    began = time.monotonic()
    done = subprocess.run(
        [str(MELTANO), "--environment=dev", *args],
        cwd=ROOT,
        env=run_env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    CAPTURED_OUTPUT.extend((done.stdout, done.stderr))
    return MeltanoRun(
        tuple(args), done.returncode, done.stdout, done.stderr, time.monotonic() - began
    )


def private_sys_dir(tmp_path: Path) -> Path:
    """A `.meltano` of the test's own that borrows the project's installed plugin venvs.

    Meltano keeps the discovered catalog in `.meltano/run/<tap>/tap.properties.json`, one file
    per project: two `meltano run`s at once (a demo, another test session) overwrite each other's
    catalog and the tap reads an empty file. Run files, logs and the system database (run
    records; migrating a new one takes ~0.1 s) therefore live under tmp_path.
    """
    sys_dir = tmp_path / "meltano-sys"
    if not sys_dir.exists():
        sys_dir.mkdir()
        for kind in ("extractors", "loaders", "utilities"):
            installed = ROOT / ".meltano" / kind
            if installed.is_dir():
                (sys_dir / kind).symlink_to(installed, target_is_directory=True)
    return sys_dir


def tap_env(fake: SustainabilityFake, tmp_path: Path) -> dict[str, str]:
    """Settings for tap-aws-carbon against `fake`, plus an isolated Meltano state backend."""
    state = tmp_path / "state"
    state.mkdir(exist_ok=True)
    return {
        "MELTANO_STATE_BACKEND_URI": f"file://{state}",
        "MELTANO_SYS_DIR_ROOT": str(private_sys_dir(tmp_path)),
        "TAP_AWS_CARBON_SUSTAINABILITY_ENDPOINT_URL": fake.url,
        "TAP_AWS_CARBON_START_DATE": START.isoformat(),
        "TAP_AWS_CARBON_END_DATE": END.isoformat(),
        "TAP_AWS_CARBON_AWS_ACCESS_KEY_ID": ACCESS_KEY,
        "TAP_AWS_CARBON_AWS_SECRET_ACCESS_KEY": TEST_SECRETS["aws_secret_access_key"],
        "TAP_AWS_CARBON_AWS_SESSION_TOKEN": TEST_SECRETS["aws_session_token"],
        # dbt writes target/ and logs/ into the project by default: keep the demo's untouched.
        "DBT_TARGET_PATH": str(tmp_path / "dbt-target"),
        "DBT_LOG_PATH": str(tmp_path / "dbt-logs"),
    }


def signed_fake(rows: list[EmissionRow], page_size_cap: int) -> SustainabilityFake:
    """A fake that checks every request's SigV4 signature against the test secret."""
    return SustainabilityFake(
        rows,
        page_size_cap=page_size_cap,
        credentials={ACCESS_KEY: TEST_SECRETS["aws_secret_access_key"]},
    )


def in_range(rows: list[EmissionRow], first: date = START, end: date = END) -> list[EmissionRow]:
    return [r for r in rows if first <= r.month < end]


def expected_sums(rows: list[EmissionRow]) -> dict[str, Decimal]:
    """Per loaded column, the exact decimal sum of what the API reported."""
    return {
        column: sum((Decimal(repr(r.values[kind][0])) for r in rows), Decimal(0))
        for column, kind in COLUMNS.items()
    }


# --- PostgreSQL -------------------------------------------------------------------------------


def _connect(host: str, port: int, dbname: str):
    import psycopg

    return psycopg.connect(
        host=host, port=port, user="postgres", dbname=dbname, autocommit=True, connect_timeout=5
    )


@pytest.fixture(scope="session")
def postgres() -> None:
    """PostgreSQL on 127.0.0.1:5432 with a `test` database, or a skip (a failure in CI)."""
    try:
        with _connect(PG_HOST, PG_PORT, PG_DATABASE) as conn:
            conn.execute("select 1")
    except Exception as exc:
        reason = (
            f"PostgreSQL is not usable at {PG_HOST}:{PG_PORT}/{PG_DATABASE} "
            f"({type(exc).__name__}: {exc}); start it with scripts/ensure_postgres.sh"
        )
        if os.environ.get("CARBON_TAPS_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"{reason} [CARBON_TAPS_REQUIRE_POSTGRES=1]")
        pytest.skip(reason)


class Database:
    """A thin query helper over one PostgreSQL database."""

    def __init__(self, host: str, port: int, dbname: str) -> None:
        self.host, self.port, self.dbname = host, port, dbname

    def rows(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with _connect(self.host, self.port, self.dbname) as conn:
            return conn.execute(sql, params).fetchall()

    def one(self, sql: str, params: tuple[Any, ...] = ()) -> Any:
        rows = self.rows(sql, params)
        assert len(rows) == 1 and len(rows[0]) == 1, rows
        return rows[0][0]

    def column_types(self, schema: str, table: str) -> dict[str, str]:
        return dict(
            self.rows(
                "select column_name, data_type from information_schema.columns "
                "where table_schema = %s and table_name = %s",
                (schema, table),
            )
        )

    def drop_schema(self, schema: str) -> None:
        with _connect(self.host, self.port, self.dbname) as conn:
            conn.execute(f'drop schema if exists "{schema}" cascade')


@pytest.fixture
def test_db(postgres) -> Database:
    return Database(PG_HOST, PG_PORT, PG_DATABASE)


def _schema(db: Database, kind: str) -> Iterator[str]:
    name = f"e2e_{kind}_{uuid.uuid4().hex[:12]}"
    db.drop_schema(name)
    yield name
    db.drop_schema(name)


@pytest.fixture
def raw_schema(test_db: Database) -> Iterator[str]:
    """A fresh schema for target-postgres, dropped afterwards."""
    yield from _schema(test_db, "raw")


@pytest.fixture
def analytics_schema(test_db: Database) -> Iterator[str]:
    """A fresh schema for dbt's models, dropped afterwards."""
    yield from _schema(test_db, "analytics")
