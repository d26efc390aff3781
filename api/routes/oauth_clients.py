"""OAuth clients: a user's API credentials (the secret is shown once)."""

from fastapi import APIRouter, status

from api.auth import AUTH_RESPONSES, AnyActor
from api.deps import NowDep, SessionDep
from models.identity import OAuthClientCreate, OAuthClientCreated
from submissions.accounts import create_client

router = APIRouter(prefix="/api/v1/oauth-clients", tags=["identity"], responses=AUTH_RESPONSES)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=OAuthClientCreated,
    responses={404: {"description": "No such user"}},
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
