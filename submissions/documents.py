"""Documents of an application: uploads as numbered versions, reading under the sealed-bid
rules, deletion while a draft, and the scan verdicts that decide whether a document is served.

An upload streams for minutes, and no transaction may stay open that long, so it takes three
steps: ``upload_policy`` (may the caller upload here, and what may each kind be) -> the caller
streams the file into the blob store (``submissions.content.store_checked_upload``) ->
``record_document`` (everything checked again under the application's row lock, the next version
numbered, the row written and audited). The blob is durable before its row commits; the caller
deletes it when recording fails, and ``sweep_orphans`` with ``referenced_storage_keys`` removes
whatever a crash leaves behind.

Deleting is soft: the row stays (version numbers are never reused, the audit log can name it)
but it is no longer listed, served or counted, and its blob is no longer referenced.
"""

import uuid
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, col, select

from models.applications import Application
from models.documents import Document, DocumentPublic, DocumentStatus
from models.errors import Conflict, DomainError, NotFound, Unprocessable
from models.events import EventAudience, EventType
from models.identity import Actor
from models.pagination import Page, PageRequest
from submissions import audit, outbox
from submissions.applications import lock_editable_application
from submissions.blobs import ContentTooLarge
from submissions.content import CheckedUpload, ContentRule
from submissions.pagination import paginate
from submissions.scanning import ScanResult, ScanVerdict
from submissions.unique import add_unique
from submissions.visibility import ensure_can_read_content

SCANNER_ACTOR = "system:scanner"
FORM_OVERHEAD = 64 * 1024
"""Room for the form around the file (boundaries, part headers, the ``kind`` field)."""
PENDING_SCAN_RETRY_SECONDS = 30


class UnknownDocumentKind(Unprocessable):
    type = "unknown-document-kind"
    title = "Unknown document kind"


class StorageQuotaExceeded(ContentTooLarge):
    type = "storage-quota-exceeded"
    title = "Storage quota exceeded"


class DocumentLimitReached(Conflict):
    type = "document-limit-reached"
    title = "Document limit reached"


class DocumentPendingScan(Conflict):
    type = "document-pending-scan"
    title = "Document not yet scanned"


class DocumentInfected(Conflict):
    type = "document-infected"
    title = "Document infected"


@dataclass(frozen=True, slots=True)
class DocumentQuota:
    """What one application may store: documents (every version not deleted) and their bytes."""

    max_bytes: int
    max_count: int


@dataclass(frozen=True, slots=True)
class Usage:
    count: int
    size: int


@dataclass(frozen=True, slots=True)
class UploadPolicy:
    """What an upload to one application may be, decided before its body is read."""

    application_id: uuid.UUID
    rules: Mapping[str, ContentRule]
    bytes_left: int
    quota_bound: frozenset[str]
    """Kinds whose cap is what is left of the quota rather than their own ``max_bytes``."""

    @property
    def max_body_bytes(self) -> int:
        """The largest request body any kind may take (the file and its form)."""
        return max((rule.max_bytes for rule in self.rules.values()), default=0) + FORM_OVERHEAD

    def rule_for(self, kind: str) -> ContentRule:
        """The content rule of ``kind``; 422 when the round asks for no such document."""
        rule = self.rules.get(kind)
        if rule is None:
            known = ", ".join(sorted(self.rules)) or "none"
            raise UnknownDocumentKind(
                f"this round asks for no document of kind {kind!r} (it asks for: {known})",
                errors=[{"loc": ["body", "kind"], "msg": "not a document kind of this round"}],
            )
        return rule

    def too_large(self, kind: str, refusal: ContentTooLarge) -> DomainError:
        """The refusal to report when an upload of ``kind`` passed its cap: the kind's own, or
        the application's quota."""
        if kind not in self.quota_bound:
            return refusal
        return _quota_exceeded(self.bytes_left)


def _quota_exceeded(bytes_left: int) -> StorageQuotaExceeded:
    return StorageQuotaExceeded(
        f"the application's documents may take {bytes_left} more bytes; "
        "delete a document or an older version first"
    )


def _limit_reached(quota: DocumentQuota) -> DocumentLimitReached:
    return DocumentLimitReached(
        f"an application may hold at most {quota.max_count} documents (versions included); "
        "delete a document or an older version first"
    )


# --- the rules of changing documents -----------------------------------------------------------


def _usage(session: Session, application_id: uuid.UUID) -> Usage:
    count, size = session.execute(
        sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(Document.size), 0)).where(
            col(Document.application_id) == application_id, col(Document.deleted_at).is_(None)
        )
    ).one()
    return Usage(count=int(count), size=int(size))


def upload_policy(
    *,
    session: Session,
    actor: Actor,
    application_id: uuid.UUID,
    quota: DocumentQuota,
    now: datetime,
) -> UploadPolicy:
    """May the caller upload to this application now, and what may each kind be: the round's
    ``required_documents`` (types and ``max_bytes``), capped by what is left of the quota.
    Read-only; ``record_document`` checks it all again once the file is stored."""
    application, round = lock_editable_application(
        session=session, actor=actor, application_id=application_id, now=now, lock=False
    )
    usage = _usage(session, application.id)
    if usage.count >= quota.max_count:
        raise _limit_reached(quota)
    bytes_left = quota.max_bytes - usage.size
    if bytes_left <= 0:
        raise _quota_exceeded(0)
    required = round.config().required_documents
    return UploadPolicy(
        application_id=application.id,
        rules={
            item.kind: ContentRule(
                content_types=frozenset(item.content_types),
                max_bytes=min(item.max_bytes, bytes_left),
            )
            for item in required
        },
        bytes_left=bytes_left,
        quota_bound=frozenset(item.kind for item in required if item.max_bytes > bytes_left),
    )


def record_document(
    *,
    session: Session,
    actor: Actor,
    application_id: uuid.UUID,
    kind: str,
    upload: CheckedUpload,
    status: DocumentStatus,
    quota: DocumentQuota,
    now: datetime,
) -> Document:
    """Write the row of a stored, checked upload as the next version of its kind, after checking
    again (under the application's row lock) what may have changed while it streamed."""
    application, round = lock_editable_application(
        session=session, actor=actor, application_id=application_id, now=now
    )
    if kind not in {item.kind for item in round.config().required_documents}:
        raise UnknownDocumentKind(f"this round asks for no document of kind {kind!r}")
    usage = _usage(session, application.id)
    if usage.count >= quota.max_count:
        raise _limit_reached(quota)
    if usage.size + upload.blob.size > quota.max_bytes:
        raise _quota_exceeded(max(quota.max_bytes - usage.size, 0))
    latest = session.execute(
        sa.select(sa.func.max(Document.version)).where(
            col(Document.application_id) == application.id, col(Document.kind) == kind
        )
    ).scalar_one()
    document = Document(
        application_id=application.id,
        kind=kind,
        filename=upload.filename,
        content_type=upload.content_type,
        size=upload.blob.size,
        sha256=upload.blob.sha256,
        status=status,
        storage_key=upload.blob.key,
        version=(latest or 0) + 1,
        uploaded_by=actor.user_id,
        created_at=now,
    )
    # The row lock above serializes uploads to one application; the constraint is the backstop.
    add_unique(
        session,
        document,
        conflict=Conflict(
            "another upload of this kind was recorded at the same moment; try again",
            type="document-version-conflict",
        ),
    )
    audit.append(
        session=session,
        actor=actor.audit_name,
        action="document.uploaded",
        object_type="document",
        object_id=document.id,
        now=now,
        data={
            "application_id": str(application.id),
            "kind": kind,
            "version": document.version,
            "filename": document.filename,
            "content_type": document.content_type,
            "size": document.size,
            "sha256": document.sha256,
            "status": str(document.status),
        },
    )
    return document


def _lock_document(session: Session, document_id: uuid.UUID) -> Document | None:
    return session.exec(
        select(Document)
        .where(Document.id == document_id, col(Document.deleted_at).is_(None))
        .with_for_update()
        .execution_options(populate_existing=True)
    ).first()


def delete_document(
    *, session: Session, actor: Actor, document_id: uuid.UUID, now: datetime
) -> Document:
    """Delete one version of a document of a draft (the round still accepting submissions):
    the previous version of its kind, if any, becomes current. Its blob is left to the caller
    (after the commit) or to the sweep."""
    found = session.get(Document, document_id)
    if found is None or found.deleted_at is not None:
        raise NotFound("no such document")
    lock_editable_application(
        session=session,
        actor=actor,
        application_id=found.application_id,
        now=now,
        missing="no such document",
    )
    document = _lock_document(session, document_id)
    if document is None:  # deleted while we waited for the lock
        raise NotFound("no such document")
    document.deleted_at = now
    session.add(document)
    session.flush()
    audit.append(
        session=session,
        actor=actor.audit_name,
        action="document.deleted",
        object_type="document",
        object_id=document.id,
        now=now,
        data={
            "application_id": str(document.application_id),
            "kind": document.kind,
            "version": document.version,
            "sha256": document.sha256,
        },
    )
    return document


# --- reading -----------------------------------------------------------------------------------


def _current_versions(
    session: Session, application_ids: Collection[uuid.UUID]
) -> dict[tuple[uuid.UUID, str], int]:
    rows = session.execute(
        sa.select(col(Document.application_id), col(Document.kind), sa.func.max(Document.version))
        .where(
            col(Document.application_id).in_(list(application_ids)),
            col(Document.deleted_at).is_(None),
        )
        .group_by(col(Document.application_id), col(Document.kind))
    ).all()
    return {(application_id, kind): version for application_id, kind, version in rows}


def present_documents(*, session: Session, documents: Sequence[Document]) -> list[DocumentPublic]:
    """Documents as their readers see them, each marked ``current`` or not (one query)."""
    if not documents:
        return []
    current = _current_versions(session, {d.application_id for d in documents})
    return [
        DocumentPublic(
            id=d.id,
            application_id=d.application_id,
            kind=d.kind,
            filename=d.filename,
            content_type=d.content_type,
            size=d.size,
            sha256=d.sha256,
            status=DocumentStatus(d.status),
            version=d.version,
            current=current.get((d.application_id, d.kind)) == d.version,
            created_at=d.created_at,
        )
        for d in documents
    ]


def list_documents(
    *,
    session: Session,
    actor: Actor,
    application_id: uuid.UUID,
    page: PageRequest,
    now: datetime,
) -> Page[DocumentPublic]:
    """Every version of every kind, newest first, to those who may read the application's
    content (sealed bids: 403 ``sealed`` for admins before the deadline plus grace)."""
    application = ensure_can_read_content(
        session=session, actor=actor, application_id=application_id, now=now
    )
    statement = select(Document).where(
        Document.application_id == application.id, col(Document.deleted_at).is_(None)
    )
    return paginate(
        session,
        statement,
        keys=[Document.created_at, Document.version, Document.id],  # type: ignore[list-item]
        page=page,
        present=lambda rows: present_documents(session=session, documents=rows),
        descending=True,
    )


def get_document(
    *, session: Session, actor: Actor, document_id: uuid.UUID, now: datetime
) -> Document:
    """A document the caller may read: 404 when it (or its application) is not visible to them,
    403 ``sealed`` for an admin before the deadline plus grace."""
    document = session.get(Document, document_id)
    if document is None or document.deleted_at is not None:
        raise NotFound("no such document")
    try:
        ensure_can_read_content(
            session=session, actor=actor, application_id=document.application_id, now=now
        )
    except NotFound as exc:
        raise NotFound("no such document") from exc
    return document


def describe_document(
    *, session: Session, actor: Actor, document_id: uuid.UUID, now: datetime
) -> DocumentPublic:
    document = get_document(session=session, actor=actor, document_id=document_id, now=now)
    return present_documents(session=session, documents=[document])[0]


def servable_document(
    *, session: Session, actor: Actor, document_id: uuid.UUID, now: datetime
) -> Document:
    """A document whose bytes the caller may download: readable, and scanned clean. A document
    still pending its scan is 409 (retry later); an infected one is never served (409)."""
    document = get_document(session=session, actor=actor, document_id=document_id, now=now)
    if document.status == DocumentStatus.pending_scan:
        raise DocumentPendingScan(
            "the document is being scanned for malware; it can be downloaded once it is clean",
            headers={"Retry-After": str(PENDING_SCAN_RETRY_SECONDS)},
        )
    if document.status == DocumentStatus.infected:
        raise DocumentInfected("the document was found infected with malware; it is not served")
    return document


# --- scanning and storage housekeeping (no actor: the system's own work) -----------------------


@dataclass(frozen=True, slots=True)
class PendingScan:
    document_id: uuid.UUID
    storage_key: str


def pending_scans(*, session: Session, limit: int = 100) -> list[PendingScan]:
    """Documents waiting for a scan, oldest first."""
    rows = session.execute(
        sa.select(col(Document.id), col(Document.storage_key))
        .where(
            col(Document.status) == DocumentStatus.pending_scan,
            col(Document.deleted_at).is_(None),
        )
        .order_by(col(Document.created_at), col(Document.id))
        .limit(limit)
    ).all()
    return [PendingScan(document_id=row[0], storage_key=row[1]) for row in rows]


def pending_scan(*, session: Session, document_id: uuid.UUID) -> PendingScan | None:
    """The document when it still waits for its scan (not scanned, not deleted), else ``None``."""
    row = session.execute(
        sa.select(col(Document.id), col(Document.storage_key)).where(
            col(Document.id) == document_id,
            col(Document.status) == DocumentStatus.pending_scan,
            col(Document.deleted_at).is_(None),
        )
    ).first()
    return None if row is None else PendingScan(document_id=row[0], storage_key=row[1])


def record_scan(
    *, session: Session, document_id: uuid.UUID, result: ScanResult, now: datetime
) -> Document | None:
    """Set a pending document ``clean`` or ``infected`` and audit it. Nothing changes (``None``)
    for a scan that failed (it is tried again later) or a document no longer pending: another
    process may have scanned it first."""
    if result.verdict is ScanVerdict.ERROR:
        return None
    document = session.exec(
        select(Document)
        .where(Document.id == document_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).first()
    if document is None or document.status != DocumentStatus.pending_scan:
        return None
    document.status = (
        DocumentStatus.clean if result.verdict is ScanVerdict.CLEAN else DocumentStatus.infected
    )
    session.add(document)
    session.flush()
    audit.append(
        session=session,
        actor=SCANNER_ACTOR,
        action="document.scanned",
        object_type="document",
        object_id=document.id,
        now=now,
        data={
            "application_id": str(document.application_id),
            "status": str(document.status),
            "signature": result.signature,
        },
    )
    application = session.get(Application, document.application_id)
    assert application is not None  # a foreign key
    outbox.record(
        session=session,
        type=EventType.document_scanned,
        round_id=application.round_id,
        application_id=application.id,
        audience=EventAudience.application,
        now=now,
        data={
            "document_id": str(document.id),
            "kind": document.kind,
            "status": str(document.status),
        },
    )
    return document


def referenced_storage_keys(*, session: Session, keys: Collection[str]) -> set[str]:
    """Which of ``keys`` a document that is not deleted still refers to (for the sweep)."""
    if not keys:
        return set()
    return set(
        session.exec(
            select(Document.storage_key).where(
                col(Document.storage_key).in_(list(keys)), col(Document.deleted_at).is_(None)
            )
        ).all()
    )
