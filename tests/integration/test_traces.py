"""Traces leave over OTLP/HTTP: a receiver on loopback (an HTTP server that takes what a
collector takes, ``POST /v1/traces`` with an ``ExportTraceServiceRequest`` in protobuf) gets a
request's span with its database spans beneath it, and the request's log lines carry its trace
id."""

import io
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.trace.v1.trace_pb2 import Span

from api.app import create_app
from infra.settings import Settings
from tests.conftest import PG_URL
from tests.factories import NOW, Clock, make_principal

pytestmark = pytest.mark.integration


@dataclass
class Receiver:
    url: str
    spans: list[tuple[dict[str, str], Span]] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    received = Receiver("")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.paths.append(self.path)
            request = ExportTraceServiceRequest()
            request.ParseFromString(body)
            for resource_spans in request.resource_spans:
                resource = {a.key: a.value.string_value for a in resource_spans.resource.attributes}
                for scope_spans in resource_spans.scope_spans:
                    received.spans.extend((resource, span) for span in scope_spans.spans)
            answer = ExportTraceServiceResponse().SerializeToString()
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    received.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield received
    finally:
        server.shutdown()
        server.server_close()


def test_a_request_is_exported_with_its_database_spans(
    receiver: Receiver,
    settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    logs = io.StringIO()
    monkeypatch.setattr("sys.stderr", logs)
    traced = settings.model_copy(
        update={"otlp_endpoint": receiver.url, "log_level": "INFO", "log_json": True}
    )
    app = create_app(traced)
    app.state.clock = Clock(NOW)
    try:
        _, headers = make_principal(app)
        with TestClient(app) as client:
            response = client.get("/api/v1/me", headers={**headers, "X-Request-ID": "traced-1"})
            assert response.status_code == 200
        # Leaving the client ran the lifespan's end: the provider sent what it held.
    finally:
        app.state.engine.dispose()

    assert receiver.paths
    assert set(receiver.paths) == {"/v1/traces"}
    assert all(resource["service.name"] == "shortlist" for resource, _ in receiver.spans)
    spans = [span for _, span in receiver.spans]
    (request,) = [s for s in spans if s.kind == Span.SPAN_KIND_SERVER]
    assert request.name == "GET /api/v1/me"
    route = {a.key: a.value.string_value for a in request.attributes}["http.route"]
    assert route == "/api/v1/me"
    database = [
        s for s in spans if s.trace_id == request.trace_id and s.kind == Span.SPAN_KIND_CLIENT
    ]
    assert database, [(s.name, s.kind) for s in spans]
    systems = {{a.key: a.value.string_value for a in s.attributes}["db.system"] for s in database}
    assert systems == {"postgresql" if PG_URL else "sqlite"}
    # Each database span hangs below the request's (directly or through FastAPI's own).
    ids = {s.span_id for s in spans if s.trace_id == request.trace_id}
    assert all(s.parent_span_id in ids for s in database)

    # The request's access line carries the trace id the receiver got.
    lines = [json.loads(line) for line in logs.getvalue().splitlines() if line.startswith("{")]
    (access,) = [line for line in lines if line.get("request_id") == "traced-1"]
    assert access["trace_id"] == request.trace_id.hex()
    assert len(access["span_id"]) == 16
