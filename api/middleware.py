"""The edge of every request, in one middleware: its id, security headers, the body cap, the
access line, and a bare 500 problem for an unexpected exception."""

import random
import re
import time
from collections.abc import Iterable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import PROBLEM_JSON
from infra.logging import REQUEST_ID, access_log, log
from infra.metrics import request_metrics
from infra.outage import Dependency

REQUEST_ID_HEADER = b"x-request-id"
_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")

_API_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
]
_API_CSP = (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'")
# The docs and the login page render HTML; the docs' assets are served from here too (api/docs.py),
# and ReDoc runs its search in a worker made from a blob.
_HTML_CSP = (
    b"content-security-policy",
    b"default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    b"img-src 'self' data:; worker-src 'self' blob:; frame-ancestors 'none'; form-action 'self'",
)
_HTML_PATHS = ("/docs", "/redoc", "/oauth/authorize")


def _too_large(limit: int) -> bytes:
    return (
        b'{"type":"content-too-large","title":"Content Too Large","status":413,'
        b'"detail":"the request body exceeds ' + str(limit).encode() + b' bytes"}'
    )


# Served whatever is down: they need no database (and /readyz tells what is down).
OUTAGE_EXEMPT = ("/healthz", "/readyz", "/metrics", "/docs", "/redoc", "/openapi.json")


def _unavailable(dependency: str) -> bytes:
    return (
        b'{"type":"service-unavailable","title":"Service Unavailable","status":503,'
        b'"detail":"the ' + dependency.encode() + b' is unreachable; retry shortly"}'
    )


_INTERNAL_ERROR = (
    b'{"type":"internal-error","title":"Internal Server Error","status":500,'
    b'"detail":"an unexpected error occurred; quote the request id to the operator"}'
)


class EdgeMiddleware:
    """What every HTTP request gets, outermost of the app's own middleware:

    - an id (``X-Request-ID``, echoed when the client sent a safe one, else a new one), bound to
      the request's log lines and answered in a header;
    - defensive headers on every response (API responses are never cached by shared caches);
    - a cap on the request body, counted as it streams (Content-Length or not): 413 at once when
      the declared or received size passes it. Paths matching ``exempt`` (document uploads)
      enforce their own, per-kind caps while streaming;
    - an access line per request, and its count and duration in the metrics (by route template);
    - while a dependency is down (``outages``), a 503 problem with ``Retry-After`` at once, and
      the same for the request whose failure shows it going down (no 500, no error line each);
    - for an unexpected exception, a bare 500 problem (no trace in the body, and only the type
      and place in the log: messages and tracebacks can carry secrets).

    One layer rather than four: each ASGI layer costs every request a call and a wrapper around
    each message it sends, which a point read felt (issue 8)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_bytes: int,
        exempt: str = r"$^",
        hsts: bool = False,
        outages: Iterable[Dependency] = (),
    ) -> None:
        self.app = app
        self.outages = tuple(outages)
        self.max_bytes = max_bytes
        self.exempt = re.compile(exempt)
        base = [*_API_HEADERS, *([(b"strict-transport-security", b"max-age=31536000")] * hsts)]
        # The headers added to a response, by the kind of path: (html, no-store).
        self._extra = {
            (html, no_store): [
                *base,
                _HTML_CSP if html else _API_CSP,
                *([(b"cache-control", b"no-store")] * no_store),
            ]
            for html in (False, True)
            for no_store in (False, True)
        }
        self._extra_names = frozenset(name for added in self._extra.values() for name, _ in added)

    def _headers(
        self,
        given: Iterable[tuple[bytes, bytes]],
        extra: list[tuple[bytes, bytes]],
        request_id: str,
    ) -> list[tuple[bytes, bytes]]:
        """The response's headers, then each of ``extra`` it does not set itself, then the
        request id (replacing any the app set)."""
        headers = list(given)
        for name, _ in headers:
            lowered = name.lower()
            if lowered == REQUEST_ID_HEADER or lowered in self._extra_names:
                break
        else:  # the usual case: nothing to drop or to keep from ``extra``
            headers += extra
            headers.append((REQUEST_ID_HEADER, request_id.encode()))
            return headers
        headers = [(k, v) for k, v in headers if k.lower() != REQUEST_ID_HEADER]
        present = {k.lower() for k, _ in headers}
        headers.extend((k, v) for k, v in extra if k not in present)
        headers.append((REQUEST_ID_HEADER, request_id.encode()))
        return headers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        limit = self.max_bytes
        capped = not self.exempt.search(path)
        request_id = ""
        seen_id = False
        too_large = False
        for name, value in scope.get("headers", ()):
            if name == REQUEST_ID_HEADER and not seen_id:
                seen_id = True
                candidate = value.decode("latin-1")
                if _SAFE_REQUEST_ID.match(candidate):
                    request_id = candidate
            elif name == b"content-length" and capped:
                too_large = value.isdigit() and int(value) > limit
        # 128 random bits as 32 hex digits (as uuid4().hex, for a fraction of its cost).
        request_id = request_id or f"{random.getrandbits(128):032x}"
        scope.setdefault("state", {})["request_id"] = request_id
        extra = self._extra[(path.startswith(_HTML_PATHS), path.startswith(("/api/", "/oauth/")))]
        started_at = time.perf_counter()
        status = 0
        refused = False

        async def emit(message: Message, *, refusing: bool = False) -> None:
            """``send`` with the edge's headers; after a refusal (413), only the refusal's."""
            nonlocal status
            if refused and not refusing:
                return  # the app's answer to a request already refused
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = self._headers(message.get("headers", ()), extra, request_id)
            await send(message)

        async def answer(code: int, body: bytes, *headers: tuple[bytes, bytes]) -> None:
            """A problem answered here (413, 500), with the headers every response gets."""
            length = str(len(body)).encode()
            start = {
                "type": "http.response.start",
                "status": code,
                "headers": [
                    (b"content-type", PROBLEM_JSON.encode()),
                    (b"content-length", length),
                    *headers,
                ],
            }
            await emit(start, refusing=True)
            await emit({"type": "http.response.body", "body": body}, refusing=True)

        async def refuse() -> None:
            nonlocal refused
            refused = True
            if not status:
                await answer(413, _too_large(limit), (b"connection", b"close"))

        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    # Answer now; the app sees a disconnect and whatever it sends is dropped.
                    await refuse()
                    return {"type": "http.disconnect"}
            return message

        async def unavailable(dependency: Dependency) -> None:
            retry_after = str(dependency.retry_after).encode()
            await answer(503, _unavailable(dependency.name), (b"retry-after", retry_after))

        bound = REQUEST_ID.set(request_id)
        try:
            down = next((d for d in self.outages if d.down), None)
            if too_large:
                await refuse()
            elif down is not None and not path.startswith(OUTAGE_EXEMPT):
                await unavailable(down)
            else:
                await self.app(scope, counting_receive if capped else receive, emit)
        except Exception as exc:
            gone = next((d for d in self.outages if d.failed(exc)), None)
            if gone is not None:
                if not status:
                    await unavailable(gone)
                return
            frame = exc.__traceback__
            while frame is not None and frame.tb_next is not None:
                frame = frame.tb_next
            log.error(
                "unhandled_exception",
                method=scope.get("method"),
                path=path,
                error_type=type(exc).__name__,
                where=(
                    f"{frame.tb_frame.f_code.co_filename}:{frame.tb_lineno}"
                    if frame is not None
                    else None
                ),
            )
            if not status:
                await answer(500, _INTERNAL_ERROR)
            if not refused:
                status = 500
        finally:
            seconds = time.perf_counter() - started_at
            method = scope.get("method", "")
            access_log.write(
                request_id=request_id,
                method=method,
                path=path,
                status=status,
                ms=round(seconds * 1000, 2),
            )
            request_metrics.observe(
                method=method,
                route=getattr(scope.get("route"), "path", None),
                status=status,
                seconds=seconds,
            )
            REQUEST_ID.reset(bound)
