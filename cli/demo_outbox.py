"""What the demo caused besides its answers: the webhook deliveries (to a receiver the demo runs
on loopback and registers, when the server allows private targets:
``SHORTLIST_WEBHOOK_ALLOW_PRIVATE=true``) and the mail (to an SMTP sink the demo runs on the
loopback address of ``SHORTLIST_SMTP_URL``, when that is where the server mails, and aiosmtpd is
installed). Both are printed at the end; signatures are verified with ``standardwebhooks``."""

import email
import email.policy
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol
from urllib.parse import urlsplit

from shortlist_client import AuthenticatedClient
from standardwebhooks import Webhook

EVENT_TYPES = [
    "round.opened",
    "round.review_started",
    "round.closed",
    "round.published",
    "application.submitted",
    "application.reopened",
    "application.withdrawn",
    "document.scanned",
    "assignment.created",
    "assignment.ended",
    "review.submitted",
]


class Caller(Protocol):
    """The demo's admin: a typed client (``shortlist_client``) signed in."""

    @property
    def client(self) -> AuthenticatedClient: ...


class DemoOutbox:
    def __init__(self, say: Callable[[str], None]) -> None:
        self.say = say
        self.deliveries: list[tuple[dict[str, str], bytes]] = []
        self.mails: list[Any] = []
        self.secret: str | None = None
        self._server: ThreadingHTTPServer | None = None
        self._smtp: Any = None

    def start(self, admin: Caller, smtp_url: str | None) -> None:
        self._start_receiver(admin)
        if smtp_url:
            self._start_smtp_sink(smtp_url)
        else:
            self.say(
                "(mail: SHORTLIST_SMTP_URL is unset here; `make run` and `make demo` mail through "
                "smtp://127.0.0.1:8025, where the demo listens)"
            )

    def _start_receiver(self, admin: Caller) -> None:
        received = self.deliveries

        class Receiver(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                received.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *_args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        url = f"http://127.0.0.1:{server.server_address[1]}/shortlist"
        response = admin.client.get_httpx_client().post(
            "/api/v1/webhooks",
            json={"url": url, "event_types": EVENT_TYPES, "description": "demo receiver"},
        )
        if response.status_code != 201:
            server.shutdown()
            self.say(
                "(webhooks: the server refused the demo's loopback receiver "
                f"({response.status_code}); start it with SHORTLIST_WEBHOOK_ALLOW_PRIVATE=true "
                "to see deliveries)"
            )
            return
        self._server = server
        self.secret = response.json()["secret"]
        self.say(f"Webhook receiver on {url}")

    def _start_smtp_sink(self, smtp_url: str) -> None:
        parts = urlsplit(smtp_url)
        if parts.scheme != "smtp" or parts.hostname not in ("127.0.0.1", "localhost"):
            return
        try:
            from aiosmtpd.controller import Controller
        except ImportError:
            self.say("(mail: install aiosmtpd to run the demo's SMTP sink)")
            return
        mails = self.mails

        class Sink:
            async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
                mails.append(
                    email.message_from_bytes(envelope.content, policy=email.policy.default)
                )
                return "250 OK"

        try:
            controller = Controller(Sink(), hostname="127.0.0.1", port=parts.port or 25)
            controller.start()
        except OSError as exc:
            self.say(f"(mail: cannot listen on {parts.hostname}:{parts.port}: {exc})")
            return
        self._smtp = controller
        self.say(f"SMTP sink on 127.0.0.1:{parts.port}")

    def report(self, *, settle_seconds: float = 5.0) -> None:
        """Wait a moment for the last deliveries and mails, print them, and stop."""
        deadline = time.monotonic() + settle_seconds
        seen = (-1, -1)
        while time.monotonic() < deadline:
            now = (len(self.deliveries), len(self.mails))
            if now == seen and now != (0, 0):
                break
            seen = now
            time.sleep(1.0)
        if self._server is not None and self.secret is not None:
            self.say(f"\nWebhook deliveries received: {len(self.deliveries)}")
            for headers, body in self.deliveries:
                try:
                    event = Webhook(self.secret).verify(body, headers)
                    check = "signature ok"
                except Exception as exc:  # shown, not raised: the demo reports
                    event, check = {}, f"signature NOT ok ({exc})"
                self.say(f"  {event.get('type', '?'):<24} {headers.get('webhook-id')}  {check}")
            self._server.shutdown()
        if self._smtp is not None:
            self.say(f"\nMails sent: {len(self.mails)}")
            for mail in self.mails:
                self.say(f"  to {mail['To']:<34} {mail['Subject']}")
            self._smtp.stop()
