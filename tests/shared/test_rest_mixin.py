"""A tiny singer-sdk REST tap against the local server, retrying through our policy."""

from __future__ import annotations

import logging
import random

import pytest
import requests
from carbon_taps_shared.config import SecretSafeConfigMixin
from carbon_taps_shared.errors import ErrorClass, ProviderError
from carbon_taps_shared.retry import RetryingRESTMixin, RetryPolicy
from carbon_taps_shared.telemetry import Telemetry
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from singer_sdk import Tap
from singer_sdk import typing as th
from singer_sdk.authenticators import BearerTokenAuthenticator
from singer_sdk.streams import RESTStream

TOKEN = "tiny-api-token-0f3c9a"
ITEMS = {"items": [{"id": 1}, {"id": 2}]}


class ThingsStream(RetryingRESTMixin, RESTStream):
    name = "things"
    path = "/things"
    records_jsonpath = "$.items[*]"
    schema = th.PropertiesList(th.Property("id", th.IntegerType)).to_dict()
    provider_name = "tinyapi"

    @property
    def url_base(self) -> str:
        return self.config["api_url"]

    @property
    def authenticator(self) -> BearerTokenAuthenticator:
        return BearerTokenAuthenticator(token=self.config["api_token"])

    @property
    def retry_policy(self) -> RetryPolicy:
        return self._tap.retry_policy

    @property
    def telemetry(self) -> Telemetry | None:
        return self._tap.telemetry


class TinyTap(SecretSafeConfigMixin, Tap):
    name = "tap-tiny"
    config_jsonschema = th.PropertiesList(
        th.Property("api_url", th.StringType, required=True),
        th.Property("api_token", th.StringType, required=True, secret=True),
    ).to_dict()
    retry_policy = RetryPolicy(base_delay=0.01, max_delay=0.05)
    telemetry: Telemetry | None = None

    def discover_streams(self):
        return [ThingsStream(self)]


def _tap(server, **policy) -> tuple[TinyTap, InMemoryMetricReader]:
    tap = TinyTap(config={"api_url": server.url, "api_token": TOKEN})
    tap.retry_policy = RetryPolicy(
        **{"base_delay": 0.01, "max_delay": 0.05, "rng": random.Random(5), **policy}
    )
    reader = InMemoryMetricReader()
    tap.telemetry = Telemetry("tap-tiny", meter_provider=MeterProvider(metric_readers=[reader]))
    return tap, reader


def _records(tap: TinyTap) -> list[dict]:
    return list(tap.streams["things"].get_records(None))


def _request_points(reader: InMemoryMetricReader) -> list[tuple]:
    points = []
    for rm in reader.get_metrics_data().resource_metrics:
        for scope in rm.scope_metrics:
            for metric in scope.metrics:
                if metric.name == "carbon_taps.requests":
                    points += [
                        (
                            p.attributes["carbon_taps.attempt"],
                            p.attributes.get("http.response.status_code"),
                            p.attributes.get("carbon_taps.error_class"),
                        )
                        for p in metric.data.data_points
                    ]
    return sorted(points)


def test_retry_after_is_waited_for_real(server) -> None:
    server.add(429, {"Retry-After": "1"}, {"message": "slow down"})
    server.add(200, {}, ITEMS)
    # backoff alone would wait at most 0.05 s, so only the header explains a 1 s gap
    tap, _ = _tap(server)

    assert _records(tap) == [{"id": 1}, {"id": 2}]

    assert len(server.requests) == 2
    (gap,) = server.gaps()
    assert 1.0 <= gap < 5.0  # the lower bound is the point; the upper one only catches a hang
    assert server.requests[0].headers["Authorization"] == f"Bearer {TOKEN}"


def test_transient_errors_retried_and_recorded(server) -> None:
    server.add(503, {}, "upstream down")
    server.add(502, {}, "bad gateway")
    server.add(200, {}, ITEMS)
    tap, reader = _tap(server)

    assert len(_records(tap)) == 2
    assert len(server.requests) == 3
    assert _request_points(reader) == [
        (1, 503, "transient"),
        (2, 502, "transient"),
        (3, 200, None),
    ]


def test_auth_failure_is_one_attempt_and_one_clean_line(server, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    server.always(403, {}, {"message": f"token {TOKEN} lacks scope things:read"})
    tap, _ = _tap(server)

    with pytest.raises(ProviderError) as caught:
        _records(tap)

    assert len(server.requests) == 1
    err = caught.value
    assert (err.provider, err.operation, err.classification.error_class) == (
        "tinyapi",
        "things",
        ErrorClass.AUTH,
    )
    assert str(err) == (
        "tinyapi things failed (auth, 403): token *** lacks scope things:read. "
        "What to do: check the credentials and the permissions of the identity the tap runs as."
    )
    assert err.__cause__ is None
    assert TOKEN not in caplog.text


def test_gives_up_after_max_attempts(server) -> None:
    server.always(500, {}, "internal")
    tap, _ = _tap(server, max_attempts=3)

    with pytest.raises(ProviderError) as caught:
        _records(tap)

    assert len(server.requests) == 3
    assert caught.value.classification.error_class is ErrorClass.TRANSIENT
    assert caught.value.classification.status == 500


def test_validate_response_never_quotes_body_or_headers(server) -> None:
    server.add(400, {"X-Debug": "SECRETHEADER"}, "request body echo SECRETBODY")
    tap, _ = _tap(server)
    stream = tap.streams["things"]
    response = requests.get(server.url + "/things?api_key=abc123456", timeout=5)

    with pytest.raises(requests.HTTPError) as caught:
        stream.validate_response(response)

    assert caught.value.response is response
    assert str(caught.value) == "400 Bad Request for path /things"
