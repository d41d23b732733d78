"""Calendar arithmetic for provider data: the APIs' periods are whole months or calendar years."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime


def month_start(day: date) -> date:
    return day.replace(day=1)


def add_months(month: date, count: int) -> date:
    index = month.year * 12 + (month.month - 1) + count
    return date(index // 12, index % 12 + 1, 1)


def months_between(start: date, end: date) -> Iterator[date]:
    """First days of the months from `start`'s month up to, not including, `end` (exclusive)."""
    month = month_start(start)
    while month < end:
        yield month
        month = add_months(month, 1)


def current_month(now: datetime | None = None) -> date:
    """The month in progress (UTC): it cannot have data yet, so ranges end before it."""
    return month_start((now or datetime.now(UTC)).date())


def year_start(day: date) -> date:
    return date(day.year, 1, 1)


def add_years(year: date, count: int) -> date:
    return date(year.year + count, 1, 1)
