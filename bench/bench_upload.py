"""Upload benchmark: a 200 MB PDF through the real document route (``POST /api/v1/applications/
{id}/documents``: token check, the upload policy, the streaming multipart reader, sniffing, the
local blob store with its fsyncs, the strict PDF inspection, the row and its audit event), against
a bare FastAPI endpoint that only hashes the request body as it streams. Both are served by one
uvicorn process on a loopback port (the bare endpoint outside the app's middleware), same run.

Figures: the throughput of each (MB/s) and their ratio (target >= 0.8), the server's peak
resident memory growth during the upload (target < 30 MB), each with its verdict (``ok``), and
the server's CPU time per upload (no target).
Uploads to the two endpoints alternate and the best of ``--repeat`` counts, so other load on the
machine weighs on both alike; each stored document is deleted (through the API, unmeasured)
before the next upload. The blob store's fsync makes the disk part of the measured path:
``--storage-dir`` picks where the database and the blobs go.

    python -m bench.bench_upload [--size-mb 200] [--repeat 5] [--storage-dir DIR]
"""

import argparse
import hashlib
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
BASELINE_PATH = "/__bench/baseline"
RSS_TARGET_MB = 30.0
RATIO_TARGET = 0.8


# -- the server side (runs in the subprocess) --------------------------------------------------


def _with_baseline(app: Any) -> Any:
    """``app``, with the bare hashing endpoint beside it (not behind the app's middleware)."""
    from fastapi import FastAPI, Request

    bare = FastAPI()

    @bare.post(BASELINE_PATH)
    async def baseline(request: Request) -> dict[str, Any]:
        digest, size = hashlib.sha256(), 0
        async for chunk in request.stream():
            digest.update(chunk)
            size += len(chunk)
        return {"size": size, "sha256": digest.hexdigest()}

    async def dispatch(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"] == BASELINE_PATH:
            await bare(scope, receive, send)
        else:
            await app(scope, receive, send)

    return dispatch


def _serve(port: int) -> None:
    import uvicorn

    from api.app import app_from_env

    app = _with_baseline(app_from_env())  # settings from the SHORTLIST_ environment
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


# -- the world the upload goes to ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _World:
    application_id: str
    client_id: str
    client_secret: str


def _seed(database_url: str, max_bytes: int) -> _World:
    """A migrated database with an open round asking for a proposal of up to ``max_bytes``, an
    applicant's draft, and an OAuth client of the applicant's."""
    from datetime import UTC, datetime, timedelta

    from identity.accounts import create_client, create_user
    from infra.db import make_engine, session_scope
    from infra.migrate import upgrade
    from models.applications import ApplicationCreate
    from models.identity import Actor, Role, Scope, User, UserCreate
    from models.organizations import OrganizationCreate
    from models.rounds import ProgramCreate, RoundCreate
    from submissions.applications import create_application
    from submissions.organizations import create_organization
    from submissions.rounds import create_program, create_round, open_round

    def actor(user: User) -> Actor:
        return Actor(
            user_id=user.id, roles=frozenset(user.roles), scopes=frozenset(), client_id="bench"
        )

    upgrade(database_url)
    engine = make_engine(database_url, pool_size=1)
    now = datetime.now(UTC)
    try:
        with session_scope(engine) as session:
            admin, applicant = (
                create_user(
                    session=session,
                    actor=None,
                    data=UserCreate(email=f"{name}@bench.example.org", name=name, roles=[role]),
                    now=now,
                )
                for name, role in (("admin", Role.admin), ("applicant", Role.applicant))
            )
            organization = create_organization(
                session=session,
                actor=actor(applicant),
                data=OrganizationCreate(
                    name="Bench Labs", registration_number="1", country="KR", email_domains=[]
                ),
                now=now,
            )
            program = create_program(
                session=session,
                actor=actor(admin),
                data=ProgramCreate(name="Bench", description=""),
                now=now,
            )
            round_ = create_round(
                session=session,
                actor=actor(admin),
                program_id=program.id,
                data=RoundCreate.model_validate(
                    {
                        "name": "Bench round",
                        "opens_at": now - timedelta(hours=1),
                        "submission_deadline": now + timedelta(days=1),
                        "review_deadline": now + timedelta(days=2),
                        "criteria": [
                            {"key": "impact", "title": "Impact", "weight": 1, "min": 0, "max": 10}
                        ],
                        "required_documents": [
                            {
                                "kind": "proposal",
                                "title": "Proposal",
                                "content_types": ["application/pdf"],
                                "max_bytes": max_bytes,
                            }
                        ],
                    }
                ),
                now=now,
            )
            open_round(session=session, actor=actor(admin), round_id=round_.id, now=now)
            application = create_application(
                session=session,
                actor=actor(applicant),
                round_id=round_.id,
                data=ApplicationCreate(
                    title="Bench bid",
                    summary="",
                    lead_organization_id=organization.id,
                    members=[],
                    keywords=[],
                ),
                now=now,
            )
            issued = create_client(
                session=session,
                actor=None,
                name="bench",
                scopes=[Scope.applications_read.value, Scope.applications_write.value],
                now=now,
                user_id=applicant.id,
            )
            world = _World(str(application.id), issued.client.client_id, issued.secret)
    finally:
        engine.dispose()
    return world


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
    def __init__(self, work: Path, database_url: str, extra_env: dict[str, str]) -> None:
        self.port = _free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        env = {
            **os.environ,
            "PYTHONUNBUFFERED": "1",
            "SHORTLIST_ENVIRONMENT": "test",
            "SHORTLIST_DATABASE_URL": database_url,
            "SHORTLIST_STORAGE_URL": f"file://{work / 'blobs'}",
            "SHORTLIST_PUBLIC_URL": self.base_url,
            "SHORTLIST_LOG_LEVEL": "WARNING",
            "SHORTLIST_DOCUMENT_QUOTA_BYTES": str(10 * 1024**3),
            **extra_env,
        }
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bench.bench_upload", "--serve", str(self.port)],
            env=env,
            cwd=Path(__file__).resolve().parent.parent,
        )
        deadline = time.monotonic() + 60
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


def _upload(
    client: httpx.Client,
    url: str,
    body: _Body,
    block: bytes,
    pid: int,
    headers: dict[str, str] | None = None,
) -> tuple[_Measure, dict[str, Any]]:
    _reset_peak_rss(pid)
    before = _rss_kib(pid, "VmRSS")
    cpu_before = _cpu_seconds(pid)
    started = time.perf_counter()
    response = client.post(
        url,
        content=body.chunks(block),
        headers={
            **(headers or {}),
            "Content-Type": body.content_type,
            "Content-Length": str(body.length),
        },
    )
    seconds = time.perf_counter() - started
    if response.status_code not in (200, 201):
        raise RuntimeError(f"{url} answered {response.status_code}: {response.text[:500]}")
    peak = _rss_kib(pid, "VmHWM")
    measure = _Measure(
        seconds=seconds,
        rss_growth_mb=(peak - before) * 1024 / MB,
        cpu_seconds=_cpu_seconds(pid) - cpu_before,
    )
    answer: dict[str, Any] = response.json()
    return measure, answer


def _token(client: httpx.Client, world: _World) -> dict[str, str]:
    response = client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(world.client_id, world.client_secret),
    )
    response.raise_for_status()
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def _measure(
    body: _Body,
    block: bytes,
    repeat: int,
    storage_dir: str | None,
    extra_env: dict[str, str] | None = None,
) -> tuple[_Measure, _Measure]:
    """Best time and worst memory growth of ``repeat`` uploads to the baseline and to the
    document route, alternating on one server, so that whatever else the machine does weighs on
    both alike."""
    with tempfile.TemporaryDirectory(prefix="shortlist-bench-", dir=storage_dir) as tmp:
        work = Path(tmp)
        database_url = f"sqlite:///{work / 'bench.db'}"
        world = _seed(database_url, max_bytes=body.length)
        server = _Server(work, database_url, extra_env or {})
        pid = server.process.pid
        path = f"/api/v1/applications/{world.application_id}/documents"
        try:
            with httpx.Client(base_url=server.base_url, timeout=300) as client:
                auth = _token(client, world)

                def document(upload: _Body) -> _Measure:
                    measure, answer = _upload(client, path, upload, block, pid, auth)
                    # Unmeasured: keep the disk (and the application's quota) clean.
                    client.delete(f"/api/v1/documents/{answer['id']}", headers=auth)
                    return measure

                # Warm up: imports, first-request paths, libmagic's database, the thread pools.
                small = _multipart_body(2 * BLOCK)
                _upload(client, BASELINE_PATH, small, block, pid)
                document(small)
                baseline: list[_Measure] = []
                target: list[_Measure] = []
                for _ in range(repeat):
                    baseline.append(_upload(client, BASELINE_PATH, body, block, pid)[0])
                    target.append(document(body))
        finally:
            server.stop()
    return _best(baseline), _best(target)


def _best(runs: list[_Measure]) -> _Measure:
    return _Measure(
        seconds=min(r.seconds for r in runs),
        rss_growth_mb=max(r.rss_growth_mb for r in runs),
        cpu_seconds=min(r.cpu_seconds for r in runs),
    )


def _throughput(name: str, size: int, baseline: _Measure, target: _Measure) -> dict[str, Any]:
    rate, baseline_rate = size / MB / target.seconds, size / MB / baseline.seconds
    return {
        "name": name,
        "value": rate,
        "unit": "MB/s",
        "baseline": baseline_rate,
        "ratio": rate / baseline_rate,
    }


def run(
    *, size_mb: int = 200, repeat: int = 5, storage_dir: str | None = None
) -> list[dict[str, Any]]:
    size = size_mb * MB
    block = os.urandom(BLOCK)
    body = _multipart_body(size)
    baseline, target = _measure(body, block, repeat, storage_dir)
    throughput = _throughput(f"upload {size_mb} MB: throughput", size, baseline, target)
    figures = [
        {
            **throughput,
            "target": f"ratio >= {RATIO_TARGET}",
            "ok": throughput["ratio"] >= RATIO_TARGET,
        },
        {
            "name": f"upload {size_mb} MB: server peak RSS growth",
            "value": target.rss_growth_mb,
            "unit": "MB",
            "baseline": baseline.rss_growth_mb,
            "ratio": target.rss_growth_mb / RSS_TARGET_MB,
            "target": f"< {RSS_TARGET_MB} MB (ratio: share of the target)",
            "ok": target.rss_growth_mb < RSS_TARGET_MB,
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
    # Informative: the same through the page cache, as on a file system without O_DIRECT
    # (tmpfs, some container overlays), against its own baseline measured beside it.
    cached_baseline, cached = _measure(
        body, block, repeat, storage_dir, {"SHORTLIST_STORAGE_DIRECT_IO": "false"}
    )
    figures.append(
        {
            **_throughput(
                f"upload {size_mb} MB through the page cache (STORAGE_DIRECT_IO=false)",
                size,
                cached_baseline,
                cached,
            ),
            "target": "(informative, no target)",
        }
    )
    for figure in figures:
        print(
            f"{figure['name']:<44} {figure['value']:10.2f} {figure['unit']:<5} "
            f"baseline {figure['baseline']:10.2f}  ratio {figure['ratio']:.3f}"
            + ("" if figure.get("ok") is None else "  meets" if figure["ok"] else "  MISSES"),
            flush=True,
        )
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--serve", metavar="PORT", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--size-mb", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--storage-dir", help="where the database and blobs go (default: TMPDIR)")
    args = parser.parse_args(argv)
    if args.serve:
        _serve(args.serve)
        return 0
    run(size_mb=args.size_mb, repeat=args.repeat, storage_dir=args.storage_dir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
