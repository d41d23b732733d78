"""The demo's default path: `meltano run tap-aws-carbon target-warehouse`, embedded warehouse.

The warehouse is a private cluster from `scripts/warehouse.py`, on a free port (never the demo's
25432) in a temporary directory, so a running demo is neither used nor disturbed. Small load
batches make the loader cross many batch boundaries, where a row per batch could go missing.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from scripts import warehouse
from tests.conftest import assert_no_secrets
from tests.e2e.conftest import (
    COLUMNS,
    KEY,
    Database,
    expected_sums,
    in_range,
    run_meltano,
    signed_fake,
    tap_env,
)
from tests.fakes.aws_data import ACCOUNTS, synthetic_rows

pytestmark = pytest.mark.meltano

FIRST_MONTH, MONTHS = date(2022, 1, 1), 48  # 2022-01 .. 2025-12, the API's whole history to date
BATCH_ROWS = 500
TABLE = "carbon_raw.carbon_emissions"  # target-warehouse inherits default_target_schema


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def embedded_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    """A fresh embedded warehouse on a free port, stopped afterwards."""
    directory = tmp_path_factory.mktemp("wh")  # short: the Unix socket path must fit 103 bytes
    port = _free_port()
    assert port != warehouse.DEFAULT_PORT
    try:
        assert warehouse.start(directory, port) == warehouse.url(port)
        yield Database(warehouse.HOST, port, warehouse.DATABASE)
    finally:
        warehouse.stop(directory)  # also after a half-done start


@pytest.fixture
def big_fake():
    """Twice the demo's accounts over four years: a few thousand rows, many load batches."""
    accounts = [*ACCOUNTS, "004400440044", "555555555555", "098765432109"]
    rows = synthetic_rows(FIRST_MONTH, MONTHS, seed=11, accounts=accounts)
    with signed_fake(rows, page_size_cap=200) as server:
        yield server


def test_embedded_warehouse_loses_no_row_across_load_batches(
    big_fake, embedded_warehouse: Database, tmp_path: Path
):
    env = {
        **tap_env(big_fake, tmp_path),
        "TAP_AWS_CARBON_START_DATE": FIRST_MONTH.isoformat(),
        "TARGET_WAREHOUSE_PORT": str(embedded_warehouse.port),
        "TARGET_WAREHOUSE_BATCH_SIZE_ROWS": str(BATCH_ROWS),
    }
    expected = in_range(big_fake.rows, FIRST_MONTH)
    assert len(expected) > 6 * BATCH_ROWS, "the data set must span many load batches"

    run = run_meltano("run", "tap-aws-carbon", "target-warehouse", env=env).check()
    assert_no_secrets(run.stdout, run.stderr)

    db = embedded_warehouse
    assert db.one(f"select count(*) from {TABLE}") == len(expected)
    sums = db.rows(f"select {', '.join(f'sum({c})' for c in COLUMNS)} from {TABLE}")[0]
    assert dict(zip(COLUMNS, sums, strict=True)) == expected_sums(expected)

    key = " || '|' || ".join(f"{k}::text" for k in KEY)
    loaded = {k for (k,) in db.rows(f"select {key} from {TABLE}")}
    # The tap emits months in order and the API sorts each month's rows by its GroupBy keys.
    emitted = sorted(f"{r.month}|{r.account}|{r.region}|{r.service}" for r in expected)
    assert loaded == set(emitted)
    # Each load batch stamps its rows with one _sdc_batched_at: every batch is full, and
    # starts with the record that opened it.
    batches = db.rows(
        f"select count(*), min({key}) from {TABLE} group by _sdc_batched_at order by 2"
    )
    full, rest = divmod(len(expected), BATCH_ROWS)
    assert [n for n, _ in batches] == [BATCH_ROWS] * full + ([rest] if rest else [])
    assert [first for _, first in batches] == emitted[::BATCH_ROWS]
