"""Run botocore's retry loop on our RetryPolicy instead of its own rules.

botocore already owns the loop (re-signing each attempt, sleeping on the
delay a ``needs-retry`` handler returns), so we decide instead of replacing it:
its ``before-send`` and ``needs-retry`` events run the shared steps' ``before``
and ``after`` (``steps.resilience_pipeline``), as the other adapters do.
"""

from __future__ import annotations

import json
from typing import Any

from carbon_taps_shared.errors import (
    Classification,
    ErrorClass,
    ProviderError,
    classify,
    classify_aws_error,
)
from carbon_taps_shared.policy import RetryPolicy
from carbon_taps_shared.ratelimit import TokenBucket
from carbon_taps_shared.steps import Attempt, Pipeline, resilience_pipeline
from carbon_taps_shared.telemetry import Telemetry

_ATTEMPT = "_carbon_taps_attempt"


class BotocoreRetryHook:
    """Event handlers for one client; create with ``install``."""

    def __init__(
        self,
        policy: RetryPolicy,
        *,
        telemetry: Telemetry | None = None,
        limiter: TokenBucket | None = None,
        provider: str = "aws",
        stream: str | None = None,
    ) -> None:
        self.policy = policy
        self.telemetry = telemetry
        self.limiter = limiter
        self.provider = provider
        self.stream = stream

    @classmethod
    def install(
        cls,
        client: Any,
        policy: RetryPolicy,
        *,
        telemetry: Telemetry | None = None,
        limiter: TokenBucket | None = None,
        provider: str = "aws",
        stream: str | None = None,
    ) -> BotocoreRetryHook:
        """Register on ``client``.

        The retry handler is registered first and answers False to stop, so it
        overrides botocore's own handler even when the client was built
        without ``policy.botocore_retry_config()``.
        """
        hook = cls(policy, telemetry=telemetry, limiter=limiter, provider=provider, stream=stream)
        service_id = client.meta.service_model.service_id.hyphenize()
        events = client.meta.events
        events.register_first(
            f"before-send.{service_id}",
            hook.before_send,
            unique_id=f"carbon-taps-before-send-{service_id}",
        )
        events.register_first(
            f"needs-retry.{service_id}",
            hook.needs_retry,
            unique_id=f"carbon-taps-needs-retry-{service_id}",
        )
        return hook

    def before_send(self, request: Any = None, **kwargs: Any) -> None:
        """Pace every attempt, retries included; returning None lets the send happen."""
        context = getattr(request, "context", None)
        attempt = _attempt_in(context) if isinstance(context, dict) else Attempt()
        first = attempt.number == 0
        attempt.next()
        self._pipeline().before(attempt)
        if first:
            # The retry budget of a botocore call has always counted from its first send, after
            # pacing; the other adapters count from the call, so this one keeps its own start.
            attempt.started = self.policy.clock()
        return

    def needs_retry(
        self,
        response: tuple[Any, dict[str, Any]] | None = None,
        endpoint: Any = None,
        operation: Any = None,
        attempts: int = 1,
        caught_exception: BaseException | None = None,
        request_dict: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> float | bool | None:
        """Seconds to sleep before the next attempt, False to stop, None on success."""
        attempt = _attempt_in((request_dict or {}).get("context", {}))
        attempt.operation = getattr(operation, "name", None) or "unknown"
        attempt.number = attempts

        malformed = False
        if response is not None and caught_exception is None:
            http_response, parsed = response
            status = int(getattr(http_response, "status_code", 0) or 0)
            malformed = status < 300 and _malformed_json(operation, http_response)
            if status < 300 and not malformed:
                attempt.succeeded(status)
                self._pipeline().after(attempt)
                return None
            attempt.failed(
                Classification(
                    error_class=ErrorClass.TRANSIENT,
                    status=status,
                    code="MalformedResponse",
                    message="the response body is not valid JSON",
                )
                if malformed
                else _classify_parsed(status, parsed, http_response)
            )
        elif caught_exception is not None:
            attempt.failed(classify(caught_exception))
        else:
            return None

        self._pipeline().after(attempt)
        if attempt.wait is None:
            if malformed and attempt.failure is not None:
                # botocore would hand the caller a "success" holding no data at all.
                raise ProviderError(
                    attempt.failure, provider=self.provider, operation=attempt.operation
                )
            return False
        return attempt.wait

    def _pipeline(self) -> Pipeline:
        """The shared steps; attempts are timed on the policy's clock, as botocore's loop is."""
        return resilience_pipeline(
            self.policy,
            limiter=self.limiter,
            telemetry=self.telemetry,
            provider=self.provider,
            stream=self.stream,
            clock=self.policy.clock,
        )


def _attempt_in(context: dict[str, Any]) -> Attempt:
    """The call's attempt record, kept in botocore's request context across its retries."""
    attempt = context.get(_ATTEMPT)
    if not isinstance(attempt, Attempt):
        attempt = context[_ATTEMPT] = Attempt()
    return attempt


def _classify_parsed(status: int, parsed: dict[str, Any], http_response: Any) -> Classification:
    error = parsed.get("Error") or {}
    metadata = parsed.get("ResponseMetadata") or {}
    headers = metadata.get("HTTPHeaders") or getattr(http_response, "headers", None) or {}
    return classify_aws_error(
        error.get("Code"),
        status,
        error.get("Message") or parsed.get("message"),
        headers,
    )


def _malformed_json(operation: Any, http_response: Any) -> bool:
    """A 2xx JSON answer that does not parse (cut short by a proxy, say).

    botocore's JSON parsers turn such a body into ``{"message": <body>}`` and report success,
    so a page would silently hold no results.
    """
    model = getattr(operation, "service_model", None)
    if getattr(model, "protocol", None) not in ("json", "rest-json"):
        return False
    if getattr(operation, "has_streaming_output", False):
        return False
    body = getattr(http_response, "content", b"")
    if not body:
        return False
    try:
        json.loads(body)
    except ValueError:
        return True
    return False


def install_botocore_policy(
    client: Any,
    policy: RetryPolicy,
    *,
    telemetry: Telemetry | None = None,
    limiter: TokenBucket | None = None,
    stream: str | None = None,
    provider: str = "aws",
) -> BotocoreRetryHook:
    """Put the shared retry, pacing and telemetry on a botocore client's own request events."""
    return BotocoreRetryHook.install(
        client, policy, telemetry=telemetry, limiter=limiter, provider=provider, stream=stream
    )
