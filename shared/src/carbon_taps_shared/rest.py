"""Our retry policy, pacing and error messages for the SDK's REST streams."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlparse

import requests

from carbon_taps_shared.errors import Classification, ErrorClass, ProviderError, classify
from carbon_taps_shared.network import apply_environment
from carbon_taps_shared.policy import RetryPolicy
from carbon_taps_shared.ratelimit import TokenBucket
from carbon_taps_shared.redaction import default_redactor
from carbon_taps_shared.steps import Attempt, Pipeline, resilience_pipeline
from carbon_taps_shared.telemetry import Telemetry

R = TypeVar("R")

_log = logging.getLogger(__name__)


class RetryingRESTMixin:
    """Put first in the bases of a ``RESTStream`` subclass.

    Replaces the SDK's backoff decorator so HTTP taps retry exactly like the
    botocore-based ones, and turns the final failure into a ``ProviderError``.
    """

    provider_name: str = "http"
    rate_limiter: TokenBucket | None = None
    telemetry: Telemetry | None = None
    name: str
    logger: logging.Logger

    @property
    def retry_policy(self) -> RetryPolicy:
        """Default policy; streams override this to read their settings."""
        policy = self.__dict__.get("_carbon_taps_retry_policy")
        if policy is None:
            policy = RetryPolicy()
            self.__dict__["_carbon_taps_retry_policy"] = policy
        return policy

    @property
    def requests_session(self) -> requests.Session:
        """The SDK's session, made to honour the environment's CA bundle on `send()`."""
        return apply_environment(
            super().requests_session,  # type: ignore[misc]  # mixin: RESTStream follows in the MRO
            provider=self.provider_name,
        )

    def request_decorator(self, func: Callable[..., R]) -> Callable[..., R]:
        """The shared retry policy, pacing and telemetry around each request."""

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> R:
            attempt = Attempt(self.name)
            try:
                return self._pipeline().call(
                    functools.partial(func, *args, **kwargs), attempt, status_of=_status_code
                )
            except Exception as exc:
                error = ProviderError(
                    classify(exc), provider=self.provider_name, operation=self.name
                )
                # The chained original may quote URLs or bodies; it goes to the
                # (redacted) debug log instead of the user's terminal.
                _log.debug("%s after %d attempt(s)", error, attempt.number, exc_info=exc)
                raise error from None

        return wrapper

    def _pipeline(self) -> Pipeline:
        """The shared steps, from the stream's policy, pacer and telemetry as they are now."""
        return resilience_pipeline(
            self.retry_policy,
            limiter=self.rate_limiter,
            telemetry=self.telemetry,
            provider=self.provider_name,
            stream=self.name,
            logger=self.logger,
        )

    def validate_response(self, response: requests.Response) -> None:
        """Raise with the response attached so classification sees status and headers.

        A success whose JSON body does not parse (cut short on the way) is retried like any
        transient failure; parsed later, outside the retry loop, it would end the run.
        """
        if response.status_code >= 400:
            raise requests.HTTPError(self.response_error_message(response), response=response)
        if response.content and "json" in response.headers.get("Content-Type", "").lower():
            try:
                response.json()
            except ValueError:
                raise ProviderError(
                    Classification(
                        error_class=ErrorClass.TRANSIENT,
                        status=response.status_code,
                        code="MalformedResponse",
                        message="the response body is not valid JSON",
                    ),
                    provider=self.provider_name,
                    operation=self.name,
                ) from None

    def response_error_message(self, response: requests.Response) -> str:
        """Status and path only: bodies and headers may echo credentials back."""
        path = urlparse(response.url or "").path
        return default_redactor.redact(
            f"{response.status_code} {response.reason or ''} for path {path}".replace("  ", " ")
        )


def _status_code(response: Any) -> int | None:
    return getattr(response, "status_code", None)
