"""How long to keep trying, and how long to wait in between."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from carbon_taps_shared.errors import Classification, classify

T = TypeVar("T")

_MAX_EXPONENT = 60  # 2**60 seconds is already far past any cap
_RETRY_LOG = logging.getLogger("carbon_taps.retry")


def log_retry(
    provider: str,
    operation: str,
    classification: Classification,
    attempt: int,
    max_attempts: int,
    wait: float,
    logger: logging.Logger | None = None,
) -> None:
    """One INFO line per retry, alike for every provider: what failed, which attempt, the wait.

    A run slowed by throttling then says so, instead of going quiet for minutes.
    """
    detail = " ".join(str(p) for p in (classification.status, classification.code) if p)
    (logger or _RETRY_LOG).info(
        "%s %s %s (%s); attempt %d of %d failed, retrying in %.2fs",
        provider,
        operation,
        classification.error_class.value,
        detail or "no status",
        attempt,
        max_attempts,
        wait,
    )


class RunDeadlineExceeded(BaseException):
    """The run-level deadline (``max_run_minutes``) passed: no new request may start.

    A BaseException, like KeyboardInterrupt, so the client libraries' and the SDK's
    ``except Exception`` handlers let it through to the tap, which then writes the state of
    what was emitted and stops in one line.
    """


@dataclass
class RetryPolicy:
    """A single retry policy for every transport, so all taps behave alike.

    ``sleep``, ``clock`` and ``rng`` are fields so tests and callers with their
    own event loop can drive time themselves.
    """

    max_attempts: int = 5
    base_delay: float = 1.0
    max_delay: float = 60.0
    max_elapsed: float = 300.0
    jitter: bool = True
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    rng: random.Random = field(default_factory=random.Random)
    deadline: float | None = None  # a clock() reading: no request starts after it

    def check_deadline(self) -> None:
        """Called at each request boundary: past the run's deadline, stop the run there."""
        if self.deadline is not None and self.clock() >= self.deadline:
            raise RunDeadlineExceeded

    def backoff(self, attempt: int) -> float:
        """Full jitter spreads retries of many clients across the whole window."""
        exponent = min(max(attempt, 1) - 1, _MAX_EXPONENT)
        computed = min(self.max_delay, self.base_delay * (2**exponent))
        computed = max(0.0, computed)
        if self.jitter:
            return self.rng.uniform(0.0, computed)
        return computed

    def wait_for(
        self, attempt: int, classification: Classification, *, started: float
    ) -> float | None:
        """Seconds to wait before attempt ``attempt + 1``, or None to give up.

        A server-sent Retry-After is obeyed as is (jitter would only make us
        early) but it never stretches the run past ``max_elapsed``.
        """
        if not classification.error_class.retryable:
            return None
        if attempt >= self.max_attempts:
            return None
        if classification.retry_after is not None:
            wait = max(0.0, classification.retry_after)
        else:
            wait = self.backoff(attempt)
        elapsed = self.clock() - started
        if elapsed + wait > self.max_elapsed:
            return None
        if self.deadline is not None and self.clock() + wait >= self.deadline:
            raise RunDeadlineExceeded  # the retry would start after the run's deadline
        return wait

    def call(
        self,
        fn: Callable[[], T],
        *,
        on_retry: Callable[[int, Classification, float], None] | None = None,
        classify_fn: Callable[[BaseException], Classification] = classify,
    ) -> T:
        """Run ``fn`` until it succeeds or the policy gives up.

        The original exception is re-raised so each caller can translate it at
        its own boundary, where it knows the provider and operation.
        """
        from carbon_taps_shared.steps import Pipeline, RetryStep  # the steps build on this module

        retry = RetryStep(self, on_retry=on_retry)
        return Pipeline([retry], classify=classify_fn, sleep=self.sleep).call(fn)

    def botocore_retry_config(self) -> dict[str, int | str]:
        """For ``botocore.config.Config(retries=...)``: our hook does the retrying."""
        return {"total_max_attempts": 1, "mode": "standard"}
