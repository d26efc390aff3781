"""The clamd daemon as a ``submissions.scanning.Scanner``, spoken to over TCP with its
``INSTREAM`` command, the file streamed in bounded chunks; ``make_scanner`` picks the scanner
that ``SHORTLIST_SCANNER_URL`` names.
"""

import struct
from collections.abc import AsyncIterable
from urllib.parse import parse_qs, urlparse

import anyio
from anyio.abc import SocketStream

from submissions.scanning import CLEAN, NoScanner, Scanner, ScanResult, ScanVerdict


class ClamdError(Exception):
    pass


class ClamdScanner:
    """A clamd daemon at ``host:port``.

    ``max_stream_bytes`` should not exceed clamd's ``StreamMaxLength`` (25 MiB by default); a
    larger file is not sent at all and scans as ``ERROR``.
    """

    def __init__(
        self,
        host: str,
        port: int = 3310,
        *,
        timeout: float = 60.0,
        connect_timeout: float = 5.0,
        max_stream_bytes: int = 25 * 1024 * 1024,
        chunk_size: int = 64 * 1024,
    ) -> None:
        self.host, self.port = host, port
        self.timeout, self.connect_timeout = timeout, connect_timeout
        self.max_stream_bytes = max_stream_bytes
        self.chunk_size = chunk_size

    @property
    def deferred(self) -> bool:
        return True

    async def scan(self, chunks: AsyncIterable[bytes]) -> ScanResult:
        try:
            reply = await self._instream(chunks)
        except (OSError, ClamdError, TimeoutError, anyio.BrokenResourceError) as exc:
            return ScanResult(ScanVerdict.ERROR, detail=f"clamd: {exc or type(exc).__name__}")
        return parse_reply(reply)

    async def ping(self) -> None:
        async with await self._connect() as stream:
            with anyio.fail_after(self.timeout):
                await stream.send(b"zPING\0")
                reply = await _read_reply(stream)
        if reply != "PONG":
            raise ClamdError(f"unexpected answer to PING: {reply!r}")

    async def _connect(self) -> SocketStream:
        with anyio.fail_after(self.connect_timeout):
            return await anyio.connect_tcp(self.host, self.port)

    async def _instream(self, chunks: AsyncIterable[bytes]) -> str:
        async with await self._connect() as stream:
            with anyio.fail_after(self.timeout):
                await stream.send(b"zINSTREAM\0")
            sent = 0
            try:
                async for chunk in chunks:
                    for start in range(0, len(chunk), self.chunk_size):
                        piece = chunk[start : start + self.chunk_size]
                        sent += len(piece)
                        if sent > self.max_stream_bytes:
                            raise ClamdError(
                                f"the file is larger than the {self.max_stream_bytes} bytes "
                                "the scanner accepts"
                            )
                        with anyio.fail_after(self.timeout):
                            await stream.send(struct.pack(">I", len(piece)) + piece)
                with anyio.fail_after(self.timeout):
                    await stream.send(b"\0\0\0\0")
            except (OSError, anyio.BrokenResourceError):
                # clamd may have answered and closed early (its own size limit, say): read it.
                pass
            with anyio.fail_after(self.timeout):
                return await _read_reply(stream)


async def _read_reply(stream: SocketStream, limit: int = 4096) -> str:
    reply = bytearray()
    while b"\0" not in reply:
        try:
            reply += await stream.receive(1024)
        except anyio.EndOfStream:
            break
        if len(reply) > limit:
            raise ClamdError("clamd's reply is too long")
    if not reply:
        raise ClamdError("clamd closed the connection without an answer")
    return reply.split(b"\0", 1)[0].decode("utf-8", "replace").strip()


def parse_reply(reply: str) -> ScanResult:
    """Read clamd's answer to a stream scan: ``stream: OK``, ``stream: <name> FOUND`` or an
    error message ending in ``ERROR``."""
    body = reply.removeprefix("stream:").strip()
    if body == "OK":
        return CLEAN
    if body.endswith(" FOUND"):
        return ScanResult(ScanVerdict.INFECTED, signature=body.removesuffix(" FOUND").strip())
    return ScanResult(ScanVerdict.ERROR, detail=f"clamd: {reply}")


def make_scanner(url: str) -> Scanner:
    """``none`` or ``clamd://host:port`` (port 3310 when omitted), optionally with
    ``?max_bytes=N``: the largest file sent to clamd (25 MiB by default; match clamd's
    ``StreamMaxLength``, and make it at least the largest ``max_bytes`` of any document kind, or
    larger documents never get a verdict)."""
    if url.strip().lower() in {"", "none"}:
        return NoScanner()
    parsed = urlparse(url)
    if parsed.scheme == "clamd" and parsed.hostname:
        options = parse_qs(parsed.query)
        max_bytes = options.pop("max_bytes", [""])[-1]
        if options or (max_bytes and not max_bytes.isdigit()):
            raise ValueError(f"unsupported scanner URL options: {parsed.query!r}")
        if max_bytes:
            return ClamdScanner(
                parsed.hostname, parsed.port or 3310, max_stream_bytes=int(max_bytes)
            )
        return ClamdScanner(parsed.hostname, parsed.port or 3310)
    raise ValueError(f"unsupported scanner URL: {url!r} (use 'none' or 'clamd://host:port')")
