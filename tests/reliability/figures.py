"""The reliability suite's figures: counted by the tests, printed as one table at session end.

Each test adds what it actually did (`record("aws", fault_runs=1, outputs_identical=1)`); the
root conftest prints the table after the run, next to the secret scan, so the README's figures
are whatever the last run counted, never typed in by hand.

Trial counts: the CI default exercises every case with small counts; `CARBON_TAPS_RELIABILITY=full`
runs the counts the README reports (e.g. 20 crash trials per tap, 500 bad inputs per tap).
"""

from __future__ import annotations

import os
from collections import Counter, defaultdict

TAPS = {"aws": "tap-aws-carbon", "azure": "tap-azure-emissions", "gcp": "tap-gcp-carbon"}
COLUMNS = {
    "fault_cases": "fault cases",
    "fault_runs": "faulty runs",
    "outputs_identical": "outputs identical",
    "crash_trials": "crash trials",
    "rows_lost": "rows lost",
    "rows_duplicated": "rows duplicated",
    "bad_inputs": "bad inputs tried",
    "unclear_errors": "unclear errors",
}
FULL = os.environ.get("CARBON_TAPS_RELIABILITY", "").lower() == "full"

FIGURES: dict[str, Counter[str]] = defaultdict(Counter)


def trials(ci: int, full: int) -> int:
    """How many trials to run: the small CI default, or the full count behind the flag."""
    return full if FULL else ci


def record(tap: str, **counts: int) -> None:
    assert tap in TAPS, f"unknown tap {tap!r}"
    unknown = set(counts) - set(COLUMNS)
    assert not unknown, f"unknown figure(s) {sorted(unknown)}"
    FIGURES[tap].update(counts)


def table(secret_hits: dict[str, int]) -> str:
    """Markdown table, one row per tap; '' when no reliability test ran."""
    if not FIGURES:
        return ""
    head = ["tap", *COLUMNS.values(), "secret hits"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for tap in TAPS:
        counts = FIGURES.get(tap, Counter())
        cells = [TAPS[tap], *(str(counts[key]) for key in COLUMNS), str(secret_hits[tap])]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
