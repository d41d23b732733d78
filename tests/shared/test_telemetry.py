"""Spans and metrics as recorded, and exporters only when the environment asks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest
from carbon_taps_shared.telemetry import Telemetry, configure_from_env, installed_providers
from opentelemetry import trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode


@pytest.fixture
def otel():
    spans = InMemorySpanExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(spans))
    reader = InMemoryMetricReader()
    meter_provider = MeterProvider(metric_readers=[reader])
    telemetry = Telemetry(
        "tap-test", tracer_provider=tracer_provider, meter_provider=meter_provider
    )
    yield telemetry, spans, reader
    tracer_provider.shutdown()
    meter_provider.shutdown()


def _points(reader: InMemoryMetricReader) -> dict[str, list]:
    data = reader.get_metrics_data()
    found: dict[str, list] = {}
    for resource_metrics in data.resource_metrics if data else []:
        for scope in resource_metrics.scope_metrics:
            for metric in scope.metrics:
                found.setdefault(metric.name, []).extend(metric.data.data_points)
    return found


def test_span_attributes_prefixed_and_none_dropped(otel) -> None:
    telemetry, spans, _ = otel
    with telemetry.span("aws page", provider="aws", stream=None, page=2, **{"http.x": "y"}):
        pass
    (span,) = spans.get_finished_spans()
    assert span.name == "aws page"
    assert dict(span.attributes) == {
        "carbon_taps.provider": "aws",
        "carbon_taps.page": 2,
        "http.x": "y",
    }


def test_span_records_exceptions(otel) -> None:
    telemetry, spans, _ = otel
    with pytest.raises(RuntimeError), telemetry.span("failing"):
        raise RuntimeError("nope")
    (span,) = spans.get_finished_spans()
    assert span.status.status_code is StatusCode.ERROR
    assert [e.name for e in span.events] == ["exception"]


def test_request_metrics_carry_attributes(otel) -> None:
    telemetry, _, reader = otel
    common = {"provider": "aws", "stream": "emissions", "operation": "GetEstimatedCarbonEmissions"}
    telemetry.record_request(
        **common, status=429, error_class="throttled", attempt=1, duration_s=0.25
    )
    telemetry.record_request(**common, status=200, error_class=None, attempt=2, duration_s=0.5)
    points = _points(reader)
    requests = {
        tuple(sorted(p.attributes.items())): p.value for p in points["carbon_taps.requests"]
    }
    assert requests == {
        (
            ("carbon_taps.attempt", 1),
            ("carbon_taps.error_class", "throttled"),
            ("carbon_taps.operation", "GetEstimatedCarbonEmissions"),
            ("carbon_taps.provider", "aws"),
            ("carbon_taps.stream", "emissions"),
            ("http.response.status_code", 429),
        ): 1,
        (
            ("carbon_taps.attempt", 2),
            ("carbon_taps.operation", "GetEstimatedCarbonEmissions"),
            ("carbon_taps.provider", "aws"),
            ("carbon_taps.stream", "emissions"),
            ("http.response.status_code", 200),
        ): 1,
    }
    durations = points["carbon_taps.request.duration"]
    assert sorted(p.sum for p in durations) == [0.25, 0.5]


def test_retry_counters_count_throttles_separately(otel) -> None:
    telemetry, _, reader = otel
    telemetry.record_retry(provider="aws", stream="s", error_class="throttled")
    telemetry.record_retry(provider="aws", stream="s", error_class="throttled")
    telemetry.record_retry(provider="aws", stream="s", error_class="transient")
    telemetry.record_records(provider="aws", stream="s", count=42)
    points = _points(reader)
    assert sum(p.value for p in points["carbon_taps.retries"]) == 3
    (throttles,) = points["carbon_taps.throttles"]
    assert throttles.value == 2
    assert dict(throttles.attributes) == {
        "carbon_taps.provider": "aws",
        "carbon_taps.stream": "s",
        "carbon_taps.error_class": "throttled",
    }
    (records,) = points["carbon_taps.records"]
    assert records.value == 42


def test_no_otel_env_installs_nothing(monkeypatch) -> None:
    for name in list(os.environ):
        if name.startswith("OTEL_"):
            monkeypatch.delenv(name)
    telemetry = configure_from_env("tap-quiet")
    assert installed_providers() == {}
    assert not isinstance(trace.get_tracer_provider(), TracerProvider)
    with telemetry.span("noop") as span:
        assert not span.get_span_context().is_valid
    telemetry.shutdown()


def _run(script: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script)],
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )


SCRIPT = """
    import json
    from carbon_taps_shared.telemetry import configure_from_env, installed_providers
    first = configure_from_env("tap-exported")
    before = installed_providers()
    configure_from_env("tap-exported")
    same = {k: v is installed_providers()[k] for k, v in before.items()}
    with first.span("sync", provider="aws"):
        first.record_request(provider="aws", stream="s", operation="Op", status=200,
                             error_class=None, attempt=1, duration_s=0.1)
    first.shutdown()
    print(json.dumps({"installed": sorted(before), "same": same}))
"""


def test_otlp_http_exporter_sends_to_endpoint(server) -> None:
    result = _run(SCRIPT, {"OTEL_EXPORTER_OTLP_ENDPOINT": server.url})
    report = json.loads(result.stdout)
    assert report == {"installed": ["metrics", "traces"], "same": {"metrics": True, "traces": True}}
    by_path = {r.path: r for r in server.requests}
    assert set(by_path) == {"/v1/traces", "/v1/metrics"}
    for recorded in by_path.values():
        assert recorded.method == "POST"
        assert recorded.headers["Content-Type"] == "application/x-protobuf"
        assert b"tap-exported" in recorded.body
    assert b"sync" in by_path["/v1/traces"].body
    assert b"carbon_taps.requests" in by_path["/v1/metrics"].body


def test_console_exporter_keeps_stdout_clean() -> None:
    script = """
        from carbon_taps_shared.telemetry import configure_from_env
        t = configure_from_env("tap-console")
        with t.span("console-span", provider="aws"):
            pass
        t.shutdown()
    """
    result = _run(script, {"OTEL_TRACES_EXPORTER": "console"})
    assert result.stdout == ""
    assert '"name": "console-span"' in result.stderr
    assert "tap-console" in result.stderr


def test_counted_records_once_after_the_source_is_exhausted(otel) -> None:
    telemetry, _, reader = otel
    passed = telemetry.counted(iter(range(5)), provider="gcp", stream="s")
    assert next(passed) == 0
    assert "carbon_taps.records" not in _points(reader)  # nothing counted mid-read
    assert list(passed) == [1, 2, 3, 4]
    (records,) = _points(reader)["carbon_taps.records"]
    assert records.value == 5
    assert dict(records.attributes) == {"carbon_taps.provider": "gcp", "carbon_taps.stream": "s"}


def test_counted_records_nothing_when_the_read_fails(otel) -> None:
    telemetry, _, reader = otel

    def failing():
        yield 1
        raise RuntimeError("broken page")

    with pytest.raises(RuntimeError):
        list(telemetry.counted(failing(), provider="aws", stream="s"))
    assert "carbon_taps.records" not in _points(reader)
