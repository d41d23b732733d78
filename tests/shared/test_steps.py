"""The resilience steps on their own, on a fake clock: their order, pacing per attempt, the run
deadline before any request, telemetry per attempt, and the same decisions for a library that
owns the retry loop (botocore's events) as for ``Pipeline.call``."""

from __future__ import annotations

import logging

import pytest
from carbon_taps_shared.errors import Classification, ErrorClass
from carbon_taps_shared.policy import RetryPolicy, RunDeadlineExceeded
from carbon_taps_shared.ratelimit import TokenBucket
from carbon_taps_shared.retry import (
    Attempt,
    PacingStep,
    Pipeline,
    RetryStep,
    Step,
    TelemetryStep,
    resilience_pipeline,
)
from carbon_taps_shared.telemetry import Telemetry
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader

THROTTLED = Classification(ErrorClass.THROTTLED, 429, "Throttling", "slow down")
DOWN = Classification(ErrorClass.TRANSIENT, 503, None, "unavailable")
DENIED = Classification(ErrorClass.AUTH, 403, "AccessDenied", "no")


class Clock:
    """One fake time for the policy, the bucket and telemetry; every sleep is recorded."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


class Failed(Exception):
    def __init__(self, classification: Classification) -> None:
        super().__init__(classification.message)
        self.classification = classification


def _classify(exc: BaseException) -> Classification:
    assert isinstance(exc, Failed)
    return exc.classification


def _server(clock: Clock, *outcomes: Classification | None, took: float = 0.25):
    """A request that takes ``took`` seconds and fails with each outcome in turn (None: 200)."""
    sent: list[float] = []
    queue = list(outcomes)

    def request() -> str:
        sent.append(clock.now)
        clock.now += took
        outcome = queue.pop(0) if queue else None
        if outcome is not None:
            raise Failed(outcome)
        return "ok"

    return request, sent


def _policy(clock: Clock, **kwargs) -> RetryPolicy:
    values = {"base_delay": 1.0, "jitter": False, "clock": clock, "sleep": clock.sleep, **kwargs}
    return RetryPolicy(**values)


def _telemetry() -> tuple[Telemetry, InMemoryMetricReader]:
    reader = InMemoryMetricReader()
    return Telemetry("tap-test", meter_provider=MeterProvider(metric_readers=[reader])), reader


def _points(reader: InMemoryMetricReader) -> dict[str, list]:
    found: dict[str, list] = {}
    data = reader.get_metrics_data()
    for rm in data.resource_metrics if data is not None else ():
        for scope in rm.scope_metrics:
            for metric in scope.metrics:
                found[metric.name] = list(metric.data.data_points)
    return found


def _pipeline(clock: Clock, policy: RetryPolicy, **kwargs) -> Pipeline:
    values = {
        "limiter": None,
        "telemetry": None,
        "provider": "tinyapi",
        "stream": "things",
        "classify": _classify,
        "clock": clock,
        **kwargs,
    }
    return resilience_pipeline(policy, **values)


class Journal(Step):
    def __init__(self, name: str, log: list[str]) -> None:
        self.name, self.log = name, log

    def before(self, attempt: Attempt) -> None:
        self.log.append(f"before {self.name} {attempt.number}")

    def after(self, attempt: Attempt) -> None:
        self.log.append(f"after {self.name} {attempt.number}")

    def retrying(self, attempt: Attempt) -> None:
        self.log.append(f"retrying {self.name} {attempt.number}")


def test_steps_run_down_in_order_and_back_up_in_reverse() -> None:
    clock, log = Clock(), []
    request, _ = _server(clock, DOWN)
    steps = [Journal("outer", log), RetryStep(_policy(clock)), Journal("inner", log)]

    assert Pipeline(steps, classify=_classify, sleep=clock.sleep).call(request) == "ok"

    assert log == [
        "before outer 1",
        "before inner 1",
        "after inner 1",
        "after outer 1",
        "retrying inner 1",
        "retrying outer 1",
        "before outer 2",
        "before inner 2",
        "after inner 2",
        "after outer 2",
    ]


def test_the_standard_assembly_is_retry_then_pacing_then_telemetry() -> None:
    clock = Clock()
    pipeline = _pipeline(clock, _policy(clock), limiter=TokenBucket(1))
    assert [type(step) for step in pipeline.steps] == [RetryStep, PacingStep, TelemetryStep]


def test_pacing_takes_one_token_per_attempt_retries_included() -> None:
    clock, paced = Clock(), []
    # The bucket's own clock stands still, so each token taken waits longer than the one before:
    # its waits count exactly how many tokens were taken.
    bucket = TokenBucket(10, burst=1, clock=lambda: 0.0, sleep=paced.append)
    request, sent = _server(clock, THROTTLED, DOWN)

    assert _pipeline(clock, _policy(clock), limiter=bucket).call(request) == "ok"

    assert len(sent) == 3
    assert paced == [pytest.approx(0.1), pytest.approx(0.2)]


def test_a_passed_deadline_stops_the_call_before_pacing_or_any_request() -> None:
    clock, paced = Clock(), []
    clock.now = 100.0
    bucket = TokenBucket(10, burst=1, clock=lambda: 0.0, sleep=paced.append)
    bucket.acquire()  # empty: a token taken now would have to be waited for
    telemetry, reader = _telemetry()
    request, sent = _server(clock)
    pipeline = _pipeline(clock, _policy(clock, deadline=100.0), limiter=bucket, telemetry=telemetry)

    with pytest.raises(RunDeadlineExceeded):
        pipeline.call(request)

    assert sent == []
    assert paced == []
    assert "carbon_taps.requests" not in _points(reader)


def test_no_retry_wait_reaches_past_the_deadline() -> None:
    clock = Clock()
    request, sent = _server(clock, DOWN, DOWN, DOWN, DOWN, DOWN, took=1.0)
    pipeline = _pipeline(clock, _policy(clock, max_attempts=10, deadline=8.0))

    with pytest.raises(RunDeadlineExceeded):
        pipeline.call(request)

    # sent at 0, 2 (1 s + 1 s wait), 5 (+2 s wait); the next 4 s wait would end at 10
    assert sent == [0.0, 2.0, 5.0]
    assert clock.sleeps == [1.0, 2.0]


def test_telemetry_records_every_attempt_and_every_retry() -> None:
    clock = Clock()
    telemetry, reader = _telemetry()
    request, _ = _server(clock, THROTTLED, DOWN)
    bucket = TokenBucket(0.1, burst=1, clock=clock, sleep=clock.sleep)
    pipeline = _pipeline(clock, _policy(clock), limiter=bucket, telemetry=telemetry)

    assert pipeline.call(request, Attempt("GetThings"), status_of=lambda _: 200) == "ok"

    points = _points(reader)
    by_attempt = {
        p.attributes["carbon_taps.attempt"]: (
            p.attributes.get("http.response.status_code"),
            p.attributes.get("carbon_taps.error_class"),
            p.attributes["carbon_taps.operation"],
            p.attributes["carbon_taps.stream"],
        )
        for p in points["carbon_taps.requests"]
    }
    assert by_attempt == {
        1: (429, "throttled", "GetThings", "things"),
        2: (503, "transient", "GetThings", "things"),
        3: (200, None, "GetThings", "things"),
    }
    assert sum(p.value for p in points["carbon_taps.retries"]) == 2
    assert sum(p.value for p in points["carbon_taps.throttles"]) == 1
    # Each attempt took 0.25 s; the pacing waits before them are not part of their duration.
    assert sum(p.sum for p in points["carbon_taps.request.duration"]) == pytest.approx(0.75)


def test_each_retry_is_one_log_line_and_the_last_failure_is_raised(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = Clock()
    logger = logging.getLogger("tests.steps")
    request, sent = _server(clock, THROTTLED, DENIED)
    pipeline = _pipeline(clock, _policy(clock, max_attempts=3), logger=logger)

    with caplog.at_level(logging.INFO, logger="tests.steps"), pytest.raises(Failed) as caught:
        pipeline.call(request, Attempt("things"))

    assert caught.value.classification is DENIED
    assert len(sent) == 2
    assert caplog.messages == [
        "tinyapi things throttled (429 Throttling); attempt 1 of 3 failed, retrying in 1.00s"
    ]


def test_the_retry_budget_counts_from_the_calls_first_attempt() -> None:
    clock = Clock()
    request, sent = _server(clock, *[DOWN] * 10, took=10.0)
    pipeline = _pipeline(clock, _policy(clock, max_attempts=10, max_elapsed=25.0))

    with pytest.raises(Failed):
        pipeline.call(request)

    # 10 s + 1 s wait, 10 s + 2 s wait: the third failure at 33 s leaves no room for a 4 s wait
    assert sent == [0.0, 11.0, 23.0]


def test_a_library_that_owns_the_loop_gets_the_same_decisions_through_the_hooks() -> None:
    """As botocore calls them: before-send and needs-retry per attempt; botocore sleeps."""
    clock = Clock()
    telemetry, reader = _telemetry()
    pipeline = _pipeline(clock, _policy(clock, max_attempts=3), telemetry=telemetry)
    attempt = Attempt("GetThings")
    waits: list[float | None] = []
    for number in (1, 2, 3):
        attempt.next()
        pipeline.before(attempt)
        clock.now += 0.5
        attempt.failed(THROTTLED)
        pipeline.after(attempt)
        waits.append(attempt.wait)
        assert attempt.number == number

    assert waits == [1.0, 2.0, None]
    assert clock.sleeps == [], "the library sleeps, not the steps"
    points = _points(reader)
    assert sorted(p.attributes["carbon_taps.attempt"] for p in points["carbon_taps.requests"]) == [
        1,
        2,
        3,
    ]
    assert sum(p.value for p in points["carbon_taps.retries"]) == 2


def test_policy_call_runs_on_the_same_retry_step() -> None:
    clock = Clock()
    request, sent = _server(clock, DOWN, THROTTLED)
    seen: list[tuple[int, ErrorClass, float]] = []

    result = _policy(clock).call(
        request,
        on_retry=lambda n, c, wait: seen.append((n, c.error_class, wait)),
        classify_fn=_classify,
    )

    assert result == "ok"
    assert seen == [(1, ErrorClass.TRANSIENT, 1.0), (2, ErrorClass.THROTTLED, 2.0)]
    assert clock.sleeps == [1.0, 2.0]
    assert len(sent) == 3
