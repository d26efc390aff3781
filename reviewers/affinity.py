"""A round's affinities: which source counts (the round's ``affinity`` setting), text affinity
computed once the seal lifts and stored sparsely, imported scores, and the admin's listing.

Sealed bids stay sealed: nothing here reads an application's content while its round is sealed
(``ensure_unsealed``), whoever asks.
"""

import base64
import binascii
import csv
import hashlib
import io
import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Final

import sqlalchemy as sa
from sqlmodel import Session, col, select

from models.applications import Application, ApplicationStatus
from models.documents import Document, DocumentStatus
from models.errors import Conflict, Unprocessable
from models.identity import Actor
from models.pagination import Page, PageRequest
from models.reviewers import (
    AffinityComputation,
    AffinityImport,
    AffinityImportResult,
    AffinityPublic,
    AffinitySource,
    ImportedAffinity,
    ReviewerProfile,
    RoundAffinity,
    RoundReviewer,
)
from models.rounds import Round, RoundStatus
from reviewers.matching import expertise_affinity
from reviewers.pool import load_round, panel
from reviewers.text_affinity import (
    DEFAULT_TOP_K,
    ApplicationText,
    ProfileText,
    keyword_evidence,
    text_affinity,
)
from submissions import audit
from submissions.canonical import canonical_json
from submissions.organizations import ensure_admin
from submissions.pagination import encode_cursor
from submissions.rounds import is_sealed

TEXT_CONTENT_TYPES: Final = ("application/pdf", "text/plain")


@dataclass(frozen=True, slots=True)
class Scored:
    score: float
    evidence: tuple[str, ...] = ()


Pair = tuple[uuid.UUID, uuid.UUID]
"""(application_id, reviewer_id)"""


def ensure_unsealed(round_: Round, now: datetime) -> None:
    """Refuse (409 ``round-sealed``) to read a round's bids before the deadline plus grace."""
    if is_sealed(round_, now) or round_.status in (RoundStatus.draft, RoundStatus.open):
        raise Conflict(
            "the round's bids are sealed until the submission deadline plus grace has passed"
            " and review has started; affinity is computed after that",
            type="round-sealed",
        )


# --- the inputs of text affinity ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TextInputs:
    """What text affinity reads of a round, documents still to be read from the store."""

    round_id: uuid.UUID
    applications: dict[uuid.UUID, ApplicationText]
    reviewers: dict[uuid.UUID, ProfileText]
    documents: list[tuple[uuid.UUID, Document]]
    """(application_id, document): the current readable documents (PDF or plain text)."""
    fingerprint: str


def text_inputs(*, session: Session, round_: Round, now: datetime) -> TextInputs:
    """The round's submitted applications and panel as text affinity reads them (refused while
    sealed)."""
    ensure_unsealed(round_, now)
    rows = session.exec(
        select(Application)
        .where(
            Application.round_id == round_.id,
            Application.status == ApplicationStatus.submitted,
        )
        .order_by(col(Application.id))
    ).all()
    applications = {
        a.id: ApplicationText(title=a.title, summary=a.summary, keywords=tuple(a.keywords))
        for a in rows
    }
    documents = _current_readable_documents(session, round_.id)
    members = panel(session=session, round_id=round_.id)
    reviewers, versions = _profiles(session, members)
    fingerprint = hashlib.sha256(
        canonical_json(
            {
                "applications": [str(a) for a in applications],
                "documents": sorted(str(d.id) for _, d in documents),
                "panel": [[str(m.user_id), m.expertise, versions.get(m.user_id)] for m in members],
            }
        )
    ).hexdigest()
    return TextInputs(round_.id, applications, reviewers, documents, fingerprint)


def _current_readable_documents(
    session: Session, round_id: uuid.UUID
) -> list[tuple[uuid.UUID, Document]]:
    """(application_id, document) for the current document of each kind of each submitted
    application of the round (its highest version not deleted, as ``current_documents``), when
    it is clean and readable as text; in one query, however many applications."""
    rows = session.exec(
        select(Document)
        .join(Application, col(Application.id) == col(Document.application_id))
        .where(
            Application.round_id == round_id,
            Application.status == ApplicationStatus.submitted,
            col(Document.deleted_at).is_(None),
        )
        .order_by(col(Document.application_id), col(Document.kind), col(Document.version).desc())
    ).all()
    current: dict[tuple[uuid.UUID, str], Document] = {}
    for row in rows:
        current.setdefault((row.application_id, row.kind), row)
    return [
        (application_id, d)
        for (application_id, _), d in current.items()
        if d.status == DocumentStatus.clean and d.content_type in TEXT_CONTENT_TYPES
    ]


def _profiles(
    session: Session, members: Sequence[RoundReviewer]
) -> tuple[dict[uuid.UUID, ProfileText], dict[uuid.UUID, int]]:
    profiles = {
        p.user_id: p
        for p in session.exec(
            select(ReviewerProfile).where(
                col(ReviewerProfile.user_id).in_([m.user_id for m in members])
            )
        )
    }
    texts: dict[uuid.UUID, ProfileText] = {}
    for m in members:
        profile = profiles.get(m.user_id)
        if profile is None:
            texts[m.user_id] = ProfileText(expertise=tuple(m.expertise))
            continue
        texts[m.user_id] = ProfileText(
            expertise=(*m.expertise, *profile.expertise),
            statement=profile.statement,
            publications=tuple(
                f"{p.get('title', '')}\n{p.get('abstract', '')}" for p in profile.publications
            ),
        )
    return texts, {p.user_id: p.version for p in profiles.values()}


def _expertise(session: Session, members: Sequence[RoundReviewer]) -> dict[uuid.UUID, list[str]]:
    texts, _ = _profiles(session, members)
    return {r: list(t.expertise) for r, t in texts.items()}


# --- storing -----------------------------------------------------------------------------------


def _replace_rows(
    session: Session,
    *,
    round_id: uuid.UUID,
    source: AffinitySource,
    scored: Mapping[Pair, Scored],
) -> int:
    session.execute(
        sa.delete(RoundAffinity).where(
            col(RoundAffinity.round_id) == round_id, col(RoundAffinity.source) == source.value
        )
    )
    by_application: dict[uuid.UUID, list[tuple[uuid.UUID, Scored]]] = {}
    for (a, r), value in scored.items():
        by_application.setdefault(a, []).append((r, value))
    rows = []
    for a, items in sorted(by_application.items()):
        items.sort(key=lambda item: (-item[1].score, item[0]))
        for rank, (r, value) in enumerate(items, start=1):
            rows.append(
                {
                    "id": uuid.uuid4(),
                    "round_id": round_id,
                    "application_id": a,
                    "reviewer_id": r,
                    "source": source.value,
                    "score": value.score,
                    "rank": rank,
                    "evidence": list(value.evidence),
                }
            )
    for start in range(0, len(rows), 10_000):
        session.execute(sa.insert(RoundAffinity), rows[start : start + 10_000])
    return len(rows)


def store_text_affinity(
    *,
    session: Session,
    inputs: TextInputs,
    document_texts: Mapping[uuid.UUID, Sequence[str]],
    now: datetime,
    top_k: int = DEFAULT_TOP_K,
    workers: int = 1,
) -> AffinityComputation:
    """Compute and store the round's text affinity (each application's ``top_k`` best
    reviewers, with evidence), replacing the last computation, with up to ``workers``
    processes (``text_affinity``). Refused while sealed: the round is read again, locked, so a
    round's seal is judged as the rows are written."""
    round_ = load_round(session=session, round_id=inputs.round_id, lock=True)
    ensure_unsealed(round_, now)
    applications = {
        a: replace(text, documents=tuple(document_texts.get(a, ())))
        for a, text in inputs.applications.items()
    }
    pairs = text_affinity(
        applications=applications, reviewers=inputs.reviewers, top_k=top_k, workers=workers
    )
    count = _replace_rows(
        session,
        round_id=round_.id,
        source=AffinitySource.text,
        scored={(p.application_id, p.reviewer_id): Scored(p.score, p.evidence) for p in pairs},
    )
    computation = session.get(AffinityComputation, round_.id, with_for_update=True)
    if computation is None:
        computation = AffinityComputation(
            round_id=round_.id,
            computed_at=now,
            applications=0,
            reviewers=0,
            documents=0,
            pairs=0,
            inputs_sha256="",
        )
    computation.computed_at = now
    computation.applications = len(applications)
    computation.reviewers = len(inputs.reviewers)
    computation.documents = sum(1 for texts in document_texts.values() for _ in texts)
    computation.pairs = count
    computation.inputs_sha256 = inputs.fingerprint
    session.add(computation)
    session.flush()
    audit.append(
        session=session,
        actor="system",
        action="affinities.computed",
        object_type="round",
        object_id=round_.id,
        now=now,
        data={
            "source": "text",
            "applications": computation.applications,
            "reviewers": computation.reviewers,
            "documents": computation.documents,
            "pairs": count,
            "inputs_sha256": inputs.fingerprint,
        },
    )
    return computation


def rounds_needing_text_affinity(*, session: Session, now: datetime) -> list[uuid.UUID]:
    """Rounds in review with text affinity whose stored scores are missing or stale."""
    rounds = session.exec(
        select(Round).where(Round.status == RoundStatus.review, Round.affinity == "text")
    ).all()
    due: list[uuid.UUID] = []
    for round_ in rounds:
        if is_sealed(round_, now):
            continue
        computation = session.get(AffinityComputation, round_.id)
        inputs = text_inputs(session=session, round_=round_, now=now)
        if computation is None or computation.inputs_sha256 != inputs.fingerprint:
            due.append(round_.id)
    return due


# --- the scores a plan maximizes ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RoundScores:
    source: AffinitySource
    scores: dict[Pair, Scored]
    computed_at: datetime | None
    """Text: when the stored scores were computed; None when computed now (no documents)."""


def _stored(session: Session, round_id: uuid.UUID, source: AffinitySource) -> dict[Pair, Scored]:
    rows = session.exec(
        select(
            RoundAffinity.application_id,
            RoundAffinity.reviewer_id,
            RoundAffinity.score,
            RoundAffinity.evidence,
        ).where(RoundAffinity.round_id == round_id, RoundAffinity.source == source.value)
    ).all()
    return {(a, r): Scored(s, tuple(e)) for a, r, s, e in rows}


def round_scores(*, session: Session, round_: Round, now: datetime) -> RoundScores:
    """The scores of the round's affinity source, for the round's submitted applications and
    its panel. Text: the stored computation when it is current; otherwise (the background job
    has not run since the inputs changed) computed now from titles, summaries, keywords and
    profiles, without documents. Refused while sealed."""
    ensure_unsealed(round_, now)
    source = AffinitySource(round_.affinity)
    if source is AffinitySource.imported:
        return RoundScores(source, _stored(session, round_.id, source), None)
    if source is AffinitySource.keywords:
        return RoundScores(source, _keyword_scores(session, round_), None)
    inputs = text_inputs(session=session, round_=round_, now=now)
    computation = session.get(AffinityComputation, round_.id)
    if computation is not None and computation.inputs_sha256 == inputs.fingerprint:
        return RoundScores(source, _stored(session, round_.id, source), computation.computed_at)
    pairs = text_affinity(applications=inputs.applications, reviewers=inputs.reviewers)
    scores = {(p.application_id, p.reviewer_id): Scored(p.score, p.evidence) for p in pairs}
    return RoundScores(source, scores, None)


def _keyword_scores(session: Session, round_: Round) -> dict[Pair, Scored]:
    keywords = dict(
        session.exec(
            select(Application.id, Application.keywords).where(
                Application.round_id == round_.id,
                Application.status == ApplicationStatus.submitted,
            )
        ).all()
    )
    expertise = _expertise(session, panel(session=session, round_id=round_.id))
    counts = expertise_affinity(application_keywords=keywords, reviewer_expertise=expertise)
    return {
        (a, r): Scored(value, tuple(keyword_evidence(keywords[a], expertise[r])))
        for (a, r), value in counts.items()
    }


# --- the admin's reading -----------------------------------------------------------------------


def _offset(cursor: str) -> int:
    try:
        raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raw = None
    if not isinstance(raw, list) or len(raw) != 1 or type(raw[0]) is not int or raw[0] < 0:
        raise Unprocessable(
            "the cursor is not valid; start again without one",
            type="invalid-cursor",
            errors=[{"loc": ["query", "cursor"], "msg": "malformed"}],
        )
    return raw[0]


def list_affinities(
    *,
    session: Session,
    actor: Actor,
    round_id: uuid.UUID,
    page: PageRequest,
    now: datetime,
    application_id: uuid.UUID | None = None,
    reviewer_id: uuid.UUID | None = None,
) -> Page[AffinityPublic]:
    """The round's scored pairs by its source, best first per application (admin; refused while
    sealed)."""
    ensure_admin(actor)
    round_ = load_round(session=session, round_id=round_id)
    result = round_scores(session=session, round_=round_, now=now)
    items = sorted(
        (
            (a, -value.score, r, value)
            for (a, r), value in result.scores.items()
            if (application_id is None or a == application_id)
            and (reviewer_id is None or r == reviewer_id)
        ),
        key=lambda item: (item[0], item[1], item[2]),
    )
    start = _offset(page.cursor) if page.cursor else 0
    chosen = items[start : start + page.limit]
    more = start + page.limit < len(items)
    return Page[AffinityPublic](
        items=[
            AffinityPublic(
                application_id=a,
                reviewer_id=r,
                score=value.score,
                source=result.source,
                evidence=list(value.evidence),
            )
            for a, _, r, value in chosen
        ],
        next_cursor=encode_cursor([start + page.limit]) if more else None,
    )


# --- imports -----------------------------------------------------------------------------------


def parse_affinity_csv(data: bytes) -> AffinityImport:
    """``application_id,reviewer_id,score`` rows with that header (422 naming each bad row)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise Unprocessable("the CSV is not UTF-8", type="invalid-csv") from exc
    reader = csv.reader(io.StringIO(text))
    header = [h.strip() for h in next(reader, [])]
    if header != ["application_id", "reviewer_id", "score"]:
        raise Unprocessable(
            "the CSV's header must be application_id,reviewer_id,score",
            type="invalid-csv",
            errors=[{"loc": ["body", 0], "msg": "expected application_id,reviewer_id,score"}],
        )
    items: list[ImportedAffinity] = []
    errors: list[dict[str, object]] = []
    for line, row in enumerate(reader, start=1):
        if not row:
            continue
        try:
            if len(row) != 3:
                raise ValueError("expected 3 fields")
            items.append(
                ImportedAffinity.model_validate(
                    {"application_id": row[0], "reviewer_id": row[1], "score": row[2]}
                )
            )
        except ValueError as exc:
            errors.append({"loc": ["body", line], "msg": str(exc).splitlines()[0][:200]})
        if len(errors) >= 100:
            break
    if errors:
        raise Unprocessable("the CSV has invalid rows", type="invalid-csv", errors=errors)
    return AffinityImport(items=items)


def import_affinities(
    *, session: Session, actor: Actor, round_id: uuid.UUID, data: AffinityImport, now: datetime
) -> AffinityImportResult:
    """Replace the round's imported scores (admin). Every pair must name a submitted application
    of the round and a reviewer on its panel, once (422 otherwise, nothing changed)."""
    ensure_admin(actor)
    round_ = load_round(session=session, round_id=round_id, lock=True)
    if round_.status in (RoundStatus.closed, RoundStatus.published):
        raise Conflict("the round is closed: its assignments are final", type="round-closed")
    applications = set(
        session.exec(select(Application.id).where(Application.round_id == round_id)).all()
    )
    reviewers = {m.user_id for m in panel(session=session, round_id=round_id)}
    errors: list[dict[str, object]] = []
    seen: set[Pair] = set()
    for index, item in enumerate(data.items):
        pair = (item.application_id, item.reviewer_id)
        if item.application_id not in applications:
            errors.append(
                {"loc": ["body", "items", index, "application_id"], "msg": "not in round"}
            )
        elif item.reviewer_id not in reviewers:
            errors.append({"loc": ["body", "items", index, "reviewer_id"], "msg": "not on panel"})
        elif pair in seen:
            errors.append({"loc": ["body", "items", index], "msg": "pair listed twice"})
        seen.add(pair)
        if len(errors) >= 100:
            break
    if errors:
        raise Unprocessable(
            "some pairs cannot be imported", type="invalid-affinities", errors=errors
        )
    count = _replace_rows(
        session,
        round_id=round_id,
        source=AffinitySource.imported,
        scored={(i.application_id, i.reviewer_id): Scored(i.score) for i in data.items},
    )
    rows = sorted((str(i.application_id), str(i.reviewer_id), repr(i.score)) for i in data.items)
    audit.append(
        session=session,
        actor=actor.audit_name,
        action="affinities.imported",
        object_type="round",
        object_id=round_id,
        now=now,
        data={"count": count, "items_sha256": hashlib.sha256(canonical_json(rows)).hexdigest()},
    )
    return AffinityImportResult(round_id=round_id, imported=count)
