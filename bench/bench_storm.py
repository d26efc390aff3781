"""Deadline storm: 200 applicants upload a 5 MB proposal each and submit, all at once, in the
last minute before the deadline, against PostgreSQL and two ``uvicorn`` workers.

Setup (not timed): a round whose one required document is a PDF ``proposal`` (up to 10 MB),
200 applicants each with their own organization, draft application and access token (each its
own OAuth client, as each consortium would have). Just before the storm the round's deadline is
moved to one minute from then, and the applicants arrive evenly spread over its first 30 s
(``--spread``; 0 sends all 200 at once), each ``POST .../documents`` (multipart, streamed, a
distinct valid PDF per applicant), then ``POST .../submit``. The client is Python (``httpx``,
asyncio) on the same machine.

Reported: errors (any answer other than 201 and 200, the scan's status polls' included, or a
failed connection; target 0), submit
latency p50 and p99 (target p99 under 2 s), upload p50 and p99, and the storm's duration. Then
every accepted submission is checked: its application answers with a receipt that names the
proposal with the uploaded file's SHA-256, and the stored blob, downloaded again, has those
bytes (target: every blob intact). Baseline, same run and servers: ``GET /healthz`` (an
unauthenticated constant answer) sent one at a time every 100 ms while the storm lasts, its p50
and p99 beside the submit's: what the loaded servers take to answer anything at all.

    python -m bench.bench_storm [--applicants 200] [--size-mb 5] [--window 60] [--spread 30]
"""

import argparse
import asyncio
import hashlib
import os
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

from bench.support import (
    Server,
    load_average,
    make_application,
    make_open_round,
    make_organization,
    make_user,
    mint_tokens,
    postgres_available,
    print_figure,
    server_env,
    temporary_database,
)

MB = 1_000_000
BLOCK = 1024 * 1024
P99_TARGET_SECONDS = 2.0
MAX_DOCUMENT_BYTES = 10 * MB
WORKERS = 2
SCAN_POLL_SECONDS = 0.25


@dataclass(frozen=True, slots=True)
class Applicant:
    application_id: uuid.UUID
    headers: dict[str, str]


@dataclass(slots=True)
class Outcome:
    upload_seconds: float | None = None
    submit_seconds: float | None = None
    sha256: str = ""
    document_id: str | None = None
    errors: list[str] = field(default_factory=list)
    """What stopped this applicant (it is not counted as accepted)."""
    poll_errors: list[str] = field(default_factory=list)
    """Answers other than 200 to the scan's status polls: errors too, though the applicant went
    on polling (and may have submitted)."""


def errors_of(outcomes: list[Outcome]) -> list[str]:
    """Every error of the storm: what stopped an applicant, and every failed scan poll."""
    return [e for o in outcomes for e in (*o.errors, *o.poll_errors)]


def seed(database_url: str, applicants: int) -> tuple[uuid.UUID, list[Applicant]]:
    """The round (deadline far ahead for now) and its applicants with their tokens."""
    from infra.db import make_engine, session_scope

    now = datetime.now(UTC)
    engine = make_engine(database_url, pool_size=1)
    try:
        with session_scope(engine) as session:
            admin = make_user(session, role="admin", now=now)
            round_ = make_open_round(
                session,
                admin,
                now=now,
                submission_deadline=now + timedelta(hours=1),
                required_documents=[
                    {
                        "kind": "proposal",
                        "title": "Proposal",
                        "content_types": ["application/pdf"],
                        "max_bytes": MAX_DOCUMENT_BYTES,
                    }
                ],
            )
            drafts: list[tuple[uuid.UUID, uuid.UUID]] = []
            for i in range(applicants):
                applicant = make_user(session, role="applicant", now=now)
                lead = make_organization(session, applicant, name=f"Consortium {i:03d}", now=now)
                application = make_application(session, round_, applicant, lead, now=now)
                drafts.append((application.id, applicant.id))
            round_id = round_.id
    finally:
        engine.dispose()
    tokens = mint_tokens(database_url, [user_id for _, user_id in drafts])
    return round_id, [
        Applicant(application_id, {"Authorization": f"Bearer {token}"})
        for (application_id, _), token in zip(drafts, tokens, strict=True)
    ]


def move_deadline(database_url: str, round_id: uuid.UUID, deadline: datetime) -> None:
    from models.rounds import Round

    engine = sa.create_engine(database_url)
    try:
        rounds = Round.__table__  # type: ignore[attr-defined]
        with engine.begin() as connection:
            connection.execute(
                rounds.update()
                .where(rounds.c.id == round_id)
                .values(submission_deadline=deadline, review_deadline=deadline + timedelta(days=7))
            )
    finally:
        engine.dispose()


# --- the proposal: a valid one-page PDF of exactly ``size`` bytes, distinct per applicant -------


def _pdf(size: int, block: bytes) -> tuple[list[bytes | int], str]:
    """The PDF's parts (bytes, or a count of filler bytes cut from ``block``) and its SHA-256."""
    from bench.bench_upload import _pdf_parts

    head, filler, tail = _pdf_parts(size)
    parts: list[bytes | int] = [head, filler, tail]
    digest = hashlib.sha256()
    for chunk in _chunks(parts, block):
        digest.update(chunk)
    return parts, digest.hexdigest()


def _chunks(parts: list[bytes | int], block: bytes) -> Iterator[bytes]:
    for part in parts:
        if isinstance(part, bytes):
            yield part
            continue
        remaining = part
        while remaining:
            size = min(remaining, len(block))
            yield block[:size]
            remaining -= size


def _multipart(parts: list[bytes | int]) -> tuple[str, int, list[bytes | int]]:
    boundary = uuid.uuid4().hex
    preamble = (
        f"--{boundary}\r\n"
        'Content-Disposition: form-data; name="kind"\r\n\r\n'
        "proposal\r\n"
        f"--{boundary}\r\n"
        'Content-Disposition: form-data; name="file"; filename="proposal.pdf"\r\n'
        "Content-Type: application/pdf\r\n\r\n"
    ).encode()
    closing = f"\r\n--{boundary}--\r\n".encode()
    body: list[bytes | int] = [preamble, *parts, closing]
    length = sum(p if isinstance(p, int) else len(p) for p in body)
    return f"multipart/form-data; boundary={boundary}", length, body


async def _stream(body: list[bytes | int], block: bytes) -> AsyncIterator[bytes]:
    for chunk in _chunks(body, block):
        yield chunk


# --- the storm ----------------------------------------------------------------------------------


async def _scanned(
    client: httpx.AsyncClient, applicant: Applicant, document: dict[str, Any], outcome: Outcome
) -> str:
    """With a malware scanner the upload starts ``pending_scan``: wait (up to 5 minutes) for the
    job workers to scan it; its status then. A poll answered other than 200 is recorded in
    ``outcome.poll_errors`` (and polling goes on)."""
    status = str(document["status"])
    deadline = time.monotonic() + 300
    while status == "pending_scan" and time.monotonic() < deadline:
        await asyncio.sleep(SCAN_POLL_SECONDS)
        response = await client.get(
            f"/api/v1/documents/{document['id']}", headers=applicant.headers
        )
        if response.status_code == 200:
            status = str(response.json()["status"])
        else:
            outcome.poll_errors.append(
                f"scan poll of {document['id']} {response.status_code}: {response.text[:200]}"
            )
    return status


async def _applicant(
    client: httpx.AsyncClient,
    applicant: Applicant,
    size: int,
    start: asyncio.Event,
    delay: float,
    *,
    wait_scanned: bool = False,
) -> Outcome:
    outcome = Outcome()
    block = os.urandom(BLOCK)  # makes this applicant's file its own
    parts, outcome.sha256 = _pdf(size, block)
    content_type, length, body = _multipart(parts)
    base = f"/api/v1/applications/{applicant.application_id}"
    await start.wait()
    await asyncio.sleep(delay)
    step = "upload"
    try:
        t0 = time.perf_counter()
        uploaded = await client.post(
            f"{base}/documents",
            content=_stream(body, block),
            headers={
                **applicant.headers,
                "Content-Type": content_type,
                "Content-Length": str(length),
            },
        )
        outcome.upload_seconds = time.perf_counter() - t0
        if uploaded.status_code != 201:
            outcome.errors.append(f"upload {uploaded.status_code}: {uploaded.text[:200]}")
            return outcome
        outcome.document_id = uploaded.json()["id"]
        if wait_scanned:
            step = "scan"
            status = await _scanned(client, applicant, uploaded.json(), outcome)
            if status != "clean":
                outcome.errors.append(f"scan of {outcome.document_id}: {status}")
                return outcome
        step = "submit"
        t1 = time.perf_counter()
        submitted = await client.post(f"{base}/submit", headers=applicant.headers)
        outcome.submit_seconds = time.perf_counter() - t1
        if submitted.status_code != 200:
            outcome.errors.append(f"submit {submitted.status_code}: {submitted.text[:200]}")
    except httpx.HTTPError as exc:
        outcome.errors.append(f"{step} of {applicant.application_id}: {type(exc).__name__}: {exc}")
    return outcome


async def _probe(client: httpx.AsyncClient, stop: asyncio.Event) -> list[float]:
    """``GET /healthz`` one at a time, every 100 ms, while the storm lasts: how long the loaded
    servers take to answer anything at all."""
    samples: list[float] = []
    while not stop.is_set():
        t0 = time.perf_counter()
        try:
            response = await client.get("/healthz")
            response.raise_for_status()
        except httpx.HTTPError:
            pass  # counted at the time it took to fail: a server too loaded to answer
        samples.append(time.perf_counter() - t0)
        await asyncio.sleep(0.1)
    return samples


async def _verify(client: httpx.AsyncClient, applicant: Applicant, outcome: Outcome) -> list[str]:
    """The receipt names the proposal with the uploaded SHA-256, and the blob has those bytes."""
    problems = []
    response = await client.get(
        f"/api/v1/applications/{applicant.application_id}", headers=applicant.headers
    )
    view = response.json()
    receipt = view.get("receipt")
    if response.status_code != 200 or view.get("status") != "submitted" or receipt is None:
        return [f"{applicant.application_id}: no receipt ({response.status_code})"]
    named = {d["id"]: d["sha256"] for d in receipt["documents"] if d["kind"] == "proposal"}
    if named.get(outcome.document_id or "") != outcome.sha256:
        problems.append(f"{applicant.application_id}: the receipt names another file")
    digest = hashlib.sha256()
    async with client.stream(
        "GET", f"/api/v1/documents/{outcome.document_id}/content", headers=applicant.headers
    ) as download:
        if download.status_code != 200:
            return [*problems, f"{outcome.document_id}: download {download.status_code}"]
        async for chunk in download.aiter_bytes():
            digest.update(chunk)
    if digest.hexdigest() != outcome.sha256:
        problems.append(f"{outcome.document_id}: the stored blob differs from the upload")
    return problems


async def storm(
    base_url: str,
    applicants: list[Applicant],
    size: int,
    spread: float,
    *,
    wait_scanned: bool = False,
) -> tuple[list[Outcome], float, list[float], list[str]]:
    """The storm against ``base_url``; ``wait_scanned``: a malware scanner is configured, so
    each applicant waits for its upload's scan before submitting (not counted in either
    latency)."""
    # A kept-alive connection is dropped by the client well before uvicorn closes it (after 5 s
    # idle, counted from when it sent the answer): reused at the same moment, the request met a
    # closing connection ("Server disconnected without sending a response", one in a full
    # storm under make stack).
    limits = httpx.Limits(
        max_connections=len(applicants) + 10, max_keepalive_connections=50, keepalive_expiry=2.0
    )
    timeout = httpx.Timeout(120.0, connect=30.0)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=timeout) as client:
        start = asyncio.Event()
        # Arrivals evenly spread over the first ``spread`` seconds (0: all at once).
        delays = [spread * i / len(applicants) for i in range(len(applicants))]
        tasks = [
            asyncio.create_task(
                _applicant(client, a, size, start, delay, wait_scanned=wait_scanned)
            )
            for a, delay in zip(applicants, delays, strict=True)
        ]
        await asyncio.sleep(0.5)  # every applicant has made its file and waits
        stop = asyncio.Event()
        t0 = time.perf_counter()
        start.set()
        probe = asyncio.create_task(_probe(client, stop))
        outcomes = await asyncio.gather(*tasks)
        duration = time.perf_counter() - t0
        stop.set()
        baseline = await probe
        accepted = [(a, o) for a, o in zip(applicants, outcomes, strict=True) if not o.errors]
        semaphore = asyncio.Semaphore(8)

        async def check(applicant: Applicant, outcome: Outcome) -> list[str]:
            async with semaphore:
                try:
                    return await _verify(client, applicant, outcome)
                except httpx.HTTPError as exc:
                    return [f"{applicant.application_id}: {type(exc).__name__}: {exc}"]

        checked = await asyncio.gather(*(check(*pair) for pair in accepted))
        problems = [problem for found in checked for problem in found]
    return list(outcomes), duration, baseline, problems


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


def run(
    *, applicants: int = 200, size_mb: int = 5, window: int = 60, spread: float = 30.0
) -> list[dict[str, Any]]:
    if not postgres_available():
        print("  PostgreSQL is not reachable (SHORTLIST_BENCH_PG_URL): skipped")
        return []
    size = size_mb * MB
    with (
        tempfile.TemporaryDirectory(prefix="shortlist-bench-storm-") as scratch,
        temporary_database("postgresql", Path(scratch)) as url,
    ):
        started = time.monotonic()
        round_id, people = seed(url, applicants)
        seeded_in = time.monotonic() - started
        env = server_env(url, Path(scratch) / "blobs")
        with Server("api.app:app_from_env", workers=WORKERS, env=env) as server:
            server.wait_ready("/healthz")
            move_deadline(url, round_id, datetime.now(UTC) + timedelta(seconds=window))
            outcomes, duration, baseline, problems = asyncio.run(
                storm(server.base_url, people, size, spread)
            )
            loads = load_average()
    errors = errors_of(outcomes)
    submits = [o.submit_seconds for o in outcomes if o.submit_seconds is not None]
    uploads = [o.upload_seconds for o in outcomes if o.upload_seconds is not None]
    accepted = sum(1 for o in outcomes if not o.errors)
    p50, p99 = _percentile(submits, 0.50), _percentile(submits, 0.99)
    probe_p50, probe_p99 = _percentile(baseline, 0.50), _percentile(baseline, 0.99)
    details = {
        "applicants": applicants,
        "accepted": accepted,
        "errors": errors[:10],
        "storm_seconds": round(duration, 2),
        "deadline_window_seconds": window,
        "arrivals_spread_seconds": spread,
        "upload_p50_s": round(_percentile(uploads, 0.50), 3),
        "upload_p99_s": round(_percentile(uploads, 0.99), 3),
        "uploaded_mb": round(len(uploads) * size / MB),
        "integrity_problems": problems[:10],
        "seed_seconds": round(seeded_in, 1),
        "workers": WORKERS,
        "load_average": loads,
    }
    label = f"storm {applicants}x{size_mb} MB in {spread:.0f} s, postgresql {WORKERS}w"
    figures = [
        {
            "name": f"{label}: errors",
            "value": float(len(errors)),
            "unit": "count",
            "baseline": 0.0,
            "ratio": 0.0,
            "target": "0",
            "ok": not errors,
            "details": details,
        },
        {
            "name": f"{label}: submit p50",
            "value": p50,
            "unit": "s",
            "baseline": probe_p50,
            "ratio": p50 / probe_p50,
            "details": {
                "baseline": "GET /healthz p50 and p99, one at a time during the storm",
                "probes": len(baseline),
            },
        },
        {
            "name": f"{label}: submit p99",
            "value": p99,
            "unit": "s",
            "baseline": probe_p99,
            "ratio": p99 / probe_p99,
            "target": f"< {P99_TARGET_SECONDS:.0f} s",
            "ok": p99 < P99_TARGET_SECONDS,
        },
        {
            "name": f"{label}: blobs intact",
            "value": float(accepted - len({p.split(":")[0] for p in problems})),
            "unit": "count",
            "baseline": float(accepted),
            "ratio": (accepted - len({p.split(":")[0] for p in problems})) / accepted
            if accepted
            else 0.0,
            "target": "every accepted submission has a receipt and an intact blob",
            "ok": accepted == applicants and not problems,
        },
    ]
    for figure in figures:
        print_figure(figure)
    print(
        f"  storm {duration:.1f} s for {applicants} uploads and submissions; "
        f"upload p50 {details['upload_p50_s']} s, p99 {details['upload_p99_s']} s",
        flush=True,
    )
    for line in errors[:5] + problems[:5]:
        print(f"  ! {line}")
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--applicants", type=int, default=200)
    parser.add_argument("--size-mb", type=int, default=5)
    parser.add_argument("--window", type=int, default=60, help="seconds before the deadline")
    parser.add_argument(
        "--spread", type=float, default=30.0, help="arrivals spread over seconds (0: at once)"
    )
    args = parser.parse_args(argv)
    run(applicants=args.applicants, size_mb=args.size_mb, window=args.window, spread=args.spread)
    return 0


if __name__ == "__main__":
    sys.exit(main())
