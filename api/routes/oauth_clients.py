"""OAuth clients: a user's API credentials (the secret is shown once)."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Path, Query, Response, status

from api.deps import NowDep, SessionDep
from api.http.pagination import PageDep
from api.http.routing import SessionRoute
from api.security import AUTH_RESPONSES, AnyActor
from identity.accounts import create_client, delete_client, list_clients
from models.identity import OAuthClientCreate, OAuthClientCreated, OAuthClientPublic
from models.pagination import Page

router = APIRouter(
    route_class=SessionRoute,
    prefix="/api/v1/oauth-clients",
    tags=["identity"],
    responses=AUTH_RESPONSES,
)

ClientId = Annotated[str, Path(max_length=100, description="The client's `client_id`")]
UserFilter = Annotated[
    uuid.UUID | None, Query(description="Whose clients (admins only; default: the caller's)")
]


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=OAuthClientCreated,
    responses={
        403: {
            "description": (
                "`login-required`: a person's token must come from a sign-in at most 10 minutes "
                "old (its `auth_time`; client credentials tokens have none), unless the caller "
                "is an admin; `forbidden-role`: a client for another user, by a non-admin; "
                "`scope-escalation`: scopes the calling token does not hold"
            )
        },
        404: {"description": "No such user"},
    },
)
def post_oauth_client(
    body: OAuthClientCreate, actor: AnyActor, session: SessionDep, now: NowDep
) -> OAuthClientCreated:
    """Create a client for oneself (or, for admins, for another user); the secret is shown once."""
    issued = create_client(
        session=session,
        actor=actor,
        name=body.name,
        scopes=[s.value for s in body.scopes],
        now=now,
        user_id=body.user_id,
        redirect_uris=body.redirect_uris,
    )
    session.commit()
    c = issued.client
    return OAuthClientCreated(
        client_id=c.client_id,
        client_secret=issued.secret,
        scopes=c.scopes,
        name=c.name,
        user_id=c.user_id,
        redirect_uris=c.redirect_uris,
    )


@router.get(
    "",
    response_model=Page[OAuthClientPublic],
    responses={403: {"description": "`forbidden-role`: another user's clients, by a non-admin"}},
)
def get_oauth_clients(
    actor: AnyActor, session: SessionDep, page: PageDep, user_id: UserFilter = None
) -> Page[OAuthClientPublic]:
    """The caller's clients (admins: any user's, with `user_id`), never their secrets."""
    return list_clients(session=session, actor=actor, page=page, user_id=user_id)


@router.delete(
    "/{client_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses={404: {"description": "No such client, or not the caller's"}},
)
def delete_oauth_client(
    client_id: ClientId, actor: AnyActor, session: SessionDep, now: NowDep
) -> Response:
    """Delete a client (its owner or an admin): every token it holds is refused at once."""
    delete_client(session=session, actor=actor, client_id=client_id, now=now)
    session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)
