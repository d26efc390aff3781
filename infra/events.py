"""Waking event-feed readers when events commit: in this process after the committing
session's commit, and across processes through PostgreSQL ``LISTEN``/``NOTIFY`` (the outbox
sends ``pg_notify`` inside the writing transaction, which PostgreSQL delivers at commit).

Readers never rely on a wake-up alone: ``EventSignal.wait`` returns at its timeout too, and the
feed reads again, so a lost notification (the listener reconnecting) costs latency, not events.
"""

import asyncio
import itertools
import os
import threading
import weakref
from collections.abc import Mapping
from typing import Any, Protocol

import sqlalchemy as sa
import structlog
from sqlalchemy.engine import Engine
from sqlmodel import Session

from models.events import EVENTS_CHANNEL, EVENTS_WRITTEN

log = structlog.get_logger(__name__)


class EventSignal:
    """A counter of commits that wrote events, and the coroutines waiting for the next one.

    ``notify`` may be called from any thread. A reader takes ``version`` before it reads and
    passes it to ``wait``, so a commit between its read and its wait is not slept through."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = []
        self.version = 0

    def notify(self) -> None:
        with self._lock:
            self.version += 1
            waiters, self._waiters = self._waiters, []
        for loop, future in waiters:
            try:
                loop.call_soon_threadsafe(_resolve, future)
            except RuntimeError:  # that loop has closed
                continue

    async def wait(self, *, since: int, timeout: float) -> bool:
        """Until a commit after ``since`` or ``timeout`` seconds: whether one came."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        with self._lock:
            if self.version != since:
                return True
            self._waiters.append((loop, future))
        # asyncio.timeout, not wait_for: on Python 3.11 wait_for returns the future's result
        # when a cancellation arrives just as the future resolves, swallowing the cancellation,
        # and a background loop cancelled at shutdown then waits again for ever.
        try:
            async with asyncio.timeout(timeout):
                await future
        except TimeoutError:
            return False
        finally:
            with self._lock:
                if (loop, future) in self._waiters:
                    self._waiters.remove((loop, future))
        return True


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


_SIGNALS: "weakref.WeakKeyDictionary[Any, EventSignal]" = weakref.WeakKeyDictionary()


def _after_commit(session: Session) -> None:
    if not session.info.pop(EVENTS_WRITTEN, False):
        return
    bind = session.get_bind()
    signal = _SIGNALS.get(getattr(bind, "pool", None))
    if signal is not None:
        signal.notify()


def _after_rollback(session: Session) -> None:
    session.info.pop(EVENTS_WRITTEN, None)


sa.event.listen(Session, "after_commit", _after_commit)
sa.event.listen(Session, "after_rollback", _after_rollback)


def install_event_signal(engine: Engine) -> EventSignal:
    """The signal of commits through ``engine`` (and its execution-option variants) that wrote
    events."""
    signal = _SIGNALS.get(engine.pool)
    if signal is None:
        signal = _SIGNALS[engine.pool] = EventSignal()
    return signal


class ChannelSubscriber(Protocol):
    """What listens through a ``NotifyListener`` on a channel of its own besides the events'
    (the actor cache, ``identity.actors.ActorCache``)."""

    def listening(self) -> None:
        """The connection listens (again): notifications from now on will be heard."""

    def deaf(self) -> None:
        """The connection is lost: notifications may be missed until ``listening``."""

    def notified(self, payload: str) -> None:
        """A notification on the subscriber's channel, with its payload."""


STOP_WAIT_SECONDS = 5.0
"""How long stopping a ``NotifyListener`` waits for its thread (a daemon: one that outlives it is
left to the process's exit)."""


class NotifyListener:
    """A thread that ``LISTEN``s on a PostgreSQL channel and notifies ``signal`` on each
    notification; it reconnects after a dropped connection (notifying once on reconnect, since
    notifications sent meanwhile were lost). ``connected`` says whether it listens now.

    One connection per process serves every channel: ``subscribers`` maps further channels to
    whoever takes their notifications, and hears when the connection listens and when it is
    lost (``ChannelSubscriber``)."""

    def __init__(
        self,
        url: str,
        signal: EventSignal,
        *,
        channel: str = EVENTS_CHANNEL,
        subscribers: Mapping[str, ChannelSubscriber] | None = None,
    ) -> None:
        engine = sa.create_engine(url)
        _, params = engine.dialect.create_connect_args(engine.url)
        engine.dispose()
        self.application_name = f"shortlist-listen-{os.getpid()}-{next(_LISTENERS)}"
        """The connection's ``application_name`` (in ``pg_stat_activity``)."""
        self._params: dict[str, Any] = {
            **params,
            "autocommit": True,
            "application_name": self.application_name,
        }
        self._signal = signal
        self._channel = channel
        self._subscribers = dict(subscribers or {})
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.connected = threading.Event()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="shortlist-listen", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop listening and wait (up to ``STOP_WAIT_SECONDS``) for the thread to end: for
        callers outside an event loop. The thread may take one ``notifies`` poll (half a
        second) to notice, so a coroutine uses ``aclose``, which does not block its loop."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=STOP_WAIT_SECONDS)

    async def aclose(self) -> None:
        """``stop`` from a coroutine: the join waits in a worker thread while the event loop
        goes on serving its other tasks (a lifespan's shutdown, requests still finishing)."""
        self._stop.set()
        if self._thread is not None:
            await asyncio.to_thread(self._thread.join, STOP_WAIT_SECONDS)

    def _deliver(self, channel: str, payload: str) -> None:
        subscriber = self._subscribers.get(channel)
        if subscriber is not None:
            subscriber.notified(payload)
        else:
            self._signal.notify()

    def _run(self) -> None:
        import psycopg

        delay = 0.1
        while not self._stop.is_set():
            try:
                with psycopg.connect(**self._params) as connection:
                    for channel in (self._channel, *self._subscribers):
                        connection.execute(f'LISTEN "{channel}"')
                    self.connected.set()
                    delay = 0.1
                    self._signal.notify()
                    for subscriber in self._subscribers.values():
                        subscriber.listening()
                    while not self._stop.is_set():
                        for notification in connection.notifies(timeout=0.5):
                            self._deliver(notification.channel, notification.payload)
            except psycopg.Error as exc:
                log.warning("event listener disconnected", error=str(exc))
            finally:
                self.connected.clear()
                for subscriber in self._subscribers.values():
                    subscriber.deaf()
            self._stop.wait(delay)
            delay = min(delay * 2, 5.0)


_LISTENERS = itertools.count(1)
