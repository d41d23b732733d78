"""OpenTelemetry traces and metrics that cost nothing unless an exporter is configured."""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from opentelemetry import metrics, trace

T = TypeVar("T")

PREFIX = "carbon_taps."
ATTR_PROVIDER = "carbon_taps.provider"
ATTR_STREAM = "carbon_taps.stream"
ATTR_OPERATION = "carbon_taps.operation"
ATTR_STATUS = "http.response.status_code"
ATTR_ATTEMPT = "carbon_taps.attempt"
ATTR_ERROR_CLASS = "carbon_taps.error_class"

_install_lock = threading.Lock()
_installed: dict[str, Any] = {}
_flags = {"configured": False, "shut_down": False}


def _attributes(**values: Any) -> dict[str, Any]:
    return {key: value for key, value in values.items() if value is not None}


def _span_value(value: Any) -> Any:
    if isinstance(value, str | bool | int | float):
        return value
    if isinstance(value, list | tuple) and all(
        isinstance(v, str | bool | int | float) for v in value
    ):
        return list(value)
    return str(value)


class Telemetry:
    """The taps' instruments, bound to whatever providers are current.

    Tests and embedders may pass their own providers; otherwise the global ones
    are used, which are no-ops until ``configure_from_env`` installs the SDK.
    """

    def __init__(
        self,
        service_name: str,
        *,
        tracer_provider: trace.TracerProvider | None = None,
        meter_provider: metrics.MeterProvider | None = None,
    ) -> None:
        self.service_name = service_name
        self.tracer = trace.get_tracer(service_name, tracer_provider=tracer_provider)
        self.meter = metrics.get_meter(service_name, meter_provider=meter_provider)
        self._requests = self.meter.create_counter(
            "carbon_taps.requests", unit="{request}", description="HTTP attempts sent"
        )
        self._duration = self.meter.create_histogram(
            "carbon_taps.request.duration", unit="s", description="Duration of one attempt"
        )
        self._retries = self.meter.create_counter(
            "carbon_taps.retries", unit="{retry}", description="Attempts repeated after a failure"
        )
        self._throttles = self.meter.create_counter(
            "carbon_taps.throttles", unit="{retry}", description="Retries caused by throttling"
        )
        self._records = self.meter.create_counter(
            "carbon_taps.records", unit="{record}", description="Records emitted"
        )

    @contextmanager
    def span(self, name: str, **attributes: Any) -> Iterator[trace.Span]:
        """Bare keys get the ``carbon_taps.`` prefix; dotted keys are used as given."""
        attrs = {
            (key if "." in key else PREFIX + key): _span_value(value)
            for key, value in attributes.items()
            if value is not None
        }
        with self.tracer.start_as_current_span(name, attributes=attrs) as span:
            yield span

    def record_request(
        self,
        *,
        provider: str,
        stream: str | None,
        operation: str,
        status: int | None,
        error_class: str | None,
        attempt: int,
        duration_s: float,
    ) -> None:
        """Count one HTTP attempt and its duration."""
        attrs = _attributes(
            **{
                ATTR_PROVIDER: provider,
                ATTR_STREAM: stream,
                ATTR_OPERATION: operation,
                ATTR_STATUS: status,
                ATTR_ERROR_CLASS: error_class,
                ATTR_ATTEMPT: attempt,
            }
        )
        self._requests.add(1, attrs)
        self._duration.record(max(0.0, duration_s), attrs)

    def record_retry(self, *, provider: str, stream: str | None, error_class: str) -> None:
        """Count one retry, by the class of the failure that caused it."""
        attrs = _attributes(
            **{ATTR_PROVIDER: provider, ATTR_STREAM: stream, ATTR_ERROR_CLASS: error_class}
        )
        self._retries.add(1, attrs)
        if error_class == "throttled":
            self._throttles.add(1, attrs)

    def record_records(self, *, provider: str, stream: str | None, count: int) -> None:
        """Count records emitted by a stream."""
        if count:
            self._records.add(count, _attributes(**{ATTR_PROVIDER: provider, ATTR_STREAM: stream}))

    def counted(self, records: Iterable[T], *, provider: str, stream: str | None) -> Iterator[T]:
        """Pass ``records`` through, then count them in one metric update.

        The count is recorded once the source is exhausted, not per record (a metric update per
        row would cost more than the row), and not at all if the read fails part way.
        """
        count = 0
        for record in records:
            count += 1
            yield record
        self.record_records(provider=provider, stream=stream, count=count)

    def shutdown(self) -> None:
        """Flush what ``configure_from_env`` installed; a no-op otherwise."""
        shutdown_installed()


def _wanted(signal: str) -> str | None:
    """Exporter for ``signal`` ('traces' or 'metrics') the environment asks for, if any."""
    if os.environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return None
    choice = os.environ.get(f"OTEL_{signal.upper()}_EXPORTER", "").strip().lower()
    if choice in ("otlp", "console"):
        return choice
    if choice == "none":
        return None
    if os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or os.environ.get(
        f"OTEL_EXPORTER_OTLP_{signal.upper()}_ENDPOINT"
    ):
        return "otlp"
    return None


def _install_traces(kind: str, resource: Any) -> Any:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter

    if kind == "console":
        # stdout carries the Singer messages; diagnostics must go to stderr.
        exporter: Any = ConsoleSpanExporter(out=sys.stderr)
    else:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        exporter = OTLPSpanExporter()
    provider = TracerProvider(resource=resource)
    provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    return provider


def _install_metrics(kind: str, resource: Any) -> Any:
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import (
        ConsoleMetricExporter,
        PeriodicExportingMetricReader,
    )

    if kind == "console":
        exporter: Any = ConsoleMetricExporter(out=sys.stderr)
    else:
        from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter

        exporter = OTLPMetricExporter()
    provider = MeterProvider(
        resource=resource, metric_readers=[PeriodicExportingMetricReader(exporter)]
    )
    metrics.set_meter_provider(provider)
    return provider


def configure_from_env(service_name: str) -> Telemetry:
    """Install SDK providers only when the standard OTEL_* variables ask for export.

    With nothing configured the API stays a no-op, so taps pay nothing and
    never try to reach a collector that is not there. Safe to call repeatedly.
    """
    with _install_lock:
        traces, meters = _wanted("traces"), _wanted("metrics")
        if (traces or meters) and not _flags["configured"]:
            # OpenTelemetry refuses a second global provider, so install once only.
            _flags["configured"] = True
            from opentelemetry.sdk.resources import SERVICE_NAME, Resource

            resource = Resource.create({SERVICE_NAME: service_name})
            if traces:
                _installed["traces"] = _install_traces(traces, resource)
            if meters:
                _installed["metrics"] = _install_metrics(meters, resource)
    return Telemetry(service_name)


def installed_providers() -> dict[str, Any]:
    """What ``configure_from_env`` installed (empty when export is off)."""
    return dict(_installed)


def shutdown_installed() -> None:
    """Flush and shut down the installed providers once, at the end of the run."""
    with _install_lock:
        if _flags["shut_down"]:
            return
        for provider in _installed.values():
            provider.shutdown()
        _flags["shut_down"] = bool(_installed)
