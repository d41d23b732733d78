"""The resilience layer as small steps that every client adapter assembles the same way.

Pacing, retrying (with the run's deadline) and telemetry are each one ``Step``. A ``Pipeline``
holds them outermost first, as azure-core orders its policies: an attempt passes down through
every step's ``before``, is sent, and comes back up through every ``after`` in reverse. Where a
client library owns the retry loop (botocore's ``before-send`` and ``needs-retry`` events), its
hooks call ``Pipeline.before`` and ``Pipeline.after``; elsewhere ``Pipeline.call`` runs the loop.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from carbon_taps_shared.errors import Classification, classify
from carbon_taps_shared.policy import RetryPolicy, log_retry
from carbon_taps_shared.ratelimit import TokenBucket
from carbon_taps_shared.telemetry import Telemetry

T = TypeVar("T")


@dataclass
class Attempt:
    """One call's current try, as the steps see it; one object serves all tries of a call.

    Each step notes on it what the others need: when the call started (the retry budget counts
    from there), when this try was sent, its outcome, and the wait before the next try.
    """

    operation: str = ""
    number: int = 0
    started: float | None = None
    sent: float | None = None
    status: int | None = None
    failure: Classification | None = None
    wait: float | None = None

    def next(self) -> None:
        """Begin the following try: its number one up, the last try's notes cleared."""
        self.number += 1
        self.sent = self.status = self.failure = self.wait = None

    def succeeded(self, status: int | None) -> None:
        """The try was answered with success (``status`` if the transport has one)."""
        self.status, self.failure, self.wait = status, None, None

    def failed(self, classification: Classification) -> None:
        """The try failed; its classification is what every step reads."""
        self.status, self.failure, self.wait = classification.status, classification, None


class Step:
    """One concern of the resilience layer; each hook does nothing unless a step needs it."""

    def before(self, attempt: Attempt) -> None:
        """Just before a try is sent: may wait, or raise so that it is never sent."""

    def after(self, attempt: Attempt) -> None:
        """Once the try's outcome is noted on ``attempt``."""

    def retrying(self, attempt: Attempt) -> None:
        """The call will be tried again after ``attempt.wait`` seconds."""


class PacingStep(Step):
    """Every try, retries included, waits for a token, so the run stays under the quota."""

    def __init__(self, limiter: TokenBucket | None) -> None:
        self.limiter = limiter

    def before(self, attempt: Attempt) -> None:
        """Take one token, waiting for it if the bucket is empty."""
        if self.limiter is not None:
            self.limiter.acquire()


class RetryStep(Step):
    """The run's retry policy decides each wait; no try starts after the run's deadline."""

    def __init__(
        self,
        policy: RetryPolicy,
        *,
        provider: str | None = None,
        logger: logging.Logger | None = None,
        on_retry: Callable[[int, Classification, float], None] | None = None,
    ) -> None:
        """Each retry is logged with ``log_retry`` when ``provider`` is given."""
        self.policy = policy
        self.provider = provider
        self.logger = logger
        self.on_retry = on_retry

    def before(self, attempt: Attempt) -> None:
        """Start the call's retry budget on the first try; stop the run at its deadline."""
        if attempt.started is None:
            attempt.started = self.policy.clock()
        self.policy.check_deadline()

    def after(self, attempt: Attempt) -> None:
        """The wait before the next try, or None to give up (RunDeadlineExceeded past it)."""
        if attempt.failure is None:
            return
        if attempt.started is None:
            attempt.started = self.policy.clock()
        attempt.wait = self.policy.wait_for(
            attempt.number, attempt.failure, started=attempt.started
        )

    def retrying(self, attempt: Attempt) -> None:
        """One line per retry, so a throttled run says why it is slow."""
        if attempt.failure is None or attempt.wait is None:
            return
        if self.on_retry is not None:
            self.on_retry(attempt.number, attempt.failure, attempt.wait)
        if self.provider is not None:
            log_retry(
                self.provider,
                attempt.operation,
                attempt.failure,
                attempt.number,
                self.policy.max_attempts,
                attempt.wait,
                self.logger,
            )


class TelemetryStep(Step):
    """Counts and times every try, and counts every retry by the class of its failure."""

    def __init__(
        self,
        telemetry: Telemetry | None,
        *,
        provider: str,
        stream: str | None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.telemetry = telemetry
        self.provider = provider
        self.stream = stream
        self.clock = clock

    def before(self, attempt: Attempt) -> None:
        """Note when the try goes out, after any pacing wait."""
        attempt.sent = self.clock()

    def after(self, attempt: Attempt) -> None:
        """One request count and duration, with its status and failure class."""
        if self.telemetry is None:
            return
        duration = self.clock() - attempt.sent if attempt.sent is not None else 0.0
        self.telemetry.record_request(
            provider=self.provider,
            stream=self.stream,
            operation=attempt.operation,
            status=attempt.status,
            error_class=attempt.failure.error_class.value if attempt.failure else None,
            attempt=attempt.number,
            duration_s=duration,
        )

    def retrying(self, attempt: Attempt) -> None:
        """One retry count (and a throttle count when throttled)."""
        if self.telemetry is not None and attempt.failure is not None:
            self.telemetry.record_retry(
                provider=self.provider,
                stream=self.stream,
                error_class=attempt.failure.error_class.value,
            )


class Pipeline:
    """Steps outermost first: ``before`` runs in their order, ``after`` in reverse."""

    def __init__(
        self,
        steps: Sequence[Step],
        *,
        classify: Callable[[BaseException], Classification] = classify,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        """``classify`` names what a failure was; ``sleep`` waits between tries in ``call``."""
        self.steps = tuple(steps)
        self.classify = classify
        self.sleep = sleep

    def before(self, attempt: Attempt) -> None:
        """Run every step's ``before``; a step that raises keeps the try from being sent."""
        for step in self.steps:
            step.before(attempt)

    def after(self, attempt: Attempt) -> None:
        """Run every ``after`` innermost first, then every ``retrying`` if a wait was decided."""
        for step in reversed(self.steps):
            step.after(attempt)
        if attempt.wait is not None:
            for step in reversed(self.steps):
                step.retrying(attempt)

    def call(
        self,
        fn: Callable[[], T],
        attempt: Attempt | None = None,
        *,
        status_of: Callable[[T], int | None] | None = None,
    ) -> T:
        """Try ``fn`` until it succeeds or a step gives up; the last failure is re-raised.

        Pass ``attempt`` to name the operation and to read how many tries it took.
        """
        attempt = attempt if attempt is not None else Attempt()
        while True:
            attempt.next()
            self.before(attempt)
            try:
                result = fn()
            except Exception as exc:
                attempt.failed(self.classify(exc))
                self.after(attempt)
                if attempt.wait is None:
                    raise
                self.sleep(attempt.wait)
            else:
                attempt.succeeded(status_of(result) if status_of is not None else None)
                self.after(attempt)
                return result


def resilience_pipeline(
    policy: RetryPolicy,
    *,
    limiter: TokenBucket | None,
    telemetry: Telemetry | None,
    provider: str,
    stream: str | None,
    logger: logging.Logger | None = None,
    classify: Callable[[BaseException], Classification] = classify,
    clock: Callable[[], float] = time.monotonic,
) -> Pipeline:
    """The one assembly every client adapter uses: retry, then pacing, then telemetry.

    Retry is outermost so its deadline check comes before any pacing wait; telemetry is
    innermost so a try's duration leaves the pacing wait out. ``clock`` times the tries.
    """
    return Pipeline(
        [
            RetryStep(policy, provider=provider, logger=logger),
            PacingStep(limiter),
            TelemetryStep(telemetry, provider=provider, stream=stream, clock=clock),
        ],
        classify=classify,
        sleep=policy.sleep,
    )


__all__ = [
    "Attempt",
    "PacingStep",
    "Pipeline",
    "RetryStep",
    "Step",
    "TelemetryStep",
    "resilience_pipeline",
]
