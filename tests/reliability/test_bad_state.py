"""A state the taps cannot start from ends in one line that names the state file and says how
to reset it; no traceback, no request, and never a silent run that reads nothing.

A bookmark in the future used to make every tap exit 0 without a request and write the same
bookmark back, run after run; a corrupt state file (empty, not JSON, a list, `bookmarks: null`,
a bookmark that is not a date) ended in a traceback.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import run_tap
from tests.reliability.test_faults import TAPS, running

# Every incremental stream of the three taps, with its replication key and, for partitioned
# streams, a partition context as the SDK writes it.
INCREMENTAL: list[tuple[str, str, str, dict[str, Any] | None]] = [
    ("aws", "carbon_emissions", "usage_period_start", None),
    ("aws", "water_allocation", "usage_period_start", None),
    ("azure", "emissions_monthly", "month", None),
    ("azure", "emissions_by_resource", "month", None),
    ("azure", "cost_daily", "usage_date", {"scope": "subscriptions/any"}),
    ("gcp", "carbon_footprint", "usage_month", None),
    ("gcp", "billing_usage_daily", "last_export_time", None),
]


def _state(stream: str, key: str, value: Any, context: dict[str, Any] | None) -> dict[str, Any]:
    bookmark = {"replication_key": key, "replication_key_value": value}
    if context is not None:
        return {"bookmarks": {stream: {"partitions": [{"context": context, **bookmark}]}}}
    return {"bookmarks": {stream: bookmark}}


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "state.json"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("tap", "stream", "key", "context"), INCREMENTAL, ids=[f"{t}-{s}" for t, s, *_ in INCREMENTAL]
)
@pytest.mark.parametrize("kind", ["future", "not_a_date"])
def test_a_future_or_unreadable_bookmark_stops_before_any_request(
    tap: str, stream: str, key: str, context: dict[str, Any] | None, kind: str, tmp_path: Path
) -> None:
    case = TAPS[tap]
    future = datetime.now(UTC) + timedelta(days=40)
    value = future.date().isoformat() if kind == "future" else "last tuesday"
    if kind == "future" and key == "last_export_time":
        value = future.isoformat()
    with running(case, None) as (fake, config):
        run = run_tap(case.executable, config, tmp_path, state=_state(stream, key, value, context))
        api_requests = [r for r in fake.requests if fake.eligible(r)]
    assert run.returncode == 1, run.stderr[-2000:]
    assert "Traceback" not in run.stderr
    assert len(run.error_lines) == 1, run.error_lines
    line = run.error_lines[0]
    assert f"stream {stream}" in line and repr(value) in line, line
    assert "later than now" in line if kind == "future" else "not a date" in line
    assert "meltano state clear" in line and "--state file" in line
    assert "State file " in line and "state-" in line  # the file the tap was given
    assert not api_requests, "nothing may be requested from a state that cannot be right"
    assert not run.records(stream)


def test_a_bookmark_of_today_is_not_refused(tmp_path: Path) -> None:
    """The skew tolerance: a usage day dated ahead of UTC (or a slow clock) is no reason to stop."""
    case = TAPS["azure"]
    tomorrow = (datetime.now(UTC) + timedelta(hours=20)).date().isoformat()
    state = _state("cost_daily", "usage_date", tomorrow, {"scope": "subscriptions/any"})
    with running(case, None) as (_, config):
        run = run_tap(case.executable, config, tmp_path, state=state)
    assert run.returncode == 0, run.stderr[-2000:]


CORRUPT = {
    "empty": ("", "is empty"),
    "blank": ("  \n", "is empty"),
    "not_json": ('{"bookmarks": {"carbon_emissions": ', "is not JSON"),
    "truncated_utf8": ("\ufeff{", "is not JSON"),
    "list": ('[{"bookmarks": {}}]', "holds a list, not a JSON object"),
    "empty_list": ("[]", "holds a list, not a JSON object"),
    "text": ('"bookmarks"', "holds text, not a JSON object"),
    "bookmarks_null": ('{"bookmarks": null}', "`bookmarks` is null"),
    "bookmarks_list": ('{"bookmarks": []}', "`bookmarks` is a list"),
    "stream_null": ('{"bookmarks": {"carbon_emissions": null}}', "is null, not an object"),
    "partitions_bad": (
        '{"bookmarks": {"carbon_emissions": {"partitions": {"context": {}}}}}',
        "are not a list of objects",
    ),
    "bookmark_number": (
        '{"bookmarks": {"carbon_emissions": {"replication_key": "usage_period_start", '
        '"replication_key_value": 20240101}}}',
        "20240101, not a date",
    ),
}


@pytest.mark.parametrize("name", CORRUPT)
def test_a_corrupt_state_file_is_named_in_one_line(name: str, tmp_path: Path) -> None:
    text, expected = CORRUPT[name]
    path = _write(tmp_path, text)
    case = TAPS["aws"]
    with running(case, None) as (fake, config):
        run = run_tap(case.executable, config, tmp_path, args=("--state", str(path)))
        api_requests = [r for r in fake.requests if fake.eligible(r)]
    assert run.returncode == 1, run.stderr[-2000:]
    assert "Traceback" not in run.stderr
    assert len(run.error_lines) == 1, run.error_lines
    line = run.error_lines[0]
    assert f"State file {path}" in line and expected in line, line
    assert "meltano state clear" in line
    assert not api_requests
    assert not run.messages
