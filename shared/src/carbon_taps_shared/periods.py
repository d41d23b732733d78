"""Calendar arithmetic the providers' periods need: whole months and calendar years, in UTC."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta


def month_start(day: date) -> date:
    """The first day of the month holding ``day``."""
    return day.replace(day=1)


def add_months(month: date, count: int) -> date:
    """The first day of the month ``count`` months after ``month``."""
    index = month.year * 12 + (month.month - 1) + count
    return date(index // 12, index % 12 + 1, 1)


def current_month(now: datetime | None = None) -> date:
    """The month in progress (UTC): it cannot have monthly data yet, so ranges end before it."""
    return month_start((now or datetime.now(UTC)).date())


def year_start(day: date) -> date:
    """The first day of the year holding ``day``."""
    return date(day.year, 1, 1)


def add_years(year: date, count: int) -> date:
    """The first day of the year ``count`` years after ``year``."""
    return date(year.year + count, 1, 1)


def add_days(day: date, count: int) -> date:
    """The day ``count`` days after ``day``."""
    return day + timedelta(days=count)


def _same_day(day: date) -> date:
    return day


def look_back(
    first: date,
    bookmark: object,
    back: int,
    *,
    align: Callable[[date], date] = month_start,
    shift: Callable[[date, int], date] = add_months,
) -> date:
    """Where an incremental run starts: ``back`` periods before the bookmark's period, but never
    before ``first`` (the configured start). Providers restate recent periods, so each run
    re-reads a few; the records' keys make the re-read an upsert. Without a bookmark: ``first``.

    ``bookmark`` is a state value (ISO text or a date); periods are months unless ``align`` and
    ``shift`` say otherwise (``year_start``/``add_years``, or ``look_back_days``).
    """
    if not bookmark:
        return first
    return max(first, shift(align(date.fromisoformat(str(bookmark)[:10])), -int(back)))


def look_back_days(first: date, bookmark: object, days: int) -> date:
    """``look_back`` in days, for daily data such as cost rows."""
    return look_back(first, bookmark, days, align=_same_day, shift=add_days)
