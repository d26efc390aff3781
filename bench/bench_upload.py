"""Upload benchmark: a 200 MB PDF streamed through the multipart reader, the content checks and
the local blob store (fsync'd), against a bare FastAPI endpoint that only hashes the request
body as it streams, both served by uvicorn in a subprocess on a loopback port, same run.

Figures: the throughput of each (MB/s) and their ratio (target >= 0.8), the server's peak
resident memory growth during the upload (target < 30 MB), and the server's CPU time per upload.
Uploads to the two endpoints alternate on one server and the best of ``--repeat`` counts, so
other load on the machine weighs on both alike. The blob store's fsync makes the disk part of
the measured path: ``--storage-dir`` picks where the blobs go. The app and path under test are
parameters, so the benchmark can later aim at the real document route.

    python -m bench.bench_upload [--size-mb 200] [--repeat 5] [--storage-dir DIR]
"""

import argparse
import hashlib
import importlib
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

MB = 1_000_000
BLOCK = 1024 * 1024
DEFAULT_APP = "bench.bench_upload:make_upload_app"
DEFAULT_PATH = "/upload"
BASELINE_PATH = "/__bench/baseline"
RSS_TARGET_MB = 30.0
RATIO_TARGET = 0.8


# -- the server side (runs in the subprocess) --------------------------------------------------


def make_upload_app() -> Any:
    """The pipeline a document upload route runs, minus the database: multipart reader ->
    sniffing -> local blob store (durable) -> PDF inspection."""
    from fastapi import FastAPI, Request

    from api.errors import install_error_handlers
    from api.multipart import MultipartLimits, MultipartReader, read_upload_form
    from api.storage import LocalBlobStore
    from submissions.content import ContentRule, store_checked_upload

    store = LocalBlobStore(Path(os.environ["BENCH_BLOB_DIR"]))
    rule = ContentRule(content_types=frozenset({"application/pdf"}), max_bytes=2**40)
    limits = MultipartLimits()
    app = FastAPI()
    install_error_handlers(app)

    @app.post(DEFAULT_PATH, status_code=201)
    async def upload(request: Request) -> dict[str, Any]:
        reader = MultipartReader.from_request(request, limits=limits)
        form = await read_upload_form(reader, fields={"kind"}, file="file")
        form.check_declared_size(rule.max_bytes)
        checked = await store_checked_upload(
            chunks=form.file_chunks(),
            filename=form.file.filename,
            declared_type=form.file.content_type,
            rule=rule,
            store=store,
        )
        await store.delete(checked.blob.key)  # keep the disk clean between repetitions
        return {"size": checked.blob.size, "sha256": checked.blob.sha256}

    return app


def _add_baseline(app: Any) -> None:
    from fastapi import Request

    async def baseline(request: Request) -> dict[str, Any]:
        digest, size = hashlib.sha256(), 0
        async for chunk in request.stream():
            digest.update(chunk)
            size += len(chunk)
        return {"size": size, "sha256": digest.hexdigest()}

    app.add_api_route(BASELINE_PATH, baseline, methods=["POST"])


def _serve(app_ref: str, port: int) -> None:
    import uvicorn

    module_name, _, factory = app_ref.partition(":")
    app = getattr(importlib.import_module(module_name), factory)()
    _add_baseline(app)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


# -- the client side ---------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _pdf_parts(size: int) -> tuple[bytes, int, bytes]:
    """A valid one-page PDF of ``size`` bytes: a head, a content stream of ``n`` filler bytes
    (sent separately, never held), and a tail with the cross-reference table."""
    objects = [
        b"<</Type/Catalog/Pages 2 0 R>>",
        b"<</Type/Pages/Kids[3 0 R]/Count 1>>",
        b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 612 792]/Contents 4 0 R>>",
    ]
    head = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(head))
        head += b"%d 0 obj\n" % number + body + b"\nendobj\n"

    def tail_for(filler: int) -> tuple[bytes, bytes]:
        stream_head = bytes(head) + b"4 0 obj\n<</Length %d>>\nstream\n" % filler
        xref_at = len(stream_head) + filler + len(b"\nendstream\nendobj\n")
        entries = [*offsets, len(head)]
        xref = b"xref\n0 5\n0000000000 65535 f \n" + b"".join(
            b"%010d 00000 n \n" % offset for offset in entries
        )
        tail = (
            b"\nendstream\nendobj\n"
            + xref
            + b"trailer\n<</Size 5/Root 1 0 R>>\nstartxref\n%d\n%%%%EOF\n" % xref_at
        )
        return stream_head, tail

    stream_head, tail = tail_for(0)
    filler = size - len(stream_head) - len(tail)
    stream_head, tail = tail_for(filler)
    # The digits of the length and offsets may have grown: settle on the exact size.
    filler = size - len(stream_head) - len(tail)
    stream_head, tail = tail_for(filler)
    return stream_head, filler, tail


@dataclass(frozen=True, slots=True)
class _Body:
    content_type: str
    length: int
    parts: list[bytes | int]  # bytes as they are, an int for that many filler bytes

    def chunks(self, block: bytes) -> Iterator[bytes]:
        view = memoryview(block)
        for part in self.parts:
            if isinstance(part, bytes):
                yield part
                continue
            remaining = part
            while remaining:
                size = min(remaining, len(view))
                yield bytes(view[:size]) if size < len(view) else block
                remaining -= size


def _multipart_body(file_size: int) -> _Body:
    boundary = uuid.uuid4().hex
    stream_head, filler, tail = _pdf_parts(file_size)
    preamble = (
        f"--{boundary}\r\n"
        'Content-Disposition: form-data; name="kind"\r\n\r\n'
        "proposal\r\n"
        f"--{boundary}\r\n"
        'Content-Disposition: form-data; name="file"; filename="proposal.pdf"\r\n'
        "Content-Type: application/pdf\r\n\r\n"
    ).encode()
    closing = f"\r\n--{boundary}--\r\n".encode()
    parts: list[bytes | int] = [preamble + stream_head, filler, tail + closing]
    length = sum(p if isinstance(p, int) else len(p) for p in parts)
    return _Body(f"multipart/form-data; boundary={boundary}", length, parts)


def _rss_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"{field} not found for process {pid}")


def _reset_peak_rss(pid: int) -> None:
    # Writing 5 to clear_refs resets the peak resident set size (VmHWM) to the current one.
    Path(f"/proc/{pid}/clear_refs").write_text("5")


@dataclass(frozen=True, slots=True)
class _Measure:
    seconds: float
    rss_growth_mb: float
    cpu_seconds: float  # the server's, user and system


class _Server:
    def __init__(self, app_ref: str, blob_dir: Path) -> None:
        self.port = _free_port()
        env = {**os.environ, "BENCH_BLOB_DIR": str(blob_dir), "PYTHONUNBUFFERED": "1"}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bench.bench_upload", "--serve", app_ref, str(self.port)],
            env=env,
            cwd=Path(__file__).resolve().parent.parent,
        )
        self.base_url = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 30
        while True:
            if self.process.poll() is not None:
                raise RuntimeError("the benchmark server exited at start")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError("the benchmark server did not start") from None
                time.sleep(0.05)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _upload(client: httpx.Client, url: str, body: _Body, block: bytes, pid: int) -> _Measure:
    _reset_peak_rss(pid)
    before = _rss_kib(pid, "VmRSS")
    cpu_before = _cpu_seconds(pid)
    started = time.perf_counter()
    response = client.post(
        url,
        content=body.chunks(block),
        headers={"Content-Type": body.content_type, "Content-Length": str(body.length)},
    )
    seconds = time.perf_counter() - started
    if response.status_code not in (200, 201):
        raise RuntimeError(f"{url} answered {response.status_code}: {response.text[:500]}")
    peak = _rss_kib(pid, "VmHWM")
    return _Measure(
        seconds=seconds,
        rss_growth_mb=(peak - before) * 1024 / MB,
        cpu_seconds=_cpu_seconds(pid) - cpu_before,
    )


def _measure(
    app_ref: str, path: str, body: _Body, block: bytes, repeat: int, storage_dir: str | None
) -> tuple[_Measure, _Measure]:
    """Best time and worst memory growth of ``repeat`` uploads to the baseline and to ``path``,
    alternating on one server, so that whatever else the machine does weighs on both alike."""
    with tempfile.TemporaryDirectory(prefix="shortlist-bench-", dir=storage_dir) as blob_dir:
        server = _Server(app_ref, Path(blob_dir))
        pid = server.process.pid
        try:
            with httpx.Client(base_url=server.base_url, timeout=300) as client:
                # Warm up: imports, first-request paths, libmagic's database, the thread pools.
                small = _multipart_body(2 * BLOCK)
                _upload(client, BASELINE_PATH, small, block, pid)
                _upload(client, path, small, block, pid)
                baseline: list[_Measure] = []
                target: list[_Measure] = []
                for _ in range(repeat):
                    baseline.append(_upload(client, BASELINE_PATH, body, block, pid))
                    target.append(_upload(client, path, body, block, pid))
        finally:
            server.stop()
    return _best(baseline), _best(target)


def _best(runs: list[_Measure]) -> _Measure:
    return _Measure(
        seconds=min(r.seconds for r in runs),
        rss_growth_mb=max(r.rss_growth_mb for r in runs),
        cpu_seconds=min(r.cpu_seconds for r in runs),
    )


def run(
    *,
    app: str = DEFAULT_APP,
    path: str = DEFAULT_PATH,
    size_mb: int = 200,
    repeat: int = 5,
    storage_dir: str | None = None,
) -> list[dict[str, Any]]:
    size = size_mb * MB
    block = os.urandom(BLOCK)
    body = _multipart_body(size)
    baseline, target = _measure(app, path, body, block, repeat, storage_dir)
    baseline_rate = size / MB / baseline.seconds
    target_rate = size / MB / target.seconds
    figures = [
        {
            "name": f"upload {size_mb} MB: throughput",
            "value": target_rate,
            "unit": "MB/s",
            "baseline": baseline_rate,
            "ratio": target_rate / baseline_rate,
            "target": f"ratio >= {RATIO_TARGET}",
        },
        {
            "name": f"upload {size_mb} MB: server peak RSS growth",
            "value": target.rss_growth_mb,
            "unit": "MB",
            "baseline": baseline.rss_growth_mb,
            "ratio": target.rss_growth_mb / RSS_TARGET_MB,
            "target": f"< {RSS_TARGET_MB} MB (ratio: share of the target)",
        },
        {
            # Less disturbed than wall time by whatever else runs on the machine.
            "name": f"upload {size_mb} MB: server CPU time",
            "value": target.cpu_seconds,
            "unit": "s",
            "baseline": baseline.cpu_seconds,
            "ratio": target.cpu_seconds / baseline.cpu_seconds if baseline.cpu_seconds else 0.0,
        },
    ]
    for figure in figures:
        print(
            f"{figure['name']:<44} {figure['value']:10.2f} {figure['unit']:<5} "
            f"baseline {figure['baseline']:10.2f}  ratio {figure['ratio']:.3f}",
            flush=True,
        )
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--serve", nargs=2, metavar=("APP", "PORT"), help=argparse.SUPPRESS)
    parser.add_argument("--app", default=DEFAULT_APP, help="module:factory of the app under test")
    parser.add_argument("--path", default=DEFAULT_PATH, help="the upload route under test")
    parser.add_argument("--size-mb", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--storage-dir", help="where the blob directory is made (default: TMPDIR)")
    args = parser.parse_args(argv)
    if args.serve:
        _serve(args.serve[0], int(args.serve[1]))
        return 0
    run(
        app=args.app,
        path=args.path,
        size_mb=args.size_mb,
        repeat=args.repeat,
        storage_dir=args.storage_dir,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
