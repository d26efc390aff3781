"""The clamd scanner against a real clamd on loopback, loaded with one test signature: the EICAR
anti-virus test string (no signature download is possible here, and none is needed)."""

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from infra.scanner import ClamdScanner, make_scanner, parse_reply
from infra.storage.local import LocalBlobStore
from submissions.scanning import NoScanner, ScanVerdict, scan_blob
from tests.integration.conftest import EICAR, SIGNATURE, free_port


async def stream(*pieces: bytes, chunk: int = 1000) -> AsyncIterator[bytes]:
    data = b"".join(pieces)
    for start in range(0, len(data), chunk):
        yield data[start : start + chunk]


@pytest.mark.integration
@pytest.mark.anyio
async def test_clamd_answers_ping(clamd_address: tuple[str, int]) -> None:
    await ClamdScanner(*clamd_address).ping()


@pytest.mark.integration
@pytest.mark.anyio
async def test_a_clean_file_is_clean(clamd_address: tuple[str, int]) -> None:
    result = await ClamdScanner(*clamd_address).scan(stream(b"%PDF-1.7\n" + b"budget " * 50_000))
    assert result.verdict is ScanVerdict.CLEAN
    assert result.signature is None


@pytest.mark.integration
@pytest.mark.anyio
@pytest.mark.parametrize("chunk", [7, 1000, 70_000])
async def test_the_eicar_string_is_infected_across_chunk_boundaries(
    clamd_address: tuple[str, int], chunk: int
) -> None:
    scanner = ClamdScanner(*clamd_address, chunk_size=4096)
    result = await scanner.scan(stream(b"x" * 5000, EICAR, b"y" * 5000, chunk=chunk))
    assert result.verdict is ScanVerdict.INFECTED
    assert result.signature is not None
    assert result.signature.startswith(SIGNATURE)


@pytest.mark.integration
@pytest.mark.anyio
async def test_a_stored_blob_is_scanned_from_the_store(
    clamd_address: tuple[str, int], tmp_path: Path
) -> None:
    store = LocalBlobStore(tmp_path / "blobs")
    infected = await store.write(stream(EICAR), max_bytes=1000)
    clean = await store.write(stream(b"hello"), max_bytes=1000)
    scanner = ClamdScanner(*clamd_address)
    assert (await scan_blob(scanner=scanner, store=store, key=infected.key)).verdict is (
        ScanVerdict.INFECTED
    )
    assert (await scan_blob(scanner=scanner, store=store, key=clean.key)).verdict is (
        ScanVerdict.CLEAN
    )


@pytest.mark.integration
@pytest.mark.anyio
async def test_a_file_over_our_limit_is_not_sent_and_is_an_error(
    clamd_address: tuple[str, int],
) -> None:
    scanner = ClamdScanner(*clamd_address, max_stream_bytes=10_000)
    result = await scanner.scan(stream(b"z" * 10_001))
    assert result.verdict is ScanVerdict.ERROR
    assert result.detail is not None
    assert "larger than" in result.detail


@pytest.mark.integration
@pytest.mark.anyio
async def test_a_file_over_clamds_own_limit_is_an_error(clamd_address: tuple[str, int]) -> None:
    # clamd here accepts 4 MiB a stream; it answers early and hangs up on the rest.
    scanner = ClamdScanner(*clamd_address, max_stream_bytes=64 * 1024 * 1024)
    result = await scanner.scan(stream(b"z" * (6 * 1024 * 1024), chunk=256 * 1024))
    # Never clean. The reason text races clamd: it usually says "size limit exceeded" before
    # hanging up, but sometimes the reset arrives first and only the broken connection is seen.
    assert result.verdict is ScanVerdict.ERROR
    assert result.detail


@pytest.mark.anyio
async def test_an_unreachable_scanner_is_an_error_not_an_exception() -> None:
    scanner = ClamdScanner("127.0.0.1", free_port(), connect_timeout=2)
    result = await scanner.scan(stream(b"anything"))
    assert result.verdict is ScanVerdict.ERROR
    with pytest.raises(OSError):
        await scanner.ping()


@pytest.mark.anyio
async def test_no_scanner_means_clean_at_once() -> None:
    scanner = make_scanner("none")
    assert isinstance(scanner, NoScanner)
    assert scanner.deferred is False
    assert (await scanner.scan(stream(EICAR))).verdict is ScanVerdict.CLEAN


def test_make_scanner_reads_a_clamd_address() -> None:
    scanner = make_scanner("clamd://127.0.0.1:3399")
    assert isinstance(scanner, ClamdScanner)
    assert (scanner.host, scanner.port, scanner.deferred) == ("127.0.0.1", 3399, True)
    default_port = make_scanner("clamd://scanner.internal")
    assert isinstance(default_port, ClamdScanner)
    assert default_port.port == 3310
    with pytest.raises(ValueError, match="unsupported scanner URL"):
        make_scanner("icap://scanner:1344")
    sized = make_scanner("clamd://127.0.0.1:3399?max_bytes=104857600")
    assert isinstance(sized, ClamdScanner)
    assert sized.max_stream_bytes == 100 * 1024 * 1024
    with pytest.raises(ValueError, match="unsupported scanner URL options"):
        make_scanner("clamd://127.0.0.1?max_bytes=lots")


@pytest.mark.parametrize(
    ("reply", "verdict", "signature"),
    [
        ("stream: OK", ScanVerdict.CLEAN, None),
        ("stream: Win.Test.EICAR_HDB-1 FOUND", ScanVerdict.INFECTED, "Win.Test.EICAR_HDB-1"),
        ("INSTREAM size limit exceeded. ERROR", ScanVerdict.ERROR, None),
        ("", ScanVerdict.ERROR, None),
    ],
)
def test_parse_reply(reply: str, verdict: ScanVerdict, signature: str | None) -> None:
    result = parse_reply(reply)
    assert (result.verdict, result.signature) == (verdict, signature)
