"""Traces over OpenTelemetry: exported over OTLP/HTTP when ``SHORTLIST_OTLP_ENDPOINT`` is set.

The request spans are FastAPI's own (its native telemetry, given this provider), the database
spans opentelemetry-instrumentation-sqlalchemy's (one per statement, on each of the app's
engines), and storage, scanner and job spans this service's (``span``), made with the global
provider: the serving and worker processes make theirs global (``use_globally``).
"""

from collections.abc import Iterator
from contextlib import contextmanager
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from opentelemetry import trace
from opentelemetry.metrics import NoOpMeterProvider
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from sqlalchemy.engine import Engine

from infra.settings import Settings

_tracer = trace.get_tracer("shortlist")


def _package_version() -> str:
    try:
        return version("shortlist")
    except PackageNotFoundError:  # pragma: no cover - run from a tree that is not installed
        return "0"


def make_tracer_provider(settings: Settings) -> TracerProvider | None:
    """A provider that batches spans to ``{otlp_endpoint}/v1/traces``; ``None`` when no
    endpoint is set (nothing is traced)."""
    if not settings.otlp_endpoint:
        return None
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    provider = TracerProvider(
        resource=Resource.create(
            {"service.name": settings.otel_service_name, "service.version": _package_version()}
        )
    )
    endpoint = settings.otlp_endpoint.rstrip("/") + "/v1/traces"
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
    return provider


def use_globally(provider: TracerProvider | None) -> None:
    """Make ``provider`` the process's (once per process: the serving or the worker process)."""
    if provider is not None:
        trace.set_tracer_provider(provider)


def trace_engine(engine: Engine, provider: TracerProvider) -> None:
    """A span for each statement ``engine`` runs."""
    from opentelemetry.instrumentation.sqlalchemy.engine import EngineTracer

    meter = NoOpMeterProvider().get_meter("shortlist")
    EngineTracer(  # type: ignore[no-untyped-call]
        provider.get_tracer("opentelemetry.instrumentation.sqlalchemy"),
        engine,
        meter.create_up_down_counter("db.client.connections.usage"),
    )


@contextmanager
def span(name: str, **attributes: Any) -> Iterator[trace.Span]:
    """A span of this service's own work (storage, scanner, jobs), child of the current one;
    costs next to nothing while no provider is set."""
    with _tracer.start_as_current_span(name, attributes=attributes) as current:
        yield current


def current_trace_ids() -> tuple[str, str] | None:
    """The current span's trace id and span id in hex (as OTLP viewers show them), if any."""
    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return None
    return format(context.trace_id, "032x"), format(context.span_id, "016x")
