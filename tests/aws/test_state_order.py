"""The export and CUR state names a file (a billing period) only after all its records went out.

A target saves the last STATE it received once the records before it are written, so a STATE
naming a file whose rows come later loses those rows if the run dies in between; the resumed run
skips the file. The "interrupted run" tests replay a state saved by a complete run, so they
cannot see the order: this checks it message by message over one run's output.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

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
    problems = []
    states = 0
    for message in run.messages:
        if message["type"] == "RECORD" and message["stream"] == stream:
            sent[unit_of(message["record"])] += weight(message["record"])
        elif message["type"] == "STATE":
            named = message["value"].get("bookmarks", {}).get(stream, {}).get(done_field, {})
            states += bool(named)
            problems += [
                f"STATE #{states} names {unit} with {sent[unit]} of {expected[unit]} sent"
                for unit in named
                if sent[unit] != expected[unit]
            ]
    assert states >= len(expected), "expected a STATE after every unit"
    return problems


def test_export_state_names_a_file_only_after_all_its_rows(fake, tap_runner, tmp_path):
    rows = synthetic_rows(date(2025, 7, 1), 4, seed=31)
    root = tmp_path / "export"
    files = write_export(root, rows, manifests=False)
    run = run_export(tmp_path, tap_runner, export_config(fake, str(root)))
    assert run.returncode == 0, run.stderr
    records = run.records(EXPORT)
    assert len(records) == len(rows) and len(files) >= 3
    # Rows per file as written; the state keys a local file by its path, as in _source_file.
    per_file = Counter(r["_source_file"] for r in records)
    assert set(per_file) == {str(f) for f in files}
    problems = early_states(
        run, EXPORT, "files", lambda r: r["_source_file"], lambda r: 1, per_file
    )
    assert not problems, "\n".join(problems[:10])


def test_cur_state_names_a_period_only_after_all_its_line_items(tap_runner, tmp_path):
    periods = {"2026-01": 300, "2026-02": 200, "2026-03": 100}
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
