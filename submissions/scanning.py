"""Virus scanning as the domain sees it: a ``Scanner`` gives a verdict on a stream; ``none``
(``NoScanner``) finds every document clean at once. The clamd daemon's client is an adapter
(``infra.scanner``), chosen by ``SHORTLIST_SCANNER_URL``.

With a real scanner documents are ``deferred``: they start ``pending_scan`` and a background job
scans them (``scan_blob``); an ``infected`` one is never served.
"""

from collections.abc import AsyncIterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from submissions.blobs import BlobStore


class ScanVerdict(StrEnum):
    CLEAN = "clean"
    INFECTED = "infected"
    ERROR = "error"  # not scanned: try again later, and meanwhile serve nothing


@dataclass(frozen=True, slots=True)
class ScanResult:
    verdict: ScanVerdict
    signature: str | None = None  # what was found, when infected
    detail: str | None = None  # why it was not scanned, on error


CLEAN = ScanResult(ScanVerdict.CLEAN)


class Scanner(Protocol):
    @property
    def deferred(self) -> bool:
        """True when uploads must wait for a scan (``pending_scan``) before they count."""
        ...

    async def scan(self, chunks: AsyncIterable[bytes]) -> ScanResult:
        """Scan a stream; never raises for the scanner's own failures (``ERROR`` instead)."""
        ...

    async def ping(self) -> None:
        """Raise when the scanner is unreachable."""
        ...


class NoScanner:
    """No scanning configured: documents are clean as soon as they are stored."""

    @property
    def deferred(self) -> bool:
        return False

    async def scan(self, chunks: AsyncIterable[bytes]) -> ScanResult:  # noqa: ARG002
        return CLEAN

    async def ping(self) -> None:
        return None


async def scan_blob(*, scanner: Scanner, store: BlobStore, key: str) -> ScanResult:
    """Scan a stored blob, streamed from the store (what the background scan job runs)."""
    return await scanner.scan(await store.read(key))
