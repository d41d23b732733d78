"""A run-level deadline (`max_run_minutes`): a provider throttling most requests cannot keep a
run alive indefinitely, and the run it cuts short loses nothing.

Each tap runs against its fake throttling 80% of requests (each attempt on its own within
`max_attempts` and `max_retry_seconds`, so only the run-level deadline can end the run). The run
must stop soon after the deadline with one line naming the setting, emit a state that covers
only what it emitted, and a resumed run from that state must bring the warehouse to the records
of a fault-free run.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.conftest import run_tap
from tests.reliability.test_faults import (
    TAPS,
    TapCase,
    assert_state_not_ahead,
    fault_mode,
    keyed,
    running,
)

DEADLINE_MINUTES = 0.1  # six seconds from the start of the sync
STARTUP_SLACK = 20.0  # interpreter and client start-up on a busy 2-core machine, plus one request
THROTTLED = {
    "max_attempts": 20,
    "max_retry_seconds": 600,
    "request_timeout_seconds": 5,
    "max_requests_per_second": 0,
}


@pytest.mark.parametrize("case", TAPS.values(), ids=TAPS.keys())
def test_a_run_throttled_without_end_stops_at_the_deadline_and_resumes(
    case: TapCase, tmp_path: Path
) -> None:
    with running(case, None) as (_, config):
        clean = run_tap(case.executable, config, tmp_path)
    assert clean.returncode == 0, clean.stderr[-2000:]

    faults = fault_mode(3, rate=0.8, kinds=("429",))
    with running(case, faults) as (_, config):
        config.update(THROTTLED, max_run_minutes=DEADLINE_MINUTES)
        started = time.monotonic()
        cut = run_tap(case.executable, config, tmp_path, timeout=300)
        elapsed = time.monotonic() - started

    assert cut.returncode == 1, cut.stderr[-2000:]
    assert elapsed < DEADLINE_MINUTES * 60 + STARTUP_SLACK, f"ran {elapsed:.1f}s"
    assert len(cut.error_lines) == 1, cut.error_lines
    assert "max_run_minutes (0.1) passed" in cut.error_lines[0]
    assert "Traceback" not in cut.stderr
    assert cut.final_state is not None, "the state of what was emitted must be written"
    assert_state_not_ahead(cut)

    with running(case, None) as (_, config):
        resumed = run_tap(case.executable, config, tmp_path, state=cut.final_state)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert keyed(cut, resumed) == keyed(clean), "the resumed run must fill in what was cut"
