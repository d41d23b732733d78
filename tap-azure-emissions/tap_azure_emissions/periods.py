"""Calendar arithmetic: the Carbon API serves whole months, Cost Management whole days."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

from carbon_taps_shared.periods import add_months, month_start

__all__ = ["add_months", "month_segments", "month_start", "months_through", "today"]


def months_through(first: date, last: date) -> Iterator[date]:
    """First days of the months from `first`'s month through `last`'s month (inclusive)."""
    month, last = month_start(first), month_start(last)
    while month <= last:
        yield month
        month = add_months(month, 1)


def month_segments(first: date, last: date) -> Iterator[tuple[date, date]]:
    """[from, to] day ranges (inclusive) cut at month ends: one Cost Management QPU each."""
    day = first
    while day <= last:
        end = min(add_months(month_start(day), 1) - timedelta(days=1), last)
        yield day, end
        day = end + timedelta(days=1)


def today() -> date:
    """Today in UTC, the calendar the Carbon API's months follow."""
    return datetime.now(UTC).date()
