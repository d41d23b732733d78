"""Calendar arithmetic: the Carbon API serves whole months, Cost Management whole days."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta


def month_start(day: date) -> date:
    return day.replace(day=1)


def add_months(month: date, count: int) -> date:
    index = month.year * 12 + (month.month - 1) + count
    return date(index // 12, index % 12 + 1, 1)


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
    return datetime.now(UTC).date()
