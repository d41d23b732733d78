"""The run-level deadline in the shared policy, on a fake clock: no attempt starts after it and
no retry wait reaches past it, whatever max_retry_seconds allows."""

from __future__ import annotations

import json

import pytest
from carbon_taps_shared.errors import Classification, ErrorClass
from carbon_taps_shared.policy import RetryPolicy, RunDeadlineExceeded
from carbon_taps_shared.state import StateError, check_bookmarks, parse_state


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


class Throttled(Exception):
    pass


def _policy(clock: Clock, deadline: float | None) -> RetryPolicy:
    return RetryPolicy(
        max_attempts=50,
        max_elapsed=10_000,
        jitter=False,
        clock=clock,
        sleep=clock.sleep,
        deadline=deadline,
    )


def _always_throttled(clock: Clock, calls: list[float]):
    def call() -> None:
        calls.append(clock.now)
        clock.now += 0.5
        raise Throttled

    return call


def _throttled(exc: BaseException) -> Classification:
    return Classification(error_class=ErrorClass.THROTTLED)


def test_no_attempt_starts_and_no_wait_reaches_past_the_deadline() -> None:
    clock, calls = Clock(), []
    with pytest.raises(RunDeadlineExceeded):
        _policy(clock, deadline=30).call(_always_throttled(clock, calls), classify_fn=_throttled)
    assert calls and max(calls) < 30
    assert clock.now < 30, "the policy stopped instead of sleeping past the deadline"


def test_without_a_deadline_the_attempt_cap_ends_it() -> None:
    clock, calls = Clock(), []
    policy = _policy(clock, deadline=None)
    policy.max_attempts = 8
    with pytest.raises(Throttled):
        policy.call(_always_throttled(clock, calls), classify_fn=_throttled)
    assert len(calls) == 8


def test_the_deadline_passes_library_handlers_that_catch_exception() -> None:
    clock = Clock()
    clock.now = 31
    with pytest.raises(RunDeadlineExceeded):  # noqa: PT012 - the handler is the point
        try:
            _policy(clock, deadline=30).check_deadline()
        except Exception:  # what botocore, google-api-core and the SDK do around a request
            pytest.fail("the stop signal must not be an Exception")


@pytest.mark.parametrize(
    "value", ["2024-05-01", "2024-05-01T10:00:00+00:00", "2024-05-01T10:00:00Z", "2024-05-01 10:00"]
)
def test_past_dates_and_timestamps_are_accepted(value: str) -> None:
    state = {"bookmarks": {"s": {"replication_key_value": value}}}
    check_bookmarks(parse_state(json.dumps(state), "f"), {"s": "k"}, "f")


def test_a_bookmark_of_another_stream_is_left_to_it() -> None:
    """Per-file or per-delivery state (export, CUR) has no replication key to check."""
    state = {"bookmarks": {"files": {"replication_key_value": "not a date"}}}
    check_bookmarks(state, {"s": "k"}, "f")
    with pytest.raises(StateError):
        check_bookmarks(state, {"files": "k"}, "f")
