"""Calendar arithmetic the providers' periods need: whole months and calendar years, in UTC."""

from __future__ import annotations

from datetime import UTC, date, datetime


def month_start(day: date) -> date:
    return day.replace(day=1)


def add_months(month: date, count: int) -> date:
    index = month.year * 12 + (month.month - 1) + count
    return date(index // 12, index % 12 + 1, 1)


def current_month(now: datetime | None = None) -> date:
    """The month in progress (UTC): it cannot have monthly data yet, so ranges end before it."""
    return month_start((now or datetime.now(UTC)).date())


def year_start(day: date) -> date:
    return date(day.year, 1, 1)


def add_years(year: date, count: int) -> date:
    return date(year.year + count, 1, 1)
