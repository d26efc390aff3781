"""The service's figures in Prometheus' text format (``GET /metrics``).

Counters and histograms live in this process. Under several worker processes
(``shortlist serve --workers N``) each process writes its values to files in
``PROMETHEUS_MULTIPROC_DIR`` (prometheus-client's multiprocess mode, which the command sets up),
and a scrape, whichever process answers it, adds up every process's files: one figure for the
whole service. Figures that the database already knows (documents pending a scan or infected,
jobs queued) are read from it at the scrape, so they are right however many processes run.
"""

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy.engine import Engine

MULTIPROCESS_DIR_ENV = "PROMETHEUS_MULTIPROC_DIR"
CONTENT_TYPE = CONTENT_TYPE_LATEST

REGISTRY = CollectorRegistry()
"""This process's own metrics (not prometheus-client's global registry: a library's metrics
do not join ours unasked)."""

HTTP_REQUESTS = Counter(
    "shortlist_http_requests",
    "HTTP requests answered, by method, route (the path template) and status",
    ["method", "route", "status"],
    registry=REGISTRY,
)
HTTP_DURATION = Histogram(
    "shortlist_http_request_duration_seconds",
    "Time from a request's arrival to the end of its answer, by method and route",
    ["method", "route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
    registry=REGISTRY,
)
UPLOADS = Counter("shortlist_uploads", "Documents uploaded and stored", ["kind"], registry=REGISTRY)
UPLOAD_BYTES = Counter(
    "shortlist_upload_bytes", "Bytes of the documents uploaded and stored", registry=REGISTRY
)
SCANS = Counter(
    "shortlist_scans",
    "Malware scans finished, by verdict (clean, infected, error: tried again later)",
    ["verdict"],
    registry=REGISTRY,
)
RATE_LIMITED = Counter(
    "shortlist_rate_limited",
    "Requests refused with 429 by a rate limit, by limit",
    ["limit"],
    registry=REGISTRY,
)
TOKEN_FAILURES = Counter(
    "shortlist_token_failures",
    "Requests refused with 401 for their access token, by reason",
    ["reason"],
    registry=REGISTRY,
)
DEPENDENCY_OUTAGES = Counter(
    "shortlist_dependency_outages",
    "Times a dependency was found down (requests were answered 503 until it came back)",
    ["dependency"],
    registry=REGISTRY,
)
# Incremented by the webhook deliveries and the mail transport (issue 18); present, at 0, before.
WEBHOOK_DELIVERIES_FAILED = Counter(
    "shortlist_webhook_deliveries_failed",
    "Webhook deliveries that failed (each attempt)",
    registry=REGISTRY,
)
MAILS_SENT = Counter("shortlist_mails_sent", "Mails handed to the mail server", registry=REGISTRY)
ACTOR_CACHE_INVALIDATIONS = Counter(
    "shortlist_actor_cache_invalidations",
    "Changes to tokens, users or clients heard from the database (NOTIFY): each empties the "
    "actor cache",
    registry=REGISTRY,
)
ACTOR_CACHE_PROBES = Counter(
    "shortlist_actor_cache_probes",
    "Probes heard on the actor cache's channel (NOTIFY shortlist_actors, 'probe'): once one is "
    "counted, every change committed before it was heard",
    registry=REGISTRY,
)
ACTOR_CACHE_BYPASSES = Counter(
    "shortlist_actor_cache_bypasses",
    "Times the listening connection was lost: the actor cache was bypassed until it was back",
    registry=REGISTRY,
)

_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED = "unmatched"
"""The route of a request that matched none: raw paths would make a series per URL scanned."""


class RequestMetrics:
    """The two HTTP series of each request, their labelled children kept (a child's lookup by
    labels costs more than the increment). Methods outside the standard ones count as OTHER and
    paths that match no route as ``unmatched``: a client cannot make new series at will."""

    def __init__(self) -> None:
        self._children: dict[tuple[str, str | None, int], tuple[Counter, Histogram]] = {}

    def observe(self, *, method: str, route: str | None, status: int, seconds: float) -> None:
        key = (method, route, status)
        children = self._children.get(key)
        if children is None:
            label_method = method if method in _METHODS else "OTHER"
            label_route = route or UNMATCHED
            children = (
                HTTP_REQUESTS.labels(label_method, label_route, str(status)),
                HTTP_DURATION.labels(label_method, label_route),
            )
            if len(self._children) < 10_000:
                self._children[key] = children
        count, duration = children
        count.inc()
        duration.observe(seconds)


request_metrics = RequestMetrics()


_REASONS = (
    ("an access token is required", "missing"),
    ("use the bearer", "scheme"),
    ("expired", "expired"),
    ("not valid yet", "not_yet_valid"),
    ("revoked", "revoked"),
    ("well-formed", "malformed"),
    ("payload is not json", "malformed"),
    ("issuer is not trusted", "untrusted_issuer"),
    ("signing key is unknown", "unknown_key"),
    ("algorithm", "algorithm"),
    ("key reference header", "header"),
    ("not an access token", "not_access_token"),
    ("client has been deleted", "client_deleted"),
    ("user no longer exists", "user_gone"),
    ("deactivated", "user_deactivated"),
    ("subject is not a user", "subject"),
    ("signature", "bad_signature"),
    ("aud", "audience"),
)


def token_failure_reason(detail: str) -> str:
    """A short, bounded reason for a 401's detail (the series' label)."""
    lowered = detail.lower()
    for fragment, reason in _REASONS:
        if fragment in lowered:
            return reason
    return "invalid"


@dataclass(frozen=True)
class DatabaseFigures:
    scans_pending: int
    documents_infected: int
    jobs_queued: int


def read_database_figures(engine: Engine) -> DatabaseFigures:
    """What the database knows: documents waiting for their scan, documents found infected,
    and background jobs waiting (PostgreSQL: procrastinate's queue; SQLite scans in-process,
    its queue is the documents pending)."""
    with engine.connect() as connection:
        rows = connection.execute(
            sa.text(
                "SELECT status, count(*) FROM document "
                "WHERE status IN ('pending_scan', 'infected') GROUP BY status"
            )
        ).all()
        counts = {str(status): int(n) for status, n in rows}
        pending = counts.get("pending_scan", 0)
        queued = pending
        if engine.dialect.name == "postgresql":
            queued = int(
                connection.execute(
                    sa.text("SELECT count(*) FROM procrastinate_jobs WHERE status = 'todo'")
                ).scalar_one()
            )
    return DatabaseFigures(pending, counts.get("infected", 0), queued)


class _Figures(Collector):
    def __init__(self, figures: DatabaseFigures | None) -> None:
        self.figures = figures

    def collect(self) -> Iterable[GaugeMetricFamily]:
        figures = self.figures
        if figures is None:  # the database could not be read: say nothing rather than 0
            return
        yield GaugeMetricFamily(
            "shortlist_scans_pending",
            "Documents stored and waiting for their malware scan",
            value=figures.scans_pending,
        )
        yield GaugeMetricFamily(
            "shortlist_documents_infected",
            "Documents whose scan found malware (kept, never served)",
            value=figures.documents_infected,
        )
        yield GaugeMetricFamily(
            "shortlist_jobs_queued", "Background jobs waiting to run", value=figures.jobs_queued
        )


def multiprocess_dir() -> str | None:
    return os.environ.get(MULTIPROCESS_DIR_ENV) or None


def exposition(figures: DatabaseFigures | None) -> bytes:
    """The whole text page: every process's metrics (multiprocess mode) or this one's, then
    the database's figures."""
    if multiprocess_dir():
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        own = generate_latest(registry)
    else:
        own = generate_latest(REGISTRY)
    extra = CollectorRegistry()
    extra.register(_Figures(figures))
    return own + generate_latest(extra)


def prepare_multiprocess_dir(path: str) -> None:
    """Empty the directory of a previous run's files (counters would add up across runs)."""
    os.makedirs(path, exist_ok=True)
    for name in os.listdir(path):
        if re.fullmatch(r".+\.db", name):
            os.unlink(os.path.join(path, name))


def process_exited(pid: int) -> None:
    """Forget a stopped worker's live gauges (its counters stay: they are the service's)."""
    if multiprocess_dir():
        multiprocess.mark_process_dead(pid)  # type: ignore[no-untyped-call]
