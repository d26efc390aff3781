"""Webhook delivery: the HTTP sender (DNS checked again before each attempt, Standard Webhooks
signatures) and the background work that fans events out and sends what is due.

The work runs through the job library as document scans do (``infra.jobs``): on SQLite a loop
inside the server process (the delivery rows are the queue); on PostgreSQL a procrastinate job
(``shortlist.deliver_webhooks``) deferred on each event and every minute, never two at once
across processes (its lock), run by the in-process worker or ``shortlist worker``.
"""

import asyncio
import contextlib
import socket
import time
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import anyio
import anyio.to_thread
import httpx
import structlog
from sqlalchemy.engine import Engine
from standardwebhooks import Webhook

from infra.background import stop_tasks, stop_worker
from infra.db import make_engine, open_session, session_scope
from infra.events import EventSignal
from infra.mail import MailWork, make_mail_work
from infra.settings import Settings
from models.errors import Unprocessable
from models.webhooks import DeliveryStatus
from notifications.webhooks import (
    TIMEOUT_SECONDS,
    PreparedDelivery,
    UrlPolicy,
    any_active_endpoint,
    check_url,
    due_deliveries,
    fan_out,
    prepare,
    record_attempt,
)

log = structlog.get_logger("shortlist.webhooks")


def resolve_host(host: str) -> Sequence[str]:
    """Every address ``host`` resolves to (IPv4 and IPv6)."""
    infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    return sorted({str(info[4][0]) for info in infos})


def url_policy(settings: Settings) -> UrlPolicy:
    return UrlPolicy(
        resolve=resolve_host,
        allow_private=settings.webhook_allow_private,
        allow_http_loopback=settings.public_url_is_loopback,
    )


def sign_headers(prepared: PreparedDelivery, at: datetime) -> dict[str, str]:
    """The Standard Webhooks headers: one ``v1,`` signature per live secret."""
    signatures = " ".join(
        Webhook(secret).sign(msg_id=prepared.message_id, timestamp=at, data=prepared.body)
        for secret in prepared.secrets
    )
    return {
        "webhook-id": prepared.message_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": signatures,
        "content-type": "application/json",
        "user-agent": "Shortlist-Webhooks/1",
    }


class PinnedClients:
    """HTTP clients that connect to the addresses ``check_url`` approved, never to whatever the
    name resolves to a moment later (DNS rebinding: a name that answers a public address to
    the check and a loopback one to the connection). A request goes to the checked IP address,
    with the ``Host`` header and the TLS server name (SNI, hence the certificate checked) set to
    the URL's host. One client per host name, so that a kept-alive connection, whose TLS
    session was verified for one name, never carries a request for another name on the same
    address."""

    def __init__(self, *, timeout: float, transport: httpx.AsyncBaseTransport | None) -> None:
        self._timeout = timeout
        self._transport = transport
        self._clients: dict[str, httpx.AsyncClient] = {}

    def client(self, host: str) -> httpx.AsyncClient:
        client = self._clients.get(host)
        if client is None:
            client = self._clients[host] = httpx.AsyncClient(
                timeout=self._timeout, follow_redirects=False, transport=self._transport
            )
        return client

    async def aclose(self) -> None:
        for client in self._clients.values():
            await client.aclose()
        self._clients.clear()

    async def __aenter__(self) -> "PinnedClients":
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.aclose()

    async def post(
        self, url: str, addresses: Sequence[str], *, content: bytes, headers: dict[str, str]
    ) -> httpx.Response:
        """POST ``url`` through the first of ``addresses`` that accepts a connection."""
        target = httpx.URL(url)
        host = target.host
        pinned_headers = {**headers, "host": urlsplit(url).netloc}
        last: httpx.ConnectError | None = None
        for address in addresses:
            try:
                return await self.client(host).post(
                    target.copy_with(host=address),
                    content=content,
                    headers=pinned_headers,
                    extensions={"sni_hostname": host},
                )
            except httpx.ConnectError as exc:
                last = exc
        raise last or httpx.ConnectError(f"no address to connect to for {host}")


async def send(
    clients: PinnedClients, prepared: PreparedDelivery, policy: UrlPolicy, at: datetime
) -> tuple[int | None, str | None]:
    """One attempt: the status code, or ``None`` and why there was none. The host is resolved
    and checked now, and the request goes to an address that passed the check."""
    try:
        addresses = await anyio.to_thread.run_sync(check_url, prepared.url, policy)
    except Unprocessable as exc:
        return None, f"refused: {exc.detail}"
    try:
        response = await clients.post(
            prepared.url, addresses, content=prepared.body, headers=sign_headers(prepared, at)
        )
    except httpx.HTTPError as exc:
        return None, f"{type(exc).__name__}: {exc}"[:500]
    return response.status_code, None


class WebhookDeliveries:
    """One pass of the work (``deliver_pending``) and the loop that repeats it."""

    def __init__(
        self,
        *,
        engine: Engine,
        policy: UrlPolicy,
        clock: Callable[[], datetime],
        signal: EventSignal | None = None,
        interval: float = 5.0,
        concurrency: int = 8,
        transport: httpx.AsyncBaseTransport | None = None,
        mail: MailWork | None = None,
    ) -> None:
        self.engine = engine
        self.policy = policy
        self.clock = clock
        self.signal = signal
        self.interval = interval
        self.concurrency = concurrency
        self.transport = transport
        self.mail = mail
        """Mail rides along each pass (``infra.mail``), when SMTP is configured."""

    def _fan_out(self) -> int:
        reading = open_session(self.engine)
        try:
            if not any_active_endpoint(session=reading):
                return 0
        finally:
            reading.close()
        with session_scope(self.engine) as session:
            return fan_out(session=session, now=self.clock())

    def _due(self) -> list[Any]:
        session = open_session(self.engine)
        try:
            return due_deliveries(session=session, now=self.clock(), limit=self.concurrency * 4)
        finally:
            session.close()

    def _prepare(self, delivery_id: Any) -> PreparedDelivery | None:
        session = open_session(self.engine)
        try:
            return prepare(session=session, delivery_id=delivery_id, now=self.clock())
        finally:
            session.close()

    def _record(self, delivery_id: Any, code: int | None, error: str | None) -> str | None:
        with session_scope(self.engine) as session:
            row = record_attempt(
                session=session,
                delivery_id=delivery_id,
                now=self.clock(),
                status_code=code,
                error=error,
            )
            return row.status if row is not None else None

    async def deliver_pending(self) -> int:
        """Fan new events out, then attempt every due delivery; how many were attempted. Then
        the mail's pass."""
        attempted = await self._deliver_webhooks()
        if self.mail is not None:
            try:
                await self.mail.run_pass()
            except Exception:
                log.exception("mail.pass_failed")
        return attempted

    async def _deliver_webhooks(self) -> int:
        while await anyio.to_thread.run_sync(self._fan_out):
            pass
        attempted = 0
        limiter = anyio.CapacityLimiter(self.concurrency)
        async with PinnedClients(timeout=TIMEOUT_SECONDS, transport=self.transport) as clients:

            async def one(delivery_id: Any) -> None:
                nonlocal attempted
                async with limiter:
                    prepared = await anyio.to_thread.run_sync(self._prepare, delivery_id)
                    if prepared is None:
                        return
                    code, error = await send(clients, prepared, self.policy, self.clock())
                    status = await anyio.to_thread.run_sync(self._record, delivery_id, code, error)
                    attempted += 1
                    if status == DeliveryStatus.failed:
                        log.warning("webhooks.gave_up", delivery_id=str(delivery_id))

            while True:
                due = await anyio.to_thread.run_sync(self._due)
                if not due:
                    break
                async with anyio.create_task_group() as group:
                    for delivery_id in due:
                        group.start_soon(one, delivery_id)
                if len(due) < self.concurrency * 4:
                    break
        return attempted

    async def run(self) -> None:
        """Deliver, then wait for an event or the interval; forever."""
        while True:
            version = self.signal.version if self.signal is not None else 0
            started = time.monotonic()
            try:
                await self.deliver_pending()
            except Exception:
                log.exception("webhooks.pass_failed")
            if self.signal is not None:
                await self.signal.wait(since=version, timeout=self.interval)
            else:
                await asyncio.sleep(max(self.interval - (time.monotonic() - started), 0.05))

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        task = asyncio.create_task(self.run(), name="webhook-deliveries")
        try:
            yield
        finally:
            await stop_tasks([task])
            self.engine.dispose()


WEBHOOK_QUEUE = "webhooks"
DELIVER_TASK = "shortlist.deliver_webhooks"
DELIVER_LOCK = "deliver-webhooks"
RESTART_DELAY_SECONDS = 5.0
WORKER_GRACE_SECONDS = TIMEOUT_SECONDS + 5
"""How long a stopping worker lets its delivery pass finish (a request's timeout, and some):
its ``shutdown_graceful_timeout``, and the grace ``stop_worker`` gives it."""


class ProcrastinateWebhooks:
    """Deliveries on PostgreSQL: a ``shortlist.deliver_webhooks`` job (one pass of
    ``WebhookDeliveries.deliver_pending``) on procrastinate's queue in the same database, never
    two running at once across processes (its lock) nor two waiting (its queueing lock). Each
    API process defers one when an event commits (the ``LISTEN`` wake-up included) and every
    ``interval`` (retries coming due); a worker in the process, or ``shortlist worker``, runs
    them."""

    def __init__(
        self,
        *,
        database_url: str,
        deliveries: WebhookDeliveries,
        in_process: bool = True,
        stalled_seconds: float = 30.0,
    ) -> None:
        import procrastinate

        from infra.jobs.postgres import procrastinate_connector

        self.deliveries = deliveries
        self.in_process = in_process
        self.stalled_seconds = stalled_seconds
        """A pass whose worker sent no heartbeat for this long is ended (``recover_stalled``)."""
        self.app = procrastinate.App(connector=procrastinate_connector(database_url, max_size=4))
        self.deliver = self.app.task(name=DELIVER_TASK, queue=WEBHOOK_QUEUE)(self._deliver)

    async def _deliver(self) -> None:
        await self.deliveries.deliver_pending()

    async def defer(self) -> bool:
        """Defer a pass; False when one is waiting already."""
        from procrastinate.exceptions import AlreadyEnqueued

        try:
            job = self.deliver.configure(lock=DELIVER_LOCK, queueing_lock=DELIVER_LOCK)
            await job.defer_async()
        except AlreadyEnqueued:
            return False
        return True

    async def recover_stalled(self) -> int:
        """End the passes whose worker died (no heartbeat for ``stalled_seconds``): their lock
        would hold every later pass back. What they were sending was never recorded, so the
        next pass sends it again. How many were ended."""
        from procrastinate.jobs import Status

        manager = self.app.job_manager
        ended = 0
        for job in await manager.get_stalled_jobs(
            queue=WEBHOOK_QUEUE,
            task_name=DELIVER_TASK,
            seconds_since_heartbeat=self.stalled_seconds,
        ):
            with contextlib.suppress(Exception):  # finished meanwhile
                await manager.finish_job(job, status=Status.FAILED, delete_job=True)
                ended += 1
        if ended:
            log.warning("webhooks.stalled_pass_ended", passes=ended)
        return ended

    async def _wake(self) -> None:
        signal = self.deliveries.signal
        while True:
            version = signal.version if signal is not None else 0
            try:
                await self.recover_stalled()
                await self.defer()
            except Exception:
                log.exception("webhooks.defer_failed")
            if signal is not None:
                await signal.wait(since=version, timeout=self.deliveries.interval)
            else:
                await asyncio.sleep(self.deliveries.interval)

    async def work(self, *, wait: bool = True, handle_signals: bool = True) -> None:
        """Run a worker for the passes (until stopped; without ``wait``, until none is
        waiting). Beside it, every half of ``stalled_seconds``: passes whose worker died are
        ended and a pass deferred, so that a worker alone (``shortlist worker``, no API
        process deferring) finishes what a killed one left."""
        recovery = asyncio.create_task(self._recover_periodically(), name="webhook-recovery")
        try:
            await self.app.run_worker_async(
                queues=[WEBHOOK_QUEUE],
                name="shortlist-webhooks",
                concurrency=1,
                wait=wait,
                delete_jobs="successful",
                shutdown_graceful_timeout=WORKER_GRACE_SECONDS,
                install_signal_handlers=handle_signals,
                update_heartbeat_interval=self.stalled_seconds / 3,
                stalled_worker_timeout=self.stalled_seconds,
            )
        finally:
            await stop_tasks([recovery])

    async def _recover_periodically(self) -> None:
        while True:
            try:
                if await self.recover_stalled():
                    await self.defer()
            except Exception:
                log.exception("webhooks.recovery_failed")
            await asyncio.sleep(self.stalled_seconds / 2)

    async def _keep_working(self) -> None:
        while True:
            try:
                await self.work(handle_signals=False)
            except Exception:
                log.exception("webhooks.worker_failed")
            await asyncio.sleep(RESTART_DELAY_SECONDS)

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        async with self.app.open_async():
            wake = asyncio.create_task(self._wake(), name="webhook-wake")
            worker = None
            if self.in_process:
                worker = asyncio.create_task(self._keep_working(), name="webhook-worker")
            try:
                yield
            finally:
                await stop_tasks([wake])
                if worker is not None:
                    await stop_worker(worker, grace=WORKER_GRACE_SECONDS)
                self.deliveries.engine.dispose()


def make_webhook_deliveries(
    settings: Settings,
    *,
    engine: Engine,
    signal: EventSignal,
    clock: Callable[[], datetime],
) -> "WebhookDeliveries | ProcrastinateWebhooks":
    """The delivery work for this database: the in-process loop on SQLite, procrastinate jobs
    on PostgreSQL."""
    # An engine of its own: the background work's reads and writes neither take the requests'
    # connections nor show among their statements.
    work_engine = make_engine(
        settings.database_url,
        pool_size=2,
        busy_timeout_ms=settings.sqlite_busy_timeout_ms,
    )
    deliveries = WebhookDeliveries(
        engine=work_engine,
        policy=url_policy(settings),
        clock=clock,
        signal=signal,
        interval=settings.webhook_interval_seconds,
        concurrency=settings.webhook_concurrency,
        mail=make_mail_work(settings, engine=work_engine, clock=clock),
    )
    if engine.dialect.name == "postgresql":
        return ProcrastinateWebhooks(
            database_url=settings.database_url,
            deliveries=deliveries,
            in_process=settings.jobs_in_process,
            stalled_seconds=settings.webhook_stalled_seconds,
        )
    return deliveries
