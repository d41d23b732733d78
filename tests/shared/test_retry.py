"""Retry-After parsing and the retry policy's decisions, on a fake clock."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest
from carbon_taps_shared.errors import Classification, ErrorClass
from carbon_taps_shared.retry import RetryPolicy, retry_after_seconds

NOW = datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC)


def test_retry_after_seconds_integer_and_float() -> None:
    assert retry_after_seconds({"Retry-After": "5"}) == 5.0
    assert retry_after_seconds({"retry-after": "2.5"}) == 2.5


def test_retry_after_http_date() -> None:
    headers = {"RETRY-AFTER": "Sat, 01 Mar 2025 12:00:30 GMT"}
    assert retry_after_seconds(headers, now=NOW) == 30.0


def test_retry_after_date_in_the_past_is_zero() -> None:
    assert retry_after_seconds({"Retry-After": "Sat, 01 Mar 2025 11:00:00 GMT"}, now=NOW) == 0.0


def test_amz_retry_after_is_milliseconds() -> None:
    assert retry_after_seconds({"x-amz-retry-after": "300"}) == pytest.approx(0.3)


def test_azure_ratelimit_family_longest_wins() -> None:
    headers = {
        "x-ms-ratelimit-microsoft.costmanagement-qpu-retry-after": "10",
        "x-ms-ratelimit-microsoft.costmanagement-entity-retry-after": "45",
        "X-Ms-Ratelimit-Microsoft.Costmanagement-Tenant-Retry-After": "20",
        "x-ms-ratelimit-microsoft.costmanagement-clienttype-retry-after": "5",
        "x-ms-ratelimit-remaining-microsoft.costmanagement-qpu-retrieval": "0",
    }
    assert retry_after_seconds(headers) == 45.0


def test_longest_across_header_kinds() -> None:
    headers = {"Retry-After": "3", "x-amz-retry-after": "9000"}
    assert retry_after_seconds(headers) == 9.0


def test_retry_after_absent_or_garbage() -> None:
    assert retry_after_seconds({}) is None
    assert retry_after_seconds({"Content-Type": "text/plain"}) is None
    assert retry_after_seconds({"Retry-After": "soon"}) is None
    assert retry_after_seconds({"Retry-After": "nan"}) is None


class FakeTime:
    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def _policy(fake: FakeTime, **kwargs) -> RetryPolicy:
    return RetryPolicy(sleep=fake.sleep, clock=fake.clock, rng=random.Random(7), **kwargs)


def _c(error_class: ErrorClass, retry_after: float | None = None) -> Classification:
    return Classification(error_class, None, None, "", retry_after)


def test_backoff_exponential_and_capped_without_jitter() -> None:
    policy = RetryPolicy(base_delay=0.5, max_delay=3.0, jitter=False)
    assert [policy.backoff(a) for a in range(1, 7)] == [0.5, 1.0, 2.0, 3.0, 3.0, 3.0]
    assert policy.backoff(10_000) == 3.0


def test_jitter_bounded_by_cap_and_spread() -> None:
    policy = RetryPolicy(base_delay=1.0, max_delay=4.0, rng=random.Random(1))
    samples = [policy.backoff(6) for _ in range(500)]
    assert all(0.0 <= s <= 4.0 for s in samples)
    assert max(samples) > 3.0
    assert min(samples) < 1.0


@pytest.mark.parametrize(
    "error_class", [ErrorClass.AUTH, ErrorClass.BAD_REQUEST, ErrorClass.NOT_FOUND, ErrorClass.FATAL]
)
def test_non_retryable_classes_never_wait(error_class: ErrorClass) -> None:
    fake = FakeTime()
    policy = _policy(fake)
    assert policy.wait_for(1, _c(error_class, retry_after=1.0), started=fake.now) is None


def test_attempts_exhausted() -> None:
    fake = FakeTime()
    policy = _policy(fake, max_attempts=3, jitter=False)
    assert policy.wait_for(2, _c(ErrorClass.TRANSIENT), started=fake.now) == 2.0
    assert policy.wait_for(3, _c(ErrorClass.TRANSIENT), started=fake.now) is None


def test_server_retry_after_is_honoured_exactly_but_within_budget() -> None:
    fake = FakeTime()
    policy = _policy(fake, max_delay=1.0, max_elapsed=100.0)
    assert policy.wait_for(1, _c(ErrorClass.THROTTLED, 42.0), started=fake.now) == 42.0
    fake.now += 60
    assert policy.wait_for(1, _c(ErrorClass.THROTTLED, 42.0), started=1000.0) is None


def test_max_elapsed_stops_before_the_budget_is_passed() -> None:
    fake = FakeTime()
    policy = _policy(
        fake, max_attempts=100, base_delay=1.0, max_delay=8.0, jitter=False, max_elapsed=20.0
    )
    calls: list[float] = []

    def always_down() -> None:
        calls.append(fake.now)
        raise ConnectionResetError("down")

    with pytest.raises(ConnectionResetError):
        policy.call(always_down)
    # waits 1, 2, 4, 8 (=15 s); the next 8 s would end at 23 s > 20 s
    assert fake.sleeps == [1.0, 2.0, 4.0, 8.0]
    assert len(calls) == 5
    assert fake.now - 1000.0 <= 20.0


def test_call_retries_then_succeeds_and_reports_each_retry() -> None:
    fake = FakeTime()
    policy = _policy(fake, base_delay=0.5, jitter=False)
    outcomes = [TimeoutError("t1"), ConnectionResetError("t2"), "ok"]
    seen: list[tuple[int, ErrorClass, float]] = []

    def flaky() -> str:
        outcome = outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    result = policy.call(flaky, on_retry=lambda a, c, w: seen.append((a, c.error_class, w)))
    assert result == "ok"
    assert seen == [(1, ErrorClass.TRANSIENT, 0.5), (2, ErrorClass.TRANSIENT, 1.0)]
    assert fake.sleeps == [0.5, 1.0]


def test_call_gives_up_with_the_original_exception() -> None:
    fake = FakeTime()
    policy = _policy(fake, max_attempts=4, base_delay=0.01)
    raised: list[Exception] = []

    def down() -> None:
        exc = TimeoutError(f"attempt {len(raised) + 1}")
        raised.append(exc)
        raise exc

    with pytest.raises(TimeoutError) as caught:
        policy.call(down)
    assert len(raised) == 4
    assert caught.value is raised[-1]


def test_call_never_retries_non_retryable() -> None:
    fake = FakeTime()
    policy = _policy(fake)
    calls = 0

    def broken() -> None:
        nonlocal calls
        calls += 1
        raise ValueError("bug")

    with pytest.raises(ValueError, match="bug"):
        policy.call(broken)
    assert calls == 1
    assert fake.sleeps == []


def test_call_uses_custom_classifier_and_retry_after() -> None:
    fake = FakeTime()
    policy = _policy(fake)
    attempts = []

    def throttled() -> str:
        attempts.append(1)
        if len(attempts) < 3:
            raise KeyError("custom")
        return "done"

    result = policy.call(throttled, classify_fn=lambda e: _c(ErrorClass.THROTTLED, 2.5))
    assert result == "done"
    assert fake.sleeps == [2.5, 2.5]


def test_botocore_retry_config_disables_botocore_retries() -> None:
    assert RetryPolicy().botocore_retry_config() == {"total_max_attempts": 1, "mode": "standard"}
