"""Revocation across processes (issue 18): how long after a token's revocation through process A
commits does process B, which has just accepted (and with its actor cache on, remembers) that
token, refuse it? PostgreSQL only: each process hears the other's changes by ``NOTIFY``.

Three real ``uvicorn`` processes (one worker each) on one PostgreSQL database: A, which issues
and revokes the tokens (``/oauth/token``, ``/oauth/revoke``); B with the default settings (the
actor cache on, listening); and B0 with the cache off (``SHORTLIST_ACTOR_CACHE_SECONDS=0``), the
baseline: it reads every token's revocation, so it refuses at once by construction, and its
figure is the latency of one refused request. Each try: a token issued by A, accepted by B (or
B0), revoked through A; from A's answer (its commit is done) the client asks B until B refuses;
the propagation is the time to that refusal (an upper bound: it includes the refusing request).
B and B0 alternate try by try, ``--tries`` each. Target: p99 under 100 ms.

    python -m bench.bench_revocation [--tries 200]
"""

import argparse
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from bench.support import (
    Server,
    load_average,
    make_user,
    postgres_available,
    print_figure,
    server_env,
    temporary_database,
)

TRIES = 200
TARGET_MS = 100.0
GIVE_UP_SECONDS = 10.0


def seed(database_url: str) -> tuple[str, str]:
    """An applicant and a confidential client of theirs: its id and secret."""
    from identity.accounts import create_client
    from infra.db import make_engine, session_scope

    now = datetime.now(UTC)
    engine = make_engine(database_url, pool_size=1)
    try:
        with session_scope(engine) as session:
            user = make_user(session, role="applicant", now=now)
            issued = create_client(
                session=session,
                actor=None,
                name="bench revocation",
                scopes=["applications:read"],
                now=now,
                user_id=user.id,
            )
            return issued.client.client_id, issued.secret
    finally:
        engine.dispose()


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def one_try(http: httpx.Client, a: str, b: str, auth: tuple[str, str]) -> tuple[float, int]:
    """Milliseconds from A's answer to B's first refusal, and how many requests B accepted in
    between."""
    issued = http.post(f"{a}/oauth/token", data={"grant_type": "client_credentials"}, auth=auth)
    issued.raise_for_status()
    access = issued.json()["access_token"]
    headers = {"Authorization": f"Bearer {access}"}
    if http.get(f"{b}/api/v1/me", headers=headers).status_code != 200:
        raise RuntimeError("B refused a fresh token")
    http.post(f"{a}/oauth/revoke", data={"token": access}, auth=auth).raise_for_status()
    committed = time.perf_counter()
    accepted = 0
    while True:
        answer = http.get(f"{b}/api/v1/me", headers=headers)
        if answer.status_code == 401:
            return (time.perf_counter() - committed) * 1000, accepted
        if answer.status_code != 200:
            raise RuntimeError(f"B answered {answer.status_code}: {answer.text[:200]}")
        accepted += 1
        if time.perf_counter() - committed > GIVE_UP_SECONDS:
            raise RuntimeError(f"B still accepts a token revoked {GIVE_UP_SECONDS} s ago")


def run(*, tries: int = TRIES) -> list[dict[str, Any]]:
    if not postgres_available():
        print("  PostgreSQL is not reachable (SHORTLIST_BENCH_PG_URL): skipped")
        return []
    with (
        tempfile.TemporaryDirectory(prefix="shortlist-bench-revocation-") as scratch,
        temporary_database("postgresql", Path(scratch)) as url,
    ):
        client_id, secret = seed(url)
        env = server_env(url, Path(scratch) / "blobs", SHORTLIST_RATE_LIMIT_TOKEN_PER_MINUTE="0")
        off = {**env, "SHORTLIST_ACTOR_CACHE_SECONDS": "0"}
        with (
            Server("api.app:app_from_env", workers=1, env=env) as a,
            Server("api.app:app_from_env", workers=1, env=env) as b,
            Server("api.app:app_from_env", workers=1, env=off) as b0,
            httpx.Client(timeout=10) as http,
        ):
            for server in (a, b, b0):
                server.wait_ready("/healthz")
            auth = (client_id, secret)
            for server in (b, b0):  # warm up: keys loaded, pools open, listener connected
                for _ in range(5):
                    one_try(http, a.base_url, server.base_url, auth)
            cached: list[float] = []
            uncached: list[float] = []
            accepted = {"cached": 0, "uncached": 0}
            for _ in range(tries):
                for name, server, sink in (("cached", b, cached), ("uncached", b0, uncached)):
                    ms, early = one_try(http, a.base_url, server.base_url, auth)
                    sink.append(ms)
                    accepted[name] += early
            load = load_average()
    p99, p99_off = percentile(cached, 0.99), percentile(uncached, 0.99)
    p50, p50_off = statistics.median(cached), statistics.median(uncached)
    details = {
        "tries": tries,
        "load_average": load,
        "accepted_after_commit": accepted["cached"],
        "baseline_accepted_after_commit": accepted["uncached"],
        "max_ms": max(cached),
        "baseline_max_ms": max(uncached),
    }
    label = "revocation through A refused by B (PostgreSQL, 1w each)"
    return [
        {
            "name": f"{label}: p50",
            "value": p50,
            "unit": "ms",
            "baseline": p50_off,
            "ratio": p50 / p50_off,
            "details": details,
        },
        {
            "name": f"{label}: p99",
            "value": p99,
            "unit": "ms",
            "baseline": p99_off,
            "ratio": p99 / p99_off,
            "target": TARGET_MS,
            "ok": p99 < TARGET_MS,
            "details": details,
        },
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--tries", type=int, default=TRIES)
    args = parser.parse_args(argv)
    for figure in run(tries=args.tries):
        print_figure(figure)
        print(f"    {figure['details']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
