"""The export and CUR state names a file (a billing period) only after all its records went out.

A target saves the last STATE it received once the records before it are written, so a STATE
naming a file whose rows come later loses those rows if the run dies in between; the resumed run
skips the file. The "interrupted run" tests replay a state saved by a complete run, so they
cannot see the order: this checks it message by message over one run's output.

Between a stream's own state writes (after each file or period) singer-sdk writes a STATE every
`STATE_MSG_FREQUENCY` (10,000) records, wherever that falls; it goes out only if the state has
changed since the last one. Only such a STATE can name a half-sent unit, so each run here has
its 10,000th record inside a unit (checked), where a unit marked done too early shows.
"""

from __future__ import annotations

import csv
import gzip
import io
from collections import Counter
from collections.abc import Callable, Mapping
from datetime import date
from pathlib import Path
from typing import Any

from singer_sdk import Stream

from tests.aws.test_carbon_emissions_export import STREAM as EXPORT
from tests.aws.test_carbon_emissions_export import export_config, run_export
from tests.aws.test_cur_usage_daily import STREAM as CUR
from tests.aws.test_cur_usage_daily import cur_config, run_cur
from tests.conftest import TapRun
from tests.fakes.aws_cur import line_items, write_legacy_cur
from tests.fakes.aws_data import synthetic_rows
from tests.fakes.aws_export import write_export


def early_states(
    run: TapRun,
    stream: str,
    done_field: str,
    unit_of: Callable[[Mapping[str, Any]], str],
    weight: Callable[[Mapping[str, Any]], int],
    expected: Mapping[str, int],
) -> list[str]:
    """Every STATE that names a unit (file or period) before all its expected weight was sent."""
    sent: Counter[str] = Counter()
    problems: list[str] = []
    units: list[str] = []  # the unit of each record, in order
    for message in run.messages:
        if message["type"] == "RECORD" and message["stream"] == stream:
            units.append(unit_of(message["record"]))
            sent[units[-1]] += weight(message["record"])
        elif message["type"] == "STATE":
            named = message["value"].get("bookmarks", {}).get(stream, {}).get(done_field, {})
            unknown = set(named) - set(expected)
            assert not unknown, f"the state names units no record came from: {sorted(unknown)}"
            problems += [
                f"STATE after record {len(units)} names {unit} with {sent[unit]} of "
                f"{expected[unit]} sent"
                for unit in named
                if sent[unit] != expected[unit]
            ]
    assert dict(sent) == dict(expected), "records lost or doubled"
    every = Stream.STATE_MSG_FREQUENCY
    assert len(units) > every and units[every - 1] == units[every], (
        f"record {every}, where singer-sdk writes a STATE, must sit inside a unit"
    )
    return problems


def rows_in(path: Path) -> int:
    """Data rows of a gzip CSV export file, counted from the file itself."""
    return sum(1 for _ in csv.DictReader(io.StringIO(gzip.decompress(path.read_bytes()).decode())))


def test_export_state_names_a_file_only_after_all_its_rows(fake, tap_runner, tmp_path):
    accounts = [f"{100000000000 + n:012d}" for n in range(300)]
    rows = synthetic_rows(date(2025, 7, 1), 3, seed=31, accounts=accounts)  # 12,150 rows
    root = tmp_path / "export"
    files = write_export(root, rows, manifests=False, chunk_rows=3000)  # 6 files
    run = run_export(tmp_path, tap_runner, export_config(fake, str(root)))
    assert run.returncode == 0, run.stderr
    # The state keys a file by its path under the export root.
    per_file = {f.relative_to(root).as_posix(): rows_in(f) for f in files}

    def unit_of(record: Mapping[str, Any]) -> str:
        return Path(record["_source_file"]).relative_to(root).as_posix()

    problems = early_states(run, EXPORT, "files", unit_of, lambda r: 1, per_file)
    assert not problems, "\n".join(problems[:10])


def test_cur_state_names_a_period_only_after_all_its_line_items(tap_runner, tmp_path):
    periods = {"2026-01": 8000, "2026-02": 8000}  # ~5,550 daily rows each
    items = [
        item
        for number, (period, count) in enumerate(periods.items())
        for item in line_items(date.fromisoformat(period + "-01"), count, seed=40 + number)
    ]
    root = tmp_path / "cur"
    write_legacy_cur(root, items, assembly_id="asm-1")
    run = run_cur(tmp_path, tap_runner, cur_config(str(root)))
    assert run.returncode == 0, run.stderr
    problems = early_states(
        run,
        CUR,
        "periods",
        lambda r: r["billing_period"],
        lambda r: r["line_item_count"],
        periods,
    )
    assert not problems, "\n".join(problems[:10])
