"""The setting groups every tap declares in the same shape.

Each tap states only what is its own (names where the provider's vocabulary differs, defaults,
bounds and the provider's reason), so the three `--about` outputs keep their wording while the
types and structure live once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from singer_sdk import typing as th


@dataclass(frozen=True)
class FirstMonth:
    """The setting that says where a first run starts (`start_date` or `start_month`)."""

    name: str
    description: str
    default: str | None = None  # YYYY-MM-DD


@dataclass(frozen=True)
class LookBack:
    """The months re-read before the bookmark on every run, because providers restate."""

    description: str
    default: int
    maximum: int
    name: str = "lookback_months"


def history_settings(
    first: FirstMonth, look_back: LookBack, *, end_description: str | None = None
) -> list[th.Property[Any]]:
    """Where the history starts, optionally where it stops (`end_date`), and the look-back."""
    settings: list[th.Property[Any]] = [
        th.Property(
            first.name,
            th.DateType,
            default=first.default,
            description=first.description,
        )
    ]
    if end_description is not None:
        settings.append(th.Property("end_date", th.DateType, description=end_description))
    settings.append(
        th.Property(
            look_back.name,
            th.IntegerType(minimum=0, maximum=look_back.maximum),
            default=look_back.default,
            description=look_back.description,
        )
    )
    return settings


def resilience_settings(default_rps: float) -> list[th.Property[Any]]:
    """The retry and rate-limit settings every tap offers, with the provider's default pace."""
    return [
        th.Property(
            "max_requests_per_second",
            th.NumberType(minimum=0),
            default=default_rps,
            description="Client-side rate limit for API requests (0 = unlimited).",
        ),
        th.Property(
            "max_attempts",
            th.IntegerType(minimum=1, maximum=20),
            default=5,
            description="Total attempts per request, the first included, for throttled or "
            "transient failures. Authentication and validation errors are never retried.",
        ),
        th.Property(
            "max_retry_seconds",
            th.NumberType(minimum=0),
            default=300,
            description="Give up on a request once retrying it would take longer than this.",
        ),
        th.Property(
            "request_timeout_seconds",
            th.IntegerType(minimum=1),
            default=60,
            description="Connect and read timeout for each HTTP request.",
        ),
        th.Property(
            "max_run_minutes",
            th.NumberType(minimum=0),
            default=360,
            description="Stop the whole run at the next request once it has run this long, "
            "keeping the state of what was emitted, so a provider throttling most requests "
            "cannot keep it alive for ever (0 = no limit).",
        ),
    ]
