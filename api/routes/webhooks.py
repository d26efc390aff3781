"""Webhook endpoints and their delivery logs (admins)."""

import uuid
from typing import Any

from fastapi import APIRouter, Response, status

from api.deps import NowDep, SessionDep, SettingsDep
from api.http.idempotency import IDEMPOTENCY_RESPONSES, IdempotencyDep
from api.http.pagination import PageDep
from api.http.routing import SessionRoute
from api.security import AUTH_RESPONSES, RoundsAdmin
from infra.webhooks import url_policy
from models.pagination import Page
from models.webhooks import (
    DeliveryPublic,
    WebhookCreate,
    WebhookPublic,
    WebhookUpdate,
    WebhookWithSecret,
)
from notifications.webhooks import (
    create_webhook,
    delete_webhook,
    get_webhook,
    list_deliveries,
    list_webhooks,
    retry_delivery,
    rotate_secret,
    update_webhook,
)

router = APIRouter(
    route_class=SessionRoute, prefix="/api/v1/webhooks", tags=["webhooks"], responses=AUTH_RESPONSES
)
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "No such webhook"}}
REFUSED: dict[int | str, dict[str, Any]] = {
    422: {"description": "The URL is not https, or resolves to a non-public address"}
}


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=WebhookWithSecret,
    responses={**IDEMPOTENCY_RESPONSES, **REFUSED},
)
def post_webhook(
    body: WebhookCreate,
    actor: RoundsAdmin,
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
    idempotency: IdempotencyDep,
    response: Response,
) -> WebhookWithSecret:
    """Register a webhook endpoint (admin); the answer holds its signing secret, shown once."""
    out = create_webhook(
        session=session, actor=actor, data=body, policy=url_policy(settings), now=now
    )
    response.headers["Location"] = f"{router.prefix}/{out.id}"
    idempotency.save(out)
    session.commit()
    return out


@router.get("", response_model=Page[WebhookPublic])
def get_webhooks(actor: RoundsAdmin, session: SessionDep, page: PageDep) -> Page[WebhookPublic]:
    """Every webhook endpoint, oldest first (admin)."""
    return list_webhooks(session=session, actor=actor, page=page)


@router.get("/{webhook_id}", response_model=WebhookPublic, responses=NOT_FOUND)
def get_one_webhook(
    webhook_id: uuid.UUID, actor: RoundsAdmin, session: SessionDep
) -> WebhookPublic:
    """A webhook endpoint (admin)."""
    return get_webhook(session=session, actor=actor, webhook_id=webhook_id)


@router.patch("/{webhook_id}", response_model=WebhookPublic, responses={**NOT_FOUND, **REFUSED})
def patch_webhook(
    webhook_id: uuid.UUID,
    body: WebhookUpdate,
    actor: RoundsAdmin,
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
) -> WebhookPublic:
    """Change an endpoint's URL, event types, description or status (admin)."""
    out = update_webhook(
        session=session,
        actor=actor,
        webhook_id=webhook_id,
        data=body,
        policy=url_policy(settings),
        now=now,
    )
    session.commit()
    return out


@router.delete(
    "/{webhook_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=NOT_FOUND,
)
def delete_one_webhook(
    webhook_id: uuid.UUID, actor: RoundsAdmin, session: SessionDep, now: NowDep
) -> Response:
    """Remove an endpoint: nothing more is delivered to it (admin)."""
    delete_webhook(session=session, actor=actor, webhook_id=webhook_id, now=now)
    session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/{webhook_id}/rotate-secret", response_model=WebhookWithSecret, responses=NOT_FOUND)
def post_rotate_secret(
    webhook_id: uuid.UUID, actor: RoundsAdmin, session: SessionDep, now: NowDep
) -> WebhookWithSecret:
    """A new signing secret, shown once; the old one also signs for 24 hours (admin)."""
    out = rotate_secret(session=session, actor=actor, webhook_id=webhook_id, now=now)
    session.commit()
    return out


@router.get("/{webhook_id}/deliveries", response_model=Page[DeliveryPublic], responses=NOT_FOUND)
def get_deliveries(
    webhook_id: uuid.UUID, actor: RoundsAdmin, session: SessionDep, page: PageDep
) -> Page[DeliveryPublic]:
    """The endpoint's deliveries, newest event first (admin)."""
    return list_deliveries(session=session, actor=actor, webhook_id=webhook_id, page=page)


@router.post(
    "/{webhook_id}/deliveries/{delivery_id}/retry",
    response_model=DeliveryPublic,
    responses={404: {"description": "No such webhook or delivery"}},
)
def post_retry_delivery(
    webhook_id: uuid.UUID,
    delivery_id: uuid.UUID,
    actor: RoundsAdmin,
    session: SessionDep,
    now: NowDep,
) -> DeliveryPublic:
    """Attempt a delivery again now (admin)."""
    out = retry_delivery(
        session=session, actor=actor, webhook_id=webhook_id, delivery_id=delivery_id, now=now
    )
    session.commit()
    return out
