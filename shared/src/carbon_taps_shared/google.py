"""The shared retry policy for Google Cloud client libraries (google-api-core based).

Google's clients accept a ``retry`` object and only ever call it as ``retry(func)`` around each
single HTTP request (``Client._call_api``). ``PolicyRetry`` is such an object: every request the
library makes goes through the shared steps (``steps.resilience_pipeline``: our backoff,
Retry-After, attempt cap and run deadline, the rate limiter, telemetry). Pass it *instead of* the
library's default retry, and ``job_retry=None`` where a client would otherwise re-run whole jobs,
so nothing retries twice.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import replace
from typing import Any, TypeVar

from carbon_taps_shared.errors import Classification, ErrorClass, classify
from carbon_taps_shared.policy import RetryPolicy
from carbon_taps_shared.ratelimit import TokenBucket
from carbon_taps_shared.steps import Attempt, Pipeline, resilience_pipeline
from carbon_taps_shared.telemetry import Telemetry

T = TypeVar("T")

# Google's documented "retry these" reasons (google-cloud-bigquery `retry._RETRYABLE_REASONS`);
# any other structured reason on a 5xx is a permanent failure sent with a server status.
RETRYABLE_REASONS = frozenset({"rateLimitExceeded", "backendError", "internalError", "badGateway"})
_THROTTLE_REASONS = frozenset({"rateLimitExceeded"})


def error_reason(exc: BaseException) -> str | None:
    """``errors[0].reason`` of a google-api-core error, if the server sent one."""
    errors = getattr(exc, "errors", None)
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        reason = errors[0].get("reason")
        return str(reason) if reason else None
    return None


def classify_google(exc: BaseException) -> Classification:
    """``classify``, refined by Google's structured reason, which beats the HTTP status."""
    found = classify(exc)
    reason = error_reason(exc)
    if reason is None:
        return found
    if reason in _THROTTLE_REASONS:
        return replace(found, error_class=ErrorClass.THROTTLED, code=reason)
    if reason in RETRYABLE_REASONS:
        return replace(found, error_class=ErrorClass.TRANSIENT, code=reason)
    if found.error_class.retryable:
        # e.g. a 500 with reason "invalid" or "bytesBilledLimitExceeded": waiting cannot fix it.
        return replace(found, error_class=ErrorClass.FATAL, code=reason)
    return replace(found, code=reason)


class PolicyRetry:
    """A drop-in for ``google.api_core.retry.Retry`` driven by the shared ``RetryPolicy``."""

    def __init__(
        self,
        policy: RetryPolicy,
        *,
        limiter: TokenBucket | None = None,
        telemetry: Telemetry | None = None,
        provider: str = "gcp",
        stream: str | None = None,
        operation: str = "request",
    ) -> None:
        self.policy = policy
        self.limiter = limiter
        self.telemetry = telemetry
        self.provider = provider
        self.stream = stream
        self.operation = operation
        self.attempts = 0  # every HTTP attempt made through this object, for logs and tests

    def __bool__(self) -> bool:
        return True  # clients test `if retry:` before wrapping

    def __call__(self, func: Callable[..., T]) -> Callable[..., T]:
        """Wrap ``func`` as google-api-core wraps a call with its own ``Retry``."""

        @functools.wraps(func)
        def wrapped(*args: Any, **kwargs: Any) -> T:
            def send() -> T:
                self.attempts += 1
                return func(*args, **kwargs)

            return self._pipeline().call(send, Attempt(self.operation), status_of=_ok)

        return wrapped

    def _pipeline(self) -> Pipeline:
        """The shared steps, from this object's policy, pacer and telemetry as they are now."""
        return resilience_pipeline(
            self.policy,
            limiter=self.limiter,
            telemetry=self.telemetry,
            provider=self.provider,
            stream=self.stream,
            classify=classify_google,
        )


def _ok(result: object) -> int:
    return 200  # the library hands back parsed data; a failed request raised instead
