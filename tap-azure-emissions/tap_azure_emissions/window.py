"""Which months a run reads: the Carbon API's own data window, start_month and the look-back."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from carbon_taps_shared.periods import look_back
from carbon_taps_shared.tapbase import TapUserError

from tap_azure_emissions.periods import month_start, months_through


def window_of(answer: Mapping[str, Any]) -> tuple[date, date]:
    """(first, last) month of the data window answer; a malformed one ends the run."""
    first: date | None
    last: date | None
    try:
        first, last = (
            month_start(date.fromisoformat(answer[key][:10])) for key in ("startDate", "endDate")
        )
    except (KeyError, TypeError, ValueError):
        first = last = None
    if first is None or last is None or last < first:
        raise TapUserError(
            "the Carbon API's data window answer has no valid startDate/endDate (YYYY-MM-DD, "
            "start before end); check arm_endpoint and api_version"
        )
    return first, last


def planned_months(
    window: tuple[date, date], start_month: str | None, bookmark: str | None, lookback: int
) -> list[date]:
    """Available months from start_month, or from the bookmark minus the look-back."""
    first, last = window
    if start_month:
        first = max(first, month_start(date.fromisoformat(start_month[:10])))
    first = look_back(first, bookmark, lookback)
    return list(months_through(first, last)) if first <= last else []
