"""Mail over SMTP (aiosmtplib) and the pass that queues and sends it (``notifications.mail``
decides what to send to whom); run with the webhook deliveries, through the same job."""

import email.utils
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from typing import Any
from urllib.parse import unquote, urlsplit

import aiosmtplib
import anyio.to_thread
import structlog
from sqlalchemy.engine import Engine

from infra.db import open_session, session_scope
from infra.settings import Settings
from models.mail import MailMessage
from notifications.mail import (
    claim,
    due_mail,
    message_id,
    queue_event_mail,
    queue_reminders,
    record_sending,
)

log = structlog.get_logger("shortlist.mail")
SMTP_TIMEOUT_SECONDS = 10.0


@dataclass(frozen=True, slots=True)
class SmtpServer:
    host: str
    port: int
    username: str | None = None
    password: str | None = None
    use_tls: bool = False
    start_tls: bool = False

    @classmethod
    def from_url(cls, url: str) -> "SmtpServer":
        parts = urlsplit(url)
        schemes = {"smtp": (False, False, 25), "smtp+starttls": (False, True, 587)}
        schemes["smtps"] = (True, False, 465)
        if parts.scheme not in schemes or not parts.hostname:
            raise ValueError("SHORTLIST_SMTP_URL: smtp://, smtp+starttls:// or smtps://host:port")
        use_tls, start_tls, port = schemes[parts.scheme]
        return cls(
            host=parts.hostname,
            port=parts.port or port,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            use_tls=use_tls,
            start_tls=start_tls,
        )


def build_message(mail: MailMessage, sender: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = mail.recipient
    message["Subject"] = mail.subject
    message["Date"] = email.utils.formatdate(usegmt=True)
    domain = email.utils.parseaddr(sender)[1].rpartition("@")[2] or "shortlist"
    message["Message-ID"] = message_id(mail, domain)
    message.set_content(mail.text)
    message.add_alternative(mail.html, subtype="html")
    message["Content-Language"] = mail.locale  # after the parts, which take the content headers
    return message


class MailWork:
    """Queue the mail of new events and due reminders, then send what is due."""

    def __init__(
        self,
        *,
        engine: Engine,
        server: SmtpServer,
        sender: str,
        default_locale: str,
        clock: Callable[[], datetime],
    ) -> None:
        self.engine = engine
        self.server = server
        self.sender = sender
        self.default_locale = default_locale
        self.clock = clock
        self.sent = 0

    def _queue(self) -> int:
        with session_scope(self.engine) as session:
            now = self.clock()
            events = queue_event_mail(session=session, now=now, default_locale=self.default_locale)
            queue_reminders(session=session, now=now, default_locale=self.default_locale)
            return events

    def _due(self) -> list[Any]:
        session = open_session(self.engine)
        try:
            return due_mail(session=session, now=self.clock())
        finally:
            session.close()

    def _claim(self, mail_id: Any) -> MailMessage | None:
        with session_scope(self.engine) as session:
            return claim(session=session, mail_id=mail_id, now=self.clock())

    def _record(self, mail_id: Any, error: str | None) -> None:
        with session_scope(self.engine) as session:
            record_sending(session=session, mail_id=mail_id, now=self.clock(), error=error)

    async def send(self, mail: MailMessage) -> str | None:
        """Send one mail; ``None`` or why it was not accepted."""
        try:
            await aiosmtplib.send(
                build_message(mail, self.sender),
                hostname=self.server.host,
                port=self.server.port,
                username=self.server.username,
                password=self.server.password,
                use_tls=self.server.use_tls,
                start_tls=self.server.start_tls,
                timeout=SMTP_TIMEOUT_SECONDS,
            )
        except (aiosmtplib.SMTPException, OSError) as exc:
            return f"{type(exc).__name__}: {exc}"
        return None

    async def run_pass(self) -> int:
        """One pass; how many mails were sent."""
        while await anyio.to_thread.run_sync(self._queue):
            pass
        sent = 0
        for mail_id in await anyio.to_thread.run_sync(self._due):
            mail = await anyio.to_thread.run_sync(self._claim, mail_id)
            if mail is None:
                continue
            error = await self.send(mail)
            await anyio.to_thread.run_sync(self._record, mail_id, error)
            if error is None:
                sent += 1
            else:
                log.warning("mail.failed", mail_id=str(mail_id), error=error)
        self.sent += sent
        return sent


def make_mail_work(
    settings: Settings, *, engine: Engine, clock: Callable[[], datetime]
) -> MailWork | None:
    """The mail pass, or ``None`` while ``SHORTLIST_SMTP_URL`` is unset."""
    if settings.smtp_url is None:
        return None
    return MailWork(
        engine=engine,
        server=SmtpServer.from_url(settings.smtp_url.get_secret_value()),
        sender=settings.mail_from,
        default_locale=settings.default_locale,
        clock=clock,
    )
