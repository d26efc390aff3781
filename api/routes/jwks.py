"""``GET /oauth/jwks``: the public half of the service's signing keys, served whether the
built-in authorization server is on or not. The keys sign the built-in server's access tokens
(while it is on) and, in every mode, the decision records, whose ``kid`` a verifier looks up here
(docs/decision-record.md); with only an external issuer trusted, no token signed by them is
accepted (``api.app.trusted_issuers``)."""

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from api.http.routing import SessionRoute
from models.identity import JsonWebKeySet

router = APIRouter(route_class=SessionRoute, tags=["oauth"])


@router.get("/oauth/jwks", response_model=JsonWebKeySet)
def jwks(request: Request) -> JSONResponse:
    """Public keys that sign tokens and decision records (retired ones until their tokens end)."""
    return JSONResponse(
        request.app.state.keys.snapshot().jwks.model_dump(mode="json"),
        headers={"Cache-Control": "public, max-age=60"},
    )
