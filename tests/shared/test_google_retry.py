"""PolicyRetry: Google clients' per-request retry hook, driven by the shared policy."""

from __future__ import annotations

import random

import pytest
from carbon_taps_shared.errors import ErrorClass
from carbon_taps_shared.google import PolicyRetry, classify_google
from carbon_taps_shared.retry import RetryPolicy
from google.api_core import exceptions as gexc


def _policy(sleeps: list[float], attempts: int = 4) -> RetryPolicy:
    return RetryPolicy(
        max_attempts=attempts, jitter=False, sleep=sleeps.append, rng=random.Random(1)
    )


def _error(cls: type[gexc.GoogleAPICallError], reason: str) -> gexc.GoogleAPICallError:
    return cls("boom", errors=[{"reason": reason, "message": "boom"}])


def test_a_rate_limit_reason_is_throttled_even_on_a_403():
    found = classify_google(_error(gexc.Forbidden, "rateLimitExceeded"))
    assert found.error_class is ErrorClass.THROTTLED


def test_a_server_error_with_a_permanent_reason_is_not_retryable():
    found = classify_google(_error(gexc.InternalServerError, "bytesBilledLimitExceeded"))
    assert found.error_class is ErrorClass.FATAL
    assert found.code == "bytesBilledLimitExceeded"


def test_a_backend_error_is_retried_with_the_policy_backoff_until_it_succeeds():
    sleeps: list[float] = []
    calls = iter([_error(gexc.InternalServerError, "backendError"), None])

    def request(value: int) -> int:
        failure = next(calls)
        if failure is not None:
            raise failure
        return value * 2

    retry = PolicyRetry(_policy(sleeps))
    assert retry(request)(21) == 42
    assert sleeps == [1.0]
    assert retry.attempts == 2


def test_attempts_stop_at_max_attempts_and_the_original_error_is_raised():
    sleeps: list[float] = []

    def request() -> None:
        raise _error(gexc.ServiceUnavailable, "backendError")

    retry = PolicyRetry(_policy(sleeps, attempts=3))
    with pytest.raises(gexc.ServiceUnavailable):
        retry(request)()
    assert retry.attempts == 3
    assert sleeps == [1.0, 2.0]


def test_a_permission_error_is_raised_at_once():
    sleeps: list[float] = []

    def request() -> None:
        raise _error(gexc.Forbidden, "accessDenied")

    retry = PolicyRetry(_policy(sleeps))
    with pytest.raises(gexc.Forbidden):
        retry(request)()
    assert retry.attempts == 1 and sleeps == []


def test_the_object_is_truthy_so_clients_install_it():
    assert PolicyRetry(RetryPolicy())
