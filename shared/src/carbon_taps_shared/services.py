"""What a run builds once and hands to every stream it creates.

A tap builds one services object per run (its clients, the retry policy, the pacer, telemetry and
the facts it finds once) and passes it to each stream's constructor, the way tap-postgres passes
its connector. Streams then never reach back into the tap, and no tap method needs a cache that
would outlive the run.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from functools import cached_property
from typing import Any, Generic, TypeVar

from singer_sdk import Stream, Tap

from carbon_taps_shared.policy import RetryPolicy
from carbon_taps_shared.ratelimit import TokenBucket
from carbon_taps_shared.telemetry import Telemetry, configure_from_env

T = TypeVar("T")


class RunServices:
    """The parts every tap of the suite needs for one run, built from its settings on first use."""

    def __init__(self, config: Mapping[str, Any], logger: logging.Logger, tap_name: str) -> None:
        self.config = config
        self.logger = logger
        self.tap_name = tap_name
        self._built: dict[tuple[Any, ...], Any] = {}

    @cached_property
    def telemetry(self) -> Telemetry:
        """One telemetry setup per run, from the OTEL_* environment."""
        return configure_from_env(self.tap_name)

    @cached_property
    def run_deadline(self) -> float | None:
        """time.monotonic() reading after which no request starts; first read as the sync starts."""
        minutes = float(self.config.get("max_run_minutes") or 0)
        return time.monotonic() + minutes * 60 if minutes > 0 else None

    @cached_property
    def retry_policy(self) -> RetryPolicy:
        """One retry policy per run, from the resilience settings and the run's deadline."""
        return RetryPolicy(
            max_attempts=int(self.config.get("max_attempts", 5)),
            max_elapsed=float(self.config.get("max_retry_seconds", 300)),
            deadline=self.run_deadline,
        )

    @cached_property
    def rate_limiter(self) -> TokenBucket:
        """One request pacer per run, shared by every stream of the tap."""
        return TokenBucket(float(self.config.get("max_requests_per_second", 0)))

    def once(self, key: tuple[Any, ...], build: Callable[[], T]) -> T:
        """`build()` on the first call for `key`, the same object after: one client per stream
        and run, dropped with the run's services instead of living on in a method cache."""
        if key not in self._built:
            self._built[key] = build()
        built: T = self._built[key]
        return built


S = TypeVar("S", bound=RunServices)


class ServiceStream(Stream, Generic[S]):
    """A stream built with its run's services object, which it uses instead of its tap.

    First among a stream's bases, so REST and SQL stream classes after it keep their own
    constructors: `class MyStream(ServiceStream[MyServices], RESTStream)`.
    """

    def __init__(self, tap: Tap, services: S, **kwargs: Any) -> None:
        self.services: S = services
        super().__init__(tap=tap, **kwargs)
