"""Webhook endpoints (admins) and the work of delivering events to them (Standard Webhooks).

Deliveries: ``fan_out`` turns the events written since its cursor into one ``WebhookDelivery``
per matching endpoint (seqs are in commit order, so the cursor skips nothing); ``due_deliveries``
lists what to attempt now; ``prepare`` builds what is sent (the event as an admin reads it, under
the seal, and the secrets to sign with); ``record_attempt`` keeps the log and decides what
happens next: any 2xx is delivered; anything else is tried again with exponential backoff for
``GIVE_UP_AFTER``; an endpoint that has failed without a success for ``DISABLE_AFTER`` turns
``disabled``. Sending itself (DNS, the HTTP request) is infra's.

Targets: https only (http on a loopback host while the portal's public URL is loopback too); a
host that resolves to a private, loopback, link-local or otherwise non-public address is refused
unless allowed by settings. ``check_url`` is asked at registration and again before every
attempt (DNS may have changed since).
"""

import base64
import ipaddress
import secrets
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from models.errors import NotFound, Unprocessable
from models.events import Event, EventHead
from models.identity import LOOPBACK_HOSTS, Actor
from models.pagination import Page, PageRequest
from models.webhooks import (
    DeliveryPublic,
    DeliveryStatus,
    EventCursor,
    WebhookCreate,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookPublic,
    WebhookStatus,
    WebhookUpdate,
    WebhookWithSecret,
)
from notifications.feed import present
from submissions import audit
from submissions.organizations import ensure_admin
from submissions.pagination import paginate

FIRST_RETRY = timedelta(seconds=5)
MAX_RETRY = timedelta(hours=1)
GIVE_UP_AFTER = timedelta(hours=26)
"""A delivery is tried for at least 24 hours (API.md), then ``failed`` (a manual retry
revives it)."""
DISABLE_AFTER = timedelta(days=3)
PREVIOUS_SECRET_LIFETIME = timedelta(hours=24)
"""After a rotation, deliveries carry signatures by both secrets this long."""
TIMEOUT_SECONDS = 10.0

Resolver = Callable[[str], Sequence[str]]
"""A host name to the IP addresses it resolves to (raises ``OSError`` when it does not)."""


@dataclass(frozen=True, slots=True)
class UrlPolicy:
    resolve: Resolver
    allow_private: bool = False
    """``SHORTLIST_WEBHOOK_ALLOW_PRIVATE``: private and loopback targets allowed (development)."""
    allow_http_loopback: bool = False
    """The portal's public URL is loopback: http to a loopback host is allowed."""


def _refused(detail: str) -> Unprocessable:
    return Unprocessable(
        detail, type="webhook-url-refused", errors=[{"loc": ["body", "url"], "msg": detail}]
    )


def public_address(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def check_url(url: str, policy: UrlPolicy) -> list[str]:
    """The addresses ``url``'s host resolves to, once the URL passes the rules above; 422
    ``webhook-url-refused`` otherwise."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 - raises for a bad port
    except ValueError:
        raise _refused("not a URL") from None
    if not host:
        raise _refused("the URL has no host")
    if parts.username or parts.password:
        raise _refused("credentials in the URL are refused")
    if parts.fragment:
        raise _refused("a fragment is meaningless in a webhook URL")
    loopback_host = host in LOOPBACK_HOSTS
    if parts.scheme != "https" and not (
        parts.scheme == "http" and loopback_host and policy.allow_http_loopback
    ):
        raise _refused("the URL must be https")
    try:
        addresses = list(policy.resolve(host))
    except OSError:
        raise _refused(f"{host} does not resolve") from None
    if not addresses:
        raise _refused(f"{host} does not resolve")
    if not policy.allow_private:
        for address in addresses:
            if not public_address(address):
                raise _refused(f"{host} resolves to a non-public address ({address})")
    return addresses


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def _public(endpoint: WebhookEndpoint) -> WebhookPublic:
    return WebhookPublic.model_validate(endpoint, from_attributes=True)


def _head_seq(session: Session) -> int:
    head = session.get(EventHead, 1)
    return head.seq if head is not None else 0


def _audit(
    session: Session, actor: Actor, action: str, endpoint: WebhookEndpoint, now: datetime
) -> None:
    audit.append(
        session=session,
        actor=actor.audit_name,
        action=action,
        object_type="webhook",
        object_id=endpoint.id,
        now=now,
        data={
            "url": endpoint.url,
            "event_types": endpoint.event_types,
            "status": endpoint.status,
        },
    )


def create_webhook(
    *, session: Session, actor: Actor, data: WebhookCreate, policy: UrlPolicy, now: datetime
) -> WebhookWithSecret:
    """Register an endpoint (admin); its secret is in the answer and never again."""
    ensure_admin(actor)
    check_url(data.url, policy)
    endpoint = WebhookEndpoint(
        url=data.url,
        event_types=sorted({t.value for t in data.event_types}),
        description=data.description,
        secret=new_secret(),
        after_seq=_head_seq(session),
        created_by=actor.user_id,
        created_at=now,
        updated_at=now,
    )
    session.add(endpoint)
    session.flush()
    _audit(session, actor, "webhook.created", endpoint, now)
    return WebhookWithSecret(**_public(endpoint).model_dump(), secret=endpoint.secret)


def get_endpoint(*, session: Session, actor: Actor, webhook_id: uuid.UUID) -> WebhookEndpoint:
    ensure_admin(actor)
    endpoint = session.get(WebhookEndpoint, webhook_id)
    if endpoint is None or endpoint.deleted_at is not None:
        raise NotFound("no such webhook")
    return endpoint


def get_webhook(*, session: Session, actor: Actor, webhook_id: uuid.UUID) -> WebhookPublic:
    return _public(get_endpoint(session=session, actor=actor, webhook_id=webhook_id))


def list_webhooks(*, session: Session, actor: Actor, page: PageRequest) -> Page[WebhookPublic]:
    ensure_admin(actor)
    return paginate(
        session,
        select(WebhookEndpoint).where(col(WebhookEndpoint.deleted_at).is_(None)),
        keys=[WebhookEndpoint.created_at, WebhookEndpoint.id],  # type: ignore[list-item]
        page=page,
        present=lambda rows: [_public(r) for r in rows],
    )


def update_webhook(
    *,
    session: Session,
    actor: Actor,
    webhook_id: uuid.UUID,
    data: WebhookUpdate,
    policy: UrlPolicy,
    now: datetime,
) -> WebhookPublic:
    endpoint = get_endpoint(session=session, actor=actor, webhook_id=webhook_id)
    if data.url is not None:
        check_url(data.url, policy)
        endpoint.url = data.url
    if data.event_types is not None:
        endpoint.event_types = sorted({t.value for t in data.event_types})
    if data.description is not None:
        endpoint.description = data.description
    if data.status is not None and data.status.value != endpoint.status:
        endpoint.status = data.status.value
        endpoint.failing_since = None
    endpoint.updated_at = now
    session.add(endpoint)
    session.flush()
    _audit(session, actor, "webhook.updated", endpoint, now)
    return _public(endpoint)


def delete_webhook(*, session: Session, actor: Actor, webhook_id: uuid.UUID, now: datetime) -> None:
    """Remove an endpoint: nothing more is delivered to it (its log stays, unlisted)."""
    endpoint = get_endpoint(session=session, actor=actor, webhook_id=webhook_id)
    endpoint.deleted_at = now
    endpoint.status = WebhookStatus.disabled.value
    session.add(endpoint)
    session.flush()
    _audit(session, actor, "webhook.deleted", endpoint, now)


def rotate_secret(
    *, session: Session, actor: Actor, webhook_id: uuid.UUID, now: datetime
) -> WebhookWithSecret:
    """A new secret; deliveries are signed by the old one too for ``PREVIOUS_SECRET_LIFETIME``,
    so a receiver can switch without losing any."""
    endpoint = get_endpoint(session=session, actor=actor, webhook_id=webhook_id)
    endpoint.previous_secret = endpoint.secret
    endpoint.previous_secret_until = now + PREVIOUS_SECRET_LIFETIME
    endpoint.secret = new_secret()
    endpoint.updated_at = now
    session.add(endpoint)
    session.flush()
    _audit(session, actor, "webhook.secret_rotated", endpoint, now)
    return WebhookWithSecret(**_public(endpoint).model_dump(), secret=endpoint.secret)


def list_deliveries(
    *, session: Session, actor: Actor, webhook_id: uuid.UUID, page: PageRequest
) -> Page[DeliveryPublic]:
    """The endpoint's delivery log, newest event first."""
    endpoint = get_endpoint(session=session, actor=actor, webhook_id=webhook_id)
    return paginate(
        session,
        select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint.id),
        keys=[WebhookDelivery.event_seq],  # type: ignore[list-item]
        page=page,
        present=lambda rows: [DeliveryPublic.model_validate(r, from_attributes=True) for r in rows],
        descending=True,
    )


def retry_delivery(
    *, session: Session, actor: Actor, webhook_id: uuid.UUID, delivery_id: uuid.UUID, now: datetime
) -> DeliveryPublic:
    """Attempt a delivery again now (a failed one, or a pending one sooner); a delivered one
    is sent once more, as asked."""
    endpoint = get_endpoint(session=session, actor=actor, webhook_id=webhook_id)
    delivery = session.get(WebhookDelivery, delivery_id)
    if delivery is None or delivery.endpoint_id != endpoint.id:
        raise NotFound("no such delivery")
    delivery.status = DeliveryStatus.pending.value
    delivery.next_attempt_at = now
    delivery.created_at = now  # a new span of retries
    session.add(delivery)
    session.flush()
    audit.append(
        session=session,
        actor=actor.audit_name,
        action="webhook.delivery_retried",
        object_type="webhook",
        object_id=endpoint.id,
        now=now,
        data={"delivery_id": str(delivery.id), "event_id": str(delivery.event_id)},
    )
    return DeliveryPublic.model_validate(delivery, from_attributes=True)


# -- the delivery work -------------------------------------------------------------------------


def lock_cursor(session: Session, name: str) -> EventCursor:
    """The named reader's position in the outbox, locked until the transaction ends."""
    dialect = session.get_bind().dialect.name
    values = {"name": name, "seq": 0}
    if dialect == "postgresql":
        session.execute(postgresql.insert(EventCursor).values(values).on_conflict_do_nothing())
    else:
        session.execute(sqlite.insert(EventCursor).values(values).on_conflict_do_nothing())
    return session.exec(
        select(EventCursor)
        .where(EventCursor.name == name)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()


def any_active_endpoint(*, session: Session) -> bool:
    """Whether fanning out could make any delivery (an endpoint made later starts after the
    events written before it, so the cursor may lag meanwhile)."""
    found = session.exec(
        select(WebhookEndpoint.id)
        .where(
            WebhookEndpoint.status == WebhookStatus.active.value,
            col(WebhookEndpoint.deleted_at).is_(None),
        )
        .limit(1)
    ).first()
    return found is not None


def fan_out(*, session: Session, now: datetime, batch: int = 1000) -> int:
    """Make the deliveries of up to ``batch`` events past the cursor; how many events it took."""
    cursor = lock_cursor(session, "webhooks")
    events = session.exec(
        select(Event).where(col(Event.seq) > cursor.seq).order_by(col(Event.seq)).limit(batch)
    ).all()
    if not events:
        return 0
    endpoints = session.exec(
        select(WebhookEndpoint).where(
            WebhookEndpoint.status == WebhookStatus.active.value,
            col(WebhookEndpoint.deleted_at).is_(None),
        )
    ).all()
    for event in events:
        for endpoint in endpoints:
            if event.seq > endpoint.after_seq and event.type in endpoint.event_types:
                session.add(
                    WebhookDelivery(
                        endpoint_id=endpoint.id,
                        event_id=event.id,
                        event_seq=event.seq,
                        next_attempt_at=now,
                        created_at=now,
                    )
                )
    cursor.seq = events[-1].seq
    session.add(cursor)
    session.flush()
    return len(events)


def due_deliveries(*, session: Session, now: datetime, limit: int = 100) -> list[uuid.UUID]:
    """Pending deliveries whose next attempt is due, oldest event first."""
    return list(
        session.exec(
            select(WebhookDelivery.id)
            .where(
                WebhookDelivery.status == DeliveryStatus.pending.value,
                col(WebhookDelivery.next_attempt_at) <= now,
            )
            .order_by(col(WebhookDelivery.event_seq))
            .limit(limit)
        ).all()
    )


def next_due_at(*, session: Session) -> datetime | None:
    return session.exec(
        select(WebhookDelivery.next_attempt_at)
        .where(WebhookDelivery.status == DeliveryStatus.pending.value)
        .order_by(col(WebhookDelivery.next_attempt_at))
        .limit(1)
    ).first()


@dataclass(frozen=True, slots=True)
class PreparedDelivery:
    delivery_id: uuid.UUID
    url: str
    message_id: str
    body: bytes
    secrets: tuple[str, ...]


def prepare(*, session: Session, delivery_id: uuid.UUID, now: datetime) -> PreparedDelivery | None:
    """What to send for a due delivery, or ``None`` when there is nothing to do (delivered
    meanwhile, its endpoint disabled or deleted)."""
    delivery = session.get(WebhookDelivery, delivery_id)
    if delivery is None or delivery.status != DeliveryStatus.pending.value:
        return None
    endpoint = session.get(WebhookEndpoint, delivery.endpoint_id)
    if endpoint is None or endpoint.status != WebhookStatus.active.value:
        return None
    event = session.get(Event, delivery.event_id)
    assert event is not None  # a foreign key
    # As an admin reads it: an event about a bid still sealed carries only its id.
    [public] = present(session=session, events=[event], now=now)
    signing = [endpoint.secret]
    if (
        endpoint.previous_secret is not None
        and endpoint.previous_secret_until is not None
        and endpoint.previous_secret_until > now
    ):
        signing.append(endpoint.previous_secret)
    return PreparedDelivery(
        delivery_id=delivery.id,
        url=endpoint.url,
        message_id=str(event.id),
        body=public.model_dump_json().encode(),
        secrets=tuple(signing),
    )


def backoff(attempts: int) -> timedelta:
    """The wait after the ``attempts``-th failed attempt: 5 s, 10 s, 20 s ... at most an hour."""
    wait: timedelta = FIRST_RETRY * (2 ** min(max(attempts - 1, 0), 20))
    return min(wait, MAX_RETRY)


def record_attempt(
    *,
    session: Session,
    delivery_id: uuid.UUID,
    now: datetime,
    status_code: int | None,
    error: str | None = None,
) -> WebhookDelivery | None:
    """Log one attempt and decide what follows (delivered, retried later, failed; the endpoint
    disabled after ``DISABLE_AFTER`` of failures)."""
    delivery = session.exec(
        select(WebhookDelivery).where(WebhookDelivery.id == delivery_id).with_for_update()
    ).first()
    if delivery is None or delivery.status != DeliveryStatus.pending.value:
        return None
    endpoint = session.get(WebhookEndpoint, delivery.endpoint_id)
    assert endpoint is not None  # a foreign key
    delivery.attempts += 1
    delivery.last_status_code = status_code
    delivery.last_error = error[:500] if error else None
    if status_code is not None and 200 <= status_code < 300:
        delivery.status = DeliveryStatus.delivered.value
        delivery.delivered_at = now
        delivery.next_attempt_at = None
        if endpoint.failing_since is not None:
            endpoint.failing_since = None
            session.add(endpoint)
    else:
        if endpoint.failing_since is None:
            endpoint.failing_since = now
        if now - endpoint.failing_since >= DISABLE_AFTER:
            endpoint.status = WebhookStatus.disabled.value
        session.add(endpoint)
        if now - delivery.created_at >= GIVE_UP_AFTER or endpoint.status != WebhookStatus.active:
            delivery.status = DeliveryStatus.failed.value
            delivery.next_attempt_at = None
        else:
            delivery.next_attempt_at = now + backoff(delivery.attempts)
    session.add(delivery)
    session.flush()
    return delivery
