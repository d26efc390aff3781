"""Who is calling: access token verification, actors and their cache, external OpenID Connect
issuers, accounts (users, passwords, OAuth clients), and the built-in OAuth 2 authorization
server (``identity.oauth``). No HTTP here: the FastAPI side is ``api.security`` and
``api.routes.oauth``."""
