"""Webhook fan-out (issue 18): 10,000 events to 3 endpoints (30,000 deliveries) by a real
``shortlist worker`` process on PostgreSQL, to three real HTTP receivers on loopback (another
process, HTTP/1.1 keep-alive), with the worker SIGKILLed half-way and started again.

Figures: the worker's throughput (deliveries per second, from the pass's deferral until the
kill, fan-out included) against a baseline measured in the same run: the bare POST rate of the
same receivers from the same kind of client (httpx, as many requests at once as the worker's
``SHORTLIST_WEBHOOK_CONCURRENCY``, bodies of the same size, nothing else); and the kill check:
deliveries lost (target 0: every (endpoint, event) arrives, each signature verified with
``standardwebhooks``; a repeat, at least once, must carry the same ``webhook-id`` and body).

    python -m bench.bench_webhooks [--events 10000]
"""

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from bench.support import (
    ROOT,
    actor_of,
    defer_webhook_pass,
    load_average,
    make_open_round,
    make_user,
    postgres_available,
    print_figure,
    start_worker,
    temporary_database,
)

EVENTS = 10_000
RECEIVERS = 3
CONCURRENCY = 8
"""The worker's ``SHORTLIST_WEBHOOK_CONCURRENCY`` (its default), and the baseline's."""
BARE_POSTS = 3_000
STALLED_SECONDS = 3
GIVE_UP_SECONDS = 1800.0


# --- the receivers (a process of their own: ``--receive DIR``) ---------------------------------


def receive(directory: Path) -> None:
    """Three HTTP servers; each POST is appended (its headers and body, one JSON line) to
    ``DIR/receiver-N.jsonl``; the URLs go to ``DIR/urls.json``. Runs until killed."""
    servers = []
    for n in range(RECEIVERS):
        out = (directory / f"receiver-{n}.jsonl").open("a", buffering=1)
        lock = threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            sink, guard = out, lock

            def do_POST(self) -> None:
                length = int(self.headers["content-length"])
                body = self.rfile.read(length)
                if len(body) < length:  # the sender died mid-request: nothing was received
                    self.close_connection = True
                    return
                line = json.dumps(
                    {
                        "id": self.headers.get("webhook-id", ""),
                        "timestamp": self.headers.get("webhook-timestamp", ""),
                        "signature": self.headers.get("webhook-signature", ""),
                        "body": body.decode(),
                    }
                )
                with self.guard:
                    self.sink.write(line + "\n")
                self.send_response(200)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *_args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(f"http://127.0.0.1:{server.server_address[1]}/hook")
    (directory / "urls.tmp").write_text(json.dumps(servers))
    (directory / "urls.tmp").rename(directory / "urls.json")
    threading.Event().wait()


def _received(directory: Path) -> list[list[dict[str, str]]]:
    out = []
    for n in range(RECEIVERS):
        path = directory / f"receiver-{n}.jsonl"
        lines = path.read_text().splitlines() if path.exists() else []
        out.append([json.loads(line) for line in lines if line.endswith("}")])
    return out


def _count(directory: Path, prefix: str = "") -> int:
    total = 0
    for n in range(RECEIVERS):
        path = directory / f"receiver-{n}.jsonl"
        if path.exists():
            with path.open("rb") as f:
                if prefix:
                    total += sum(1 for line in f if line.startswith(b'{"id": "' + prefix.encode()))
                else:
                    total += sum(1 for _ in f)
    return total


# --- seed, baseline, worker --------------------------------------------------------------------


def seed(database_url: str, urls: list[str], events: int) -> tuple[list[str], set[str]]:
    """An admin, an open round, one endpoint per receiver, then ``events`` events: the
    endpoints' secrets and the events' ids."""
    from infra.db import make_engine, session_scope
    from models.events import EventAudience, EventType
    from models.webhooks import WebhookCreate
    from notifications.webhooks import UrlPolicy, create_webhook
    from submissions.outbox import record

    now = datetime.now(UTC)
    policy = UrlPolicy(
        resolve=lambda _h: ["127.0.0.1"], allow_private=True, allow_http_loopback=True
    )
    engine = make_engine(database_url, pool_size=1)
    try:
        with session_scope(engine) as session:
            admin = make_user(session, role="admin", now=now)
            round_ = make_open_round(session, admin, now=now)
            secrets = [
                create_webhook(
                    session=session,
                    actor=actor_of(admin),
                    data=WebhookCreate(url=url, event_types=[EventType.round_opened]),
                    policy=policy,
                    now=now,
                ).secret
                for url in urls
            ]
        ids: set[str] = set()
        for start in range(0, events, 1000):
            with session_scope(engine) as session:
                for _ in range(min(1000, events - start)):
                    event = record(
                        session=session,
                        type=EventType.round_opened,
                        round_id=round_.id,
                        audience=EventAudience.round,
                        now=now,
                        data={"round_id": str(round_.id)},
                    )
                    ids.add(str(event.id))
    finally:
        engine.dispose()
    return secrets, ids


async def bare_posts(urls: list[str], count: int, size: int) -> float:
    """Posts per second of ``count`` bare POSTs, ``CONCURRENCY`` at once, round robin."""
    import httpx

    body = b"{" + b" " * (size - 2) + b"}"
    queue: asyncio.Queue[int] = asyncio.Queue()
    for n in range(count):
        queue.put_nowait(n)

    async def one(client: httpx.AsyncClient) -> None:
        while not queue.empty():
            n = queue.get_nowait()
            response = await client.post(
                urls[n % len(urls)],
                content=body,
                headers={"webhook-id": f"bare-{n}", "content-type": "application/json"},
            )
            response.raise_for_status()

    async with httpx.AsyncClient(timeout=10) as client:
        started = time.perf_counter()
        await asyncio.gather(*(one(client) for _ in range(CONCURRENCY)))
        return count / (time.perf_counter() - started)


def _stop(process: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> None:
    if process.poll() is None:
        os.killpg(process.pid, sig)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _until(check: Any, what: str) -> None:
    deadline = time.monotonic() + GIVE_UP_SECONDS
    while not check():
        if time.monotonic() > deadline:
            raise RuntimeError(what)
        time.sleep(0.2)


def verify(directory: Path, secrets: list[str], ids: set[str]) -> dict[str, int]:
    """Every event at every receiver, each signature valid, repeats identical.

    A signature is checked by ``standardwebhooks`` signing the message again with its id and
    timestamp: ``Webhook.verify`` would also refuse a timestamp more than five minutes old (the
    receiver's replay window), which the first deliveries of a long run are by the time it ends.
    """
    from standardwebhooks import Webhook

    lost = repeats = bad = 0
    for received, secret in zip(_received(directory), secrets, strict=True):
        signer = Webhook(secret)
        bodies: dict[str, str] = {}
        for item in received:
            if item["id"].startswith("bare-"):
                continue
            at = datetime.fromtimestamp(int(item["timestamp"]), UTC)
            expected = signer.sign(msg_id=item["id"], timestamp=at, data=item["body"])
            if expected not in item["signature"].split(" "):
                bad += 1
            first = bodies.setdefault(item["id"], item["body"])
            if first != item["body"]:
                bad += 1
            elif first is not item["body"]:
                repeats += 1
        lost += len(ids - set(bodies))
    return {"lost": lost, "repeats": repeats, "bad": bad}


def run(*, events: int = EVENTS) -> list[dict[str, Any]]:
    if not postgres_available():
        print("  PostgreSQL is not reachable (SHORTLIST_BENCH_PG_URL): skipped")
        return []
    with (
        tempfile.TemporaryDirectory(prefix="shortlist-bench-webhooks-") as scratch,
        temporary_database("postgresql", Path(scratch)) as url,
    ):
        work = Path(scratch)
        receivers = subprocess.Popen(
            [sys.executable, "-m", "bench.bench_webhooks", "--receive", str(work)],
            cwd=ROOT,
            start_new_session=True,
        )
        worker: subprocess.Popen[bytes] | None = None
        try:
            _until(lambda: (work / "urls.json").exists(), "the receivers did not start")
            urls = json.loads((work / "urls.json").read_text())
            secrets, ids = seed(url, urls, events)
            total = len(ids) * RECEIVERS
            env = {
                key: value for key, value in os.environ.items() if not key.startswith("SHORTLIST_")
            }
            env.update(
                {
                    "SHORTLIST_ENVIRONMENT": "production",
                    "SHORTLIST_SECRET_KEY": os.urandom(16).hex(),
                    "SHORTLIST_DATABASE_URL": url,
                    "SHORTLIST_STORAGE_URL": f"file://{work / 'blobs'}",
                    "SHORTLIST_PUBLIC_URL": "http://127.0.0.1:8000",
                    "SHORTLIST_WEBHOOK_ALLOW_PRIVATE": "true",
                    "SHORTLIST_WEBHOOK_CONCURRENCY": str(CONCURRENCY),
                    "SHORTLIST_WEBHOOK_STALLED_SECONDS": str(STALLED_SECONDS),
                    "SHORTLIST_LOG_LEVEL": "INFO",
                }
            )
            log = work / "worker.log"
            worker = start_worker(env, log)
            # Timed from the pass's deferral, once the worker runs (its imports take a while).
            _until(lambda: "worker.started" in log.read_text(), "the worker did not start")
            started = time.perf_counter()
            defer_webhook_pass(url)
            _until(
                lambda: _count(work) >= total // 2,
                f"the worker stalled: {log.read_text()[-2000:]}",
            )
            killed_at = time.perf_counter()
            delivered_before_kill = _count(work)
            _stop(worker, signal.SIGKILL)
            worker = start_worker(env, log)
            defer_webhook_pass(url)
            _until(
                lambda: verify(work, secrets, ids)["lost"] == 0 if _count(work) >= total else False,
                f"deliveries were lost: {log.read_text()[-2000:]}",
            )
            finished = time.perf_counter()
            checked = verify(work, secrets, ids)
            _stop(worker)
            size = round(
                sum(len(item["body"]) for item in _received(work)[0][:1000]) / min(1000, len(ids))
            )
            # The baseline, the worker stopped: the same receivers, bodies of the same size.
            bare = asyncio.run(bare_posts(urls, BARE_POSTS, size))
            load = load_average()
        finally:
            if worker is not None:
                _stop(worker)
            _stop(receivers, signal.SIGKILL)
    rate = delivered_before_kill / (killed_at - started)
    details = {
        "events": len(ids),
        "endpoints": RECEIVERS,
        "deliveries": total,
        "delivered_before_kill": delivered_before_kill,
        "seconds_to_kill": round(killed_at - started, 1),
        "seconds_total_with_restart": round(finished - started, 1),
        "stalled_seconds": STALLED_SECONDS,
        "body_bytes": size,
        "concurrency": CONCURRENCY,
        "load_average": load,
        **checked,
    }
    label = f"webhook fan-out {len(ids)} events x {RECEIVERS} endpoints (PostgreSQL worker)"
    return [
        {
            "name": f"{label}: deliveries/s",
            "value": rate,
            "unit": "req/s",
            "baseline": bare,
            "ratio": rate / bare,
            "target": "(bare POSTs to the same receivers)",
            "details": details,
        },
        {
            "name": f"{label}: lost after a SIGKILL",
            "value": checked["lost"] + checked["bad"],
            "unit": "",
            "baseline": 0,
            "ratio": float("nan"),
            "target": "0 lost, all signed",
            "ok": checked["lost"] == 0 and checked["bad"] == 0,
            "details": details,
        },
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--events", type=int, default=EVENTS)
    parser.add_argument("--receive", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.receive is not None:
        receive(args.receive)
        return 0
    for figure in run(events=args.events):
        print_figure(figure)
        print(f"    {figure['details']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
