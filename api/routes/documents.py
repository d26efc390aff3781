"""Documents: streamed uploads as versions, listing, metadata, downloads and deletion.

Upload and download stream for as long as the client takes, so those routes are ``async`` and
keep no database connection while the bytes flow: their database work runs in the threadpool in
short units of work of their own (``session_scope``), and the request's session, in which the
token was checked, is closed first (on SQLite a write request's session holds the write lock).
"""

import hashlib
import uuid
from dataclasses import replace
from datetime import datetime
from typing import Annotated, Any

import anyio
import structlog
from fastapi import APIRouter, Header, Request, Response, status
from fastapi.responses import StreamingResponse
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from api.deps import EngineDep, NowDep, SessionDep, SettingsDep
from api.http.blobs import BlobStoreDep, blob_response
from api.http.idempotency import IDEMPOTENCY_RESPONSES, idempotency
from api.http.multipart import MultipartLimits, MultipartReader, read_upload_form
from api.http.pagination import PageDep
from api.http.routing import SessionRoute
from api.security import AUTH_RESPONSES, ApplicationsRead, ApplicationsWrite
from infra.db import session_scope
from infra.metrics import UPLOAD_BYTES, UPLOADS
from infra.telemetry import span
from models.documents import Document, DocumentPublic, DocumentStatus
from models.identity import Actor
from models.pagination import Page
from submissions.blobs import ContentTooLarge
from submissions.content import CheckedUpload, store_checked_upload
from submissions.documents import (
    DocumentQuota,
    UploadPolicy,
    delete_document,
    describe_document,
    list_documents,
    present_documents,
    record_document,
    servable_document,
    upload_policy,
)
from submissions.scanning import Scanner

log = structlog.get_logger("shortlist.documents")

router = APIRouter(
    route_class=SessionRoute, prefix="/api/v1", tags=["documents"], responses=AUTH_RESPONSES
)

UPLOAD_LIMITS = MultipartLimits(max_parts=16, max_field_bytes=1024, max_header_bytes=16 * 1024)
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        pattern=r"^[\x21-\x7e]{1,255}$",
        description="A unique key (1 to 255 visible ASCII characters) that makes a retry safe",
    ),
]

NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"description": "No such document or application, or not visible to the caller"}
}
READ: dict[int | str, dict[str, Any]] = {
    **NOT_FOUND,
    403: {"description": "Sealed (`sealed`: an admin before the deadline plus grace)"},
}
CHANGE: dict[int | str, dict[str, Any]] = {
    **NOT_FOUND,
    403: {"description": "Only members of the application's organizations change documents"},
    409: {"description": "The application is not a draft, or the round not accepting"},
}
UPLOAD_BODY: dict[str, Any] = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": ["kind", "file"],
                "properties": {
                    "kind": {"type": "string", "description": "A kind the round asks for"},
                    "file": {"type": "string", "format": "binary"},
                },
            },
            "encoding": {"kind": {"contentType": "text/plain"}},
        }
    },
}
BINARY = {"*/*": {"schema": {"type": "string", "format": "binary"}}}


def _fingerprint(request: Request, kind: str, upload: CheckedUpload, declared: str | None) -> str:
    """What makes two uploads "the same" for ``Idempotency-Key``: the kind and the file."""
    basis = "\n".join(
        [
            "upload",
            request.url.query,
            kind,
            upload.filename,
            declared or "",
            upload.blob.sha256,
            str(upload.blob.size),
        ]
    )
    return hashlib.sha256(basis.encode()).hexdigest()


@router.post(
    "/applications/{application_id}/documents",
    status_code=status.HTTP_201_CREATED,
    response_model=DocumentPublic,
    responses={
        **CHANGE,
        **IDEMPOTENCY_RESPONSES,
        400: {"description": "A malformed multipart body, or too many parts"},
        409: {"description": "Not a draft, round not accepting, or the document limit reached"},
        413: {"description": "Over the kind's `max_bytes` or the application's storage quota"},
        415: {
            "description": "Not multipart, a content type the kind does not accept, or a PDF"
            " with active content (`active-content`: nothing is stored)"
        },
        422: {"description": "An unknown kind, or an empty or broken file"},
        507: {"description": "The document store is full (nothing was stored; try again later)"},
    },
    openapi_extra={"requestBody": UPLOAD_BODY},
)
async def post_document(
    application_id: uuid.UUID,
    request: Request,
    actor: ApplicationsWrite,
    session: SessionDep,
    engine: EngineDep,
    now: NowDep,
    settings: SettingsDep,
    store: BlobStoreDep,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> DocumentPublic:
    """Upload a document (multipart `kind`, then `file`); each upload of a kind is a new version."""
    quota = DocumentQuota(
        max_bytes=settings.document_quota_bytes, max_count=settings.document_quota_count
    )

    def policy_for_upload() -> UploadPolicy:
        # The token was checked in the request's session; on SQLite it holds the write lock from
        # then on. Let it go first: the upload may take minutes.
        session.close()
        with session_scope(engine, write=False) as s:
            return upload_policy(
                session=s, actor=actor, application_id=application_id, quota=quota, now=now
            )

    policy = await run_in_threadpool(policy_for_upload)
    reader = MultipartReader.from_request(
        request, limits=replace(UPLOAD_LIMITS, max_body_bytes=policy.max_body_bytes)
    )
    form = await read_upload_form(reader, fields={"kind"}, file="file")
    kind = form.fields["kind"]
    rule = policy.rule_for(kind)
    try:
        form.check_declared_size(rule.max_bytes)
        with span("storage.put", document_kind=str(kind)):
            upload = await store_checked_upload(
                chunks=form.file_chunks(),
                filename=form.file.filename,
                declared_type=form.file.content_type,
                rule=rule,
                store=store,
            )
    except ContentTooLarge as exc:
        refusal = policy.too_large(kind, exc)
        if refusal is exc:
            raise
        raise refusal from exc

    scanner: Scanner = request.app.state.scanner
    fingerprint = _fingerprint(request, kind, upload, form.file.content_type)

    def record() -> DocumentPublic:
        with session_scope(engine) as s:
            return recorded(s)

    def recorded(s: Session) -> DocumentPublic:
        replay = idempotency(request, response, s, now, fingerprint, idempotency_key)
        document = record_document(
            session=s,
            actor=actor,
            application_id=application_id,
            kind=kind,
            upload=upload,
            status=DocumentStatus.pending_scan if scanner.deferred else DocumentStatus.clean,
            quota=quota,
            now=now,
        )
        out = present_documents(session=s, documents=[document])[0]
        response.headers["Location"] = f"{router.prefix}/documents/{document.id}"
        replay.save(out)
        return out

    try:
        out = await run_in_threadpool(record)
    except BaseException:
        # The blob is durable but no row refers to it: remove it now (the sweep would later).
        with anyio.CancelScope(shield=True):
            await store.delete(upload.blob.key)
        raise
    UPLOADS.labels(str(kind)).inc()
    UPLOAD_BYTES.inc(upload.blob.size)
    if out.status == DocumentStatus.pending_scan:
        await request.app.state.scans.scan_later(out.id)
    return out


@router.get(
    "/applications/{application_id}/documents",
    response_model=Page[DocumentPublic],
    responses=READ,
)
def get_application_documents(
    application_id: uuid.UUID,
    actor: ApplicationsRead,
    session: SessionDep,
    now: NowDep,
    page: PageDep,
) -> Page[DocumentPublic]:
    """Every version of the application's documents, newest first, each marked `current` or not."""
    return list_documents(
        session=session, actor=actor, application_id=application_id, page=page, now=now
    )


@router.get("/documents/{document_id}", response_model=DocumentPublic, responses=READ)
def get_document(
    document_id: uuid.UUID, actor: ApplicationsRead, session: SessionDep, now: NowDep
) -> DocumentPublic:
    """A document version's metadata."""
    return describe_document(session=session, actor=actor, document_id=document_id, now=now)


def _servable(session: Session, actor: Actor, document_id: uuid.UUID, now: datetime) -> Document:
    try:
        return servable_document(session=session, actor=actor, document_id=document_id, now=now)
    finally:
        session.close()  # the download may take long: it holds no database connection


@router.get(
    "/documents/{document_id}/content",
    response_class=StreamingResponse,
    responses={
        **READ,
        200: {"description": "The document's bytes, as an attachment", "content": BINARY},
        206: {"description": "One byte range of the document", "content": BINARY},
        409: {"description": "Not served: pending its malware scan, or infected"},
        416: {"description": "The range lies outside the document"},
    },
)
async def get_document_content(
    document_id: uuid.UUID,
    request: Request,
    actor: ApplicationsRead,
    session: SessionDep,
    now: NowDep,
    store: BlobStoreDep,
) -> StreamingResponse:
    """Download a document: an attachment of its stored type; a single `Range` answers 206."""
    document = await run_in_threadpool(_servable, session, actor, document_id, now)
    return await blob_response(
        store=store,
        key=document.storage_key,
        size=document.size,
        content_type=document.content_type,
        filename=document.filename,
        sha256=document.sha256,
        range_header=request.headers.get("range"),
        if_range=request.headers.get("if-range"),
    )


def _delete(session: Session, actor: Actor, document_id: uuid.UUID, now: datetime) -> str:
    document = delete_document(session=session, actor=actor, document_id=document_id, now=now)
    session.commit()
    return document.storage_key


@router.delete(
    "/documents/{document_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=CHANGE,
)
async def delete_document_version(
    document_id: uuid.UUID,
    actor: ApplicationsWrite,
    session: SessionDep,
    now: NowDep,
    store: BlobStoreDep,
) -> Response:
    """Delete a version of a draft's document; the previous version of its kind becomes current."""
    key = await run_in_threadpool(_delete, session, actor, document_id, now)
    try:
        await store.delete(key)
    except Exception:
        # No row refers to the blob any more: the next `shortlist storage sweep` removes it.
        log.warning("document.blob_delete_failed", document_id=str(document_id), exc_info=True)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
