"""A real boto3 client against the local server, retrying through our policy."""

from __future__ import annotations

import json
import random
import time

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from carbon_taps_shared.errors import ErrorClass, classify
from carbon_taps_shared.ratelimit import TokenBucket
from carbon_taps_shared.retry import RetryPolicy, install_botocore_policy
from carbon_taps_shared.telemetry import Telemetry
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader

PATH = "/v1/estimated-carbon-emissions"
OK = {"Results": []}


def _error(code: str, message: str = "Rate exceeded") -> tuple[dict[str, str], bytes]:
    return {"x-amzn-ErrorType": code, "Content-Type": "application/json"}, json.dumps(
        {"message": message}
    ).encode()


def _client(server, policy: RetryPolicy, *, retries: dict | None = None):
    config = Config(retries=retries if retries is not None else policy.botocore_retry_config())
    return boto3.client(
        "sustainability",
        endpoint_url=server.url,
        region_name="us-east-1",
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="testsecret",
        config=config,
    )


def _call(client):
    return client.get_estimated_carbon_emissions(
        TimePeriod={"Start": "2025-01-01T00:00:00Z", "End": "2025-02-01T00:00:00Z"}
    )


def _fast_policy(**kwargs) -> RetryPolicy:
    return RetryPolicy(base_delay=0.01, max_delay=0.05, rng=random.Random(3), **kwargs)


def _telemetry() -> tuple[Telemetry, InMemoryMetricReader]:
    reader = InMemoryMetricReader()
    return Telemetry("tap-test", meter_provider=MeterProvider(metric_readers=[reader])), reader


def _sums(reader: InMemoryMetricReader) -> dict[str, list]:
    found: dict[str, list] = {}
    for rm in reader.get_metrics_data().resource_metrics:
        for scope in rm.scope_metrics:
            for metric in scope.metrics:
                found[metric.name] = list(metric.data.data_points)
    return found


def test_throttled_twice_then_success(server) -> None:
    headers, body = _error("ThrottlingException")
    server.add(429, headers, body)
    server.add(429, headers, body)
    server.always(200, {"Content-Type": "application/json"}, OK)
    policy = _fast_policy()
    telemetry, reader = _telemetry()
    client = _client(server, policy)
    install_botocore_policy(client, policy, telemetry=telemetry, stream="emissions")

    response = _call(client)

    assert response["Results"] == []
    assert response["ResponseMetadata"]["RetryAttempts"] == 2
    assert [(r.method, r.path) for r in server.requests] == [("POST", PATH)] * 3
    sums = _sums(reader)
    by_attempt = {
        p.attributes["carbon_taps.attempt"]: (
            p.attributes.get("http.response.status_code"),
            p.attributes.get("carbon_taps.error_class"),
            p.attributes["carbon_taps.operation"],
        )
        for p in sums["carbon_taps.requests"]
    }
    assert by_attempt == {
        1: (429, "throttled", "GetEstimatedCarbonEmissions"),
        2: (429, "throttled", "GetEstimatedCarbonEmissions"),
        3: (200, None, "GetEstimatedCarbonEmissions"),
    }
    assert sum(p.value for p in sums["carbon_taps.retries"]) == 2
    assert sum(p.value for p in sums["carbon_taps.throttles"]) == 2
    assert all(p.sum >= 0 for p in sums["carbon_taps.request.duration"])


def test_always_throttled_stops_after_max_attempts(server) -> None:
    headers, body = _error("ThrottlingException")
    server.always(429, headers, body)
    policy = _fast_policy(max_attempts=4)
    client = _client(server, policy)
    install_botocore_policy(client, policy)

    with pytest.raises(ClientError) as caught:
        _call(client)

    assert len(server.requests) == 4
    c = classify(caught.value)
    assert (c.error_class, c.status, c.code) == (ErrorClass.THROTTLED, 429, "ThrottlingException")


def test_access_denied_is_not_retried(server) -> None:
    headers, body = _error("AccessDeniedException", "User is not authorized")
    server.always(403, headers, body)
    policy = _fast_policy()
    client = _client(server, policy)
    install_botocore_policy(client, policy)

    with pytest.raises(ClientError) as caught:
        _call(client)

    assert len(server.requests) == 1
    c = classify(caught.value)
    assert (c.error_class, c.message) == (ErrorClass.AUTH, "User is not authorized")


def test_amz_retry_after_milliseconds_is_honoured(server) -> None:
    headers, body = _error("ThrottlingException")
    server.add(429, {**headers, "x-amz-retry-after": "300"}, body)
    server.always(200, {"Content-Type": "application/json"}, OK)
    # without the header the wait would be exactly 5 s, so a generous upper bound still tells
    policy = RetryPolicy(base_delay=5.0, jitter=False)
    client = _client(server, policy)
    install_botocore_policy(client, policy)

    _call(client)

    assert len(server.requests) == 2
    (gap,) = server.gaps()
    assert 0.3 <= gap < 4.0


def test_hook_overrides_botocore_default_retries(server) -> None:
    """Even a client built without our retry config makes exactly our attempts."""
    headers, body = _error("InternalServerException", "boom")
    server.always(500, headers, body)
    policy = _fast_policy(max_attempts=2)
    client = _client(server, policy, retries={"mode": "standard", "total_max_attempts": 5})
    install_botocore_policy(client, policy)

    with pytest.raises(ClientError):
        _call(client)

    assert len(server.requests) == 2


def test_retry_after_beyond_budget_gives_up(server) -> None:
    headers, body = _error("ThrottlingException")
    server.always(429, {**headers, "Retry-After": "5"}, body)
    policy = _fast_policy(max_elapsed=1.0)
    client = _client(server, policy)
    install_botocore_policy(client, policy)

    with pytest.raises(ClientError):
        _call(client)

    assert len(server.requests) == 1


def test_connection_errors_are_retried_by_policy(server) -> None:
    policy = _fast_policy(max_attempts=3)
    client = boto3.client(
        "sustainability",
        endpoint_url="http://127.0.0.1:9",
        region_name="us-east-1",
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="testsecret",
        config=Config(retries=policy.botocore_retry_config(), connect_timeout=1),
    )
    attempts: list[int] = []
    client.meta.events.register(
        "before-send.sustainability", lambda request, **kw: attempts.append(1)
    )
    install_botocore_policy(client, policy)

    with pytest.raises(Exception) as caught:  # noqa: PT011 - its class is what is checked
        _call(client)

    assert classify(caught.value).error_class is ErrorClass.TRANSIENT
    assert len(attempts) == 3


def test_limiter_paces_every_attempt(server) -> None:
    server.always(200, {"Content-Type": "application/json"}, OK)
    policy = _fast_policy()
    client = _client(server, policy)
    install_botocore_policy(client, policy, limiter=TokenBucket(10, burst=1))

    started = time.monotonic()
    for _ in range(3):
        _call(client)
    elapsed = time.monotonic() - started

    # Timed at the client: a loaded machine can delay when the server sees a request, never
    # bring the third send forward. Burst 1 at 10/s: the first goes at once, each next 0.1 s on.
    assert len(server.requests) == 3
    assert elapsed >= 0.195
