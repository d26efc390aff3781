"""Closing benchmark: ``close_round`` on a stored round of 10,000 applications x 4 reviews x 6
criteria, on SQLite and on PostgreSQL (issue 7, acceptance 4).

The round is the one ``bench_closing_core`` computes on (2,500 reviewers with 16 reviews each, a
pass/fail gate failed by about 5% of reviews, a threshold, a shortlist of 1,000, a two-item
tie-break chain), seeded with bulk inserts. Closing is timed through the domain function with a
session, as the route runs it: lock the round, gather the submitted reviews, compute the
shortlist with leave-one-reviewer-out stability, hash the canonical inputs and result, store the
result, set every application's outcome, write the audit event, and flush. Each run is rolled
back so the next closes the same round; the last one commits, and its commit time is reported
beside it.

Baseline, same run, same database: a plain ``SELECT`` of all the round's submitted scores (the
application, the reviewer, the scores and the gates of each review). Targets: under 3 s, and
under 5 times the baseline.

    python -m bench.bench_closing [--db sqlite postgresql] [--repeat 3] [--variants mean/none ...]
"""

import argparse
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from bench.bench_closing_core import (
    APPLICATIONS,
    REVIEWS_PER_APPLICATION,
    SHORTLIST,
    WEIGHTS,
    build,
)
from bench.support import (
    DATABASES,
    actor_of,
    load_average,
    make_open_round,
    make_user,
    postgres_available,
    print_figure,
    temporary_database,
)

TARGET_SECONDS = 3.0
TARGET_RATIO = 5.0
GATE = "independent_development"
CHUNK = 5_000


def _rows(table: Any, rows: list[dict[str, Any]], connection: sa.Connection) -> None:
    for start in range(0, len(rows), CHUNK):
        connection.execute(table.insert(), rows[start : start + CHUNK])


def seed(database_url: str, *, aggregate: str, calibration: str) -> tuple[uuid.UUID, Any]:
    """The round, in review, with every review submitted; returns its id and an admin actor."""
    from infra.db import make_engine, session_scope
    from models.applications import Application
    from models.identity import Organization, User
    from models.reviewers import Assignment, Review
    from models.rounds import Round

    rules, candidates, reviews = build()
    now = datetime.now(UTC)
    engine = make_engine(database_url, pool_size=1)
    try:
        with session_scope(engine) as session:
            admin = make_user(session, role="admin", now=now)
            applicant = make_user(session, role="applicant", now=now)
            round_ = make_open_round(
                session,
                admin,
                now=now,
                criteria=[
                    {
                        "key": c.key,
                        "title": c.key.upper(),
                        "weight": float(c.weight),
                        "min": float(c.min),
                        "max": float(c.max),
                        **({"threshold": float(c.threshold)} if c.threshold is not None else {}),
                    }
                    for c in rules.criteria
                ],
                gates=[{"key": GATE, "title": "Independent development"}],
                shortlist={
                    "size": rules.size,
                    "tie_break": list(rules.tie_break),
                    "aggregate": aggregate,
                    "calibration": calibration,
                },
            )
            round_id, admin_actor, applicant_id = round_.id, actor_of(admin), applicant.id
        reviewers = sorted({r.reviewer_id for r in reviews})
        organizations = [uuid.uuid4() for _ in candidates]  # each bid led by its own
        with engine.begin() as connection:
            _rows(
                User.__table__,  # type: ignore[attr-defined]
                [
                    {
                        "id": r,
                        "email": f"reviewer-{r.hex[:12]}@bench.example.org",
                        "name": "Bench reviewer",
                        "roles": ["reviewer"],
                        "is_active": True,
                        "created_at": now,
                    }
                    for r in reviewers
                ],
                connection,
            )
            _rows(
                Organization.__table__,  # type: ignore[attr-defined]
                [
                    {
                        "id": o,
                        "name": f"Consortium {o.hex[:8]}",
                        "registration_number": o.hex[:10],
                        "country": "KR",
                        "email_domains": [],
                        "verified_email_domains": [],
                        "created_at": now,
                    }
                    for o in organizations
                ],
                connection,
            )
            _rows(
                Application.__table__,  # type: ignore[attr-defined]
                [
                    {
                        "id": c.application_id,
                        "round_id": round_id,
                        "lead_organization_id": o,
                        "title": f"Bid {c.application_id.hex[:8]}",
                        "summary": "",
                        "keywords": [],
                        "status": "submitted",
                        "version": 2,
                        "created_by": applicant_id,
                        "created_at": c.submitted_at - timedelta(days=1),
                        "updated_at": c.submitted_at,
                        "submitted_at": c.submitted_at,
                    }
                    for c, o in zip(candidates, organizations, strict=True)
                ],
                connection,
            )
            assignments = []
            stored_reviews = []
            for review in reviews:
                assignment_id = uuid.uuid4()
                assignments.append(
                    {
                        "id": assignment_id,
                        "round_id": round_id,
                        "application_id": review.application_id,
                        "reviewer_id": review.reviewer_id,
                        "affinity": 0.0,
                        "status": "active",
                        "source": "auto",
                        "created_at": now,
                    }
                )
                stored_reviews.append(
                    {
                        "id": uuid.uuid4(),
                        "assignment_id": assignment_id,
                        "round_id": round_id,
                        "application_id": review.application_id,
                        "reviewer_id": review.reviewer_id,
                        "scores": {k: float(v) for k, v in review.scores.items()},
                        "gates": dict(review.gates),
                        "comment_to_applicant": "",
                        "confidential_comment": "",
                        "status": "submitted",
                        "version": 2,
                        "created_at": now,
                        "updated_at": now,
                        "submitted_at": now,
                    }
                )
            _rows(Assignment.__table__, assignments, connection)  # type: ignore[attr-defined]
            _rows(Review.__table__, stored_reviews, connection)  # type: ignore[attr-defined]
            rounds = Round.__table__  # type: ignore[attr-defined]
            connection.execute(
                rounds.update()
                .where(rounds.c.id == round_id)
                .values(
                    status="review",
                    submission_deadline=now - timedelta(days=1),
                    review_started_at=now,
                )
            )
        if engine.dialect.name == "postgresql":
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql("VACUUM ANALYZE")
    finally:
        engine.dispose()
    return round_id, admin_actor


def _best(repeat: int, action: Callable[[], float]) -> tuple[float, list[float]]:
    runs = [action() for _ in range(repeat)]
    return min(runs), runs


def measure(
    database: str, *, aggregate: str, calibration: str, repeat: int, scratch: Path
) -> list[dict[str, Any]]:
    from infra.db import make_engine, open_session
    from models.reviewers import Review
    from reviewers.closing import close_round

    with temporary_database(database, scratch) as url:
        started = time.monotonic()
        round_id, admin = seed(url, aggregate=aggregate, calibration=calibration)
        seeded_in = time.monotonic() - started
        engine = make_engine(url, pool_size=2)
        review = Review.__table__  # type: ignore[attr-defined]
        scores = sa.select(
            review.c.application_id, review.c.reviewer_id, review.c.scores, review.c.gates
        ).where(review.c.round_id == round_id, review.c.status == "submitted")
        try:

            def select_scores() -> float:
                with engine.connect() as connection:
                    t0 = time.perf_counter()
                    rows = connection.execute(scores).all()
                    elapsed = time.perf_counter() - t0
                assert len(rows) == APPLICATIONS * REVIEWS_PER_APPLICATION
                return elapsed

            commit_seconds: list[float] = []

            def close(*, commit: bool = False) -> float:
                session = open_session(engine, write=True)
                try:
                    t0 = time.perf_counter()
                    closed = close_round(
                        session=session,
                        actor=admin,
                        round_id=round_id,
                        allow_missing_reviews=False,
                        now=datetime.now(UTC),
                    )
                    session.flush()
                    elapsed = time.perf_counter() - t0
                    assert closed.status == "closed"
                    if commit:
                        t1 = time.perf_counter()
                        session.commit()
                        commit_seconds.append(time.perf_counter() - t1)
                    else:
                        session.rollback()
                finally:
                    session.close()
                return elapsed

            select_scores()  # warm the caches of both alike
            baseline, baseline_runs = _best(repeat, select_scores)
            closes = [close() for _ in range(max(0, repeat - 1))]
            closes.append(close(commit=True))
            seconds = min(closes)
            loads = load_average()
        finally:
            engine.dispose()
    ratio = seconds / baseline
    return [
        {
            "name": (
                f"close_round {APPLICATIONS}x{REVIEWS_PER_APPLICATION}x{len(WEIGHTS)} "
                f"{database} {aggregate}/{calibration}"
            ),
            "value": seconds,
            "unit": "s",
            "baseline": baseline,
            "ratio": ratio,
            "target": f"< {TARGET_SECONDS:.0f} s and ratio < {TARGET_RATIO:.0f}",
            "ok": seconds < TARGET_SECONDS and ratio < TARGET_RATIO,
            "details": {
                "runs_seconds": [round(s, 3) for s in closes],
                "baseline_runs_seconds": [round(s, 3) for s in baseline_runs],
                "commit_seconds": round(commit_seconds[-1], 3),
                "seed_seconds": round(seeded_in, 1),
                "shortlist": SHORTLIST,
                "load_average": loads,
            },
        }
    ]


def run(
    *,
    databases: tuple[str, ...] = DATABASES,
    variants: tuple[str, ...] = ("mean/none",),
    repeat: int = 3,
) -> list[dict[str, Any]]:
    figures: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="shortlist-bench-closing-") as scratch:
        for database in databases:
            if database == "postgresql" and not postgres_available():
                print("  PostgreSQL is not reachable (SHORTLIST_BENCH_PG_URL): skipped")
                continue
            for variant in variants:
                aggregate, _, calibration = variant.partition("/")
                measured = measure(
                    database,
                    aggregate=aggregate,
                    calibration=calibration,
                    repeat=repeat,
                    scratch=Path(scratch),
                )
                for figure in measured:
                    print_figure(figure)
                figures += measured
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--db", nargs="+", choices=DATABASES, default=list(DATABASES))
    parser.add_argument("--variants", nargs="+", default=["mean/none"])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    run(databases=tuple(args.db), variants=tuple(args.variants), repeat=args.repeat)
    return 0


if __name__ == "__main__":
    sys.exit(main())
