"""A real SMTP server on loopback (aiosmtpd) that keeps what it accepts, for the mail tests
(tests/integration/test_mail.py, tests/security/test_mail_seal_attacks.py)."""

import email
import email.policy
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from fastapi import FastAPI
from pydantic import SecretStr

from api.app import create_app
from infra.db import open_session
from infra.settings import Settings
from notifications.mail import queue_event_mail
from tests.api.test_review_flow import T0
from tests.factories import Clock
from tests.integration.conftest import free_port


class Sink:
    """An SMTP server that keeps what it accepts; ``fail_next`` answers the next DATA 451."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.fail_next = 0
        self.refused = 0
        self.lock = threading.Lock()

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
        with self.lock:
            if self.fail_next:
                self.fail_next -= 1
                self.refused += 1
                return "451 4.3.0 try again later"
            message = email.message_from_bytes(envelope.content, policy=email.policy.default)
            assert isinstance(message, EmailMessage)
            self.messages.append(message)
        return "250 OK"

    def wait_matching(
        self, match: Callable[[EmailMessage], bool], count: int, timeout: float = 30.0
    ) -> list[EmailMessage]:
        """The first ``count`` mails that ``match``, once that many have arrived."""
        deadline = time.monotonic() + timeout
        while len(found := [m for m in list(self.messages) if match(m)]) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"{len(found)} matching mails arrived, not {count}")
            time.sleep(0.02)
        return found[:count]

    def wait_for(self, count: int, timeout: float = 30.0) -> list[EmailMessage]:
        deadline = time.monotonic() + timeout
        while len(self.messages) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"{len(self.messages)} mails arrived, not {count}")
            time.sleep(0.02)
        return list(self.messages)


@pytest.fixture
def sink() -> Iterator[tuple[Sink, int]]:
    handler = Sink()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    yield handler, port
    controller.stop()


class MailPasses:
    """Counts the app's mail passes as they end (each rides a delivery pass, on SQLite and on
    PostgreSQL alike: infra/webhooks.py), so that a test waits for passes, not for a time."""

    def __init__(self, run_pass: Callable[[], Awaitable[int]]) -> None:
        self._run_pass = run_pass
        self.ended = 0

    async def run_pass(self) -> int:
        try:
            return await self._run_pass()
        finally:
            self.ended += 1

    def wait(self, passes: int = 3, timeout: float = 30.0) -> None:
        """Until ``passes`` more passes have ended: the first may have begun before this call,
        the others began after it, so whatever they would send has been sent."""
        target = self.ended + passes
        deadline = time.monotonic() + timeout
        while self.ended < target:
            if time.monotonic() > deadline:
                raise AssertionError(f"{target - self.ended} mail passes did not end in time")
            time.sleep(0.02)


def queue_all_mail(app: FastAPI) -> None:
    """Queue the mail of every event so far, as the app's mail pass does (under the same lock on
    the mail cursor): what is composed from here on was composed by now."""
    session = open_session(app.state.engine, write=True)
    try:
        while queue_event_mail(session=session, now=app.state.clock(), default_locale="en"):
            session.commit()
        session.commit()
    finally:
        session.close()


@pytest.fixture
def mail_passes(app: FastAPI, monkeypatch: pytest.MonkeyPatch) -> MailPasses:
    webhooks = app.state.webhooks
    mail = getattr(webhooks, "deliveries", webhooks).mail  # PostgreSQL's jobs wrap the loop's
    assert mail is not None
    passes = MailPasses(mail.run_pass)
    monkeypatch.setattr(mail, "run_pass", passes.run_pass)
    return passes


def body(message: EmailMessage, kind: str = "plain") -> str:
    part = message.get_body(preferencelist=(kind,))
    assert part is not None, f"no text/{kind} part"
    content: str = part.get_content()
    return content


def to(message: EmailMessage) -> str:
    return str(message["To"])


@pytest.fixture
def app(settings: Settings, sink: tuple[Sink, int]) -> Iterator[FastAPI]:
    _, port = sink
    app = create_app(
        settings.model_copy(
            update={
                "smtp_url": SecretStr(f"smtp://127.0.0.1:{port}"),
                "mail_from": "Shortlist <noreply@shortlist.example>",
                "webhook_interval_seconds": 0.1,
            }
        )
    )
    app.state.clock = Clock(T0)
    yield app
    app.state.engine.dispose()
