"""Authorization server metadata (RFC 8414), also served as ``openid-configuration``."""

from identity.oauth.keys import SIGNING_ALG
from infra.settings import Settings
from models.identity import ALL_SCOPES, AuthorizationServerMetadata

TOKEN_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]


def authorization_server_metadata(settings: Settings) -> AuthorizationServerMetadata:
    """What a client needs to find the endpoints and what they accept. The built-in server
    issues OAuth access tokens, not OpenID Connect ID tokens; the ``openid-configuration``
    copy is there for discovery tools (RFC 8414 section 5)."""
    issuer = settings.issuer
    return AuthorizationServerMetadata(
        issuer=issuer,
        authorization_endpoint=f"{issuer}/oauth/authorize",
        token_endpoint=f"{issuer}/oauth/token",
        jwks_uri=f"{issuer}/oauth/jwks",
        revocation_endpoint=f"{issuer}/oauth/revoke",
        introspection_endpoint=f"{issuer}/oauth/introspect",
        scopes_supported=list(ALL_SCOPES),
        response_types_supported=["code"],
        response_modes_supported=["query"],
        grant_types_supported=["authorization_code", "client_credentials", "refresh_token"],
        token_endpoint_auth_methods_supported=TOKEN_AUTH_METHODS,
        revocation_endpoint_auth_methods_supported=TOKEN_AUTH_METHODS,
        introspection_endpoint_auth_methods_supported=TOKEN_AUTH_METHODS[:2],
        code_challenge_methods_supported=["S256"],
        authorization_response_iss_parameter_supported=True,
        access_token_signing_alg_values_supported=[SIGNING_ALG],
        subject_types_supported=["public"],
        service_documentation=f"{issuer}/docs" if settings.serves_docs else None,
    )
