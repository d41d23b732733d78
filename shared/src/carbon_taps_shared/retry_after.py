"""Read how long a server asked us to back off, across the providers' header dialects."""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime


def _seconds(value: str, scale: float = 1.0) -> float | None:
    try:
        number = float(value.strip()) * scale
    except (TypeError, ValueError):
        return None
    if not math.isfinite(number):
        return None
    return max(0.0, number)


def _http_date_seconds(value: str, now: datetime) -> float | None:
    try:
        when = parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


def retry_after_seconds(headers: Mapping[str, str], now: datetime | None = None) -> float | None:
    """Longest wait any throttling header asks for.

    The longest wins because Azure sends several scopes (tenant, entity, client
    type) at once and retrying before the slowest one frees up just earns
    another 429.
    """
    if not headers:
        return None
    now = now or datetime.now(UTC)
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    found: list[float] = []
    for raw_name, raw_value in headers.items():
        if raw_value is None:
            continue
        name = str(raw_name).lower()
        value = str(raw_value)
        seconds: float | None = None
        if name == "retry-after":
            seconds = _seconds(value)
            if seconds is None:
                seconds = _http_date_seconds(value, now)
        elif name in ("x-amz-retry-after", "retry-after-ms", "x-ms-retry-after-ms"):
            seconds = _seconds(value, scale=0.001)
        elif name.startswith("x-ms-ratelimit-") and name.endswith("retry-after"):
            seconds = _seconds(value)
        if seconds is not None:
            found.append(seconds)
    return max(found) if found else None
