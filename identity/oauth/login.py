"""The authorization endpoint's login page: server-rendered, every value escaped, the form bound
to a signed double-submit CSRF cookie, and no script at all. Here the page, its security headers
and the CSRF token; the HTTP edge (``api.routes.oauth``) sends them with the cookie."""

import hashlib
import hmac
import re
import secrets
from collections.abc import Mapping, Sequence
from html import escape
from urllib.parse import urlsplit

from infra.settings import Settings
from models.identity import Scope

AUTHORIZE_PARAMS = (
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "code_challenge",
    "code_challenge_method",
)
"""The authorization request's parameters, carried from the GET to the form POST."""
CSRF_FIELD = "csrf_token"
_ORIGIN_HOST = re.compile(r"[A-Za-z0-9.\-\[\]:]+")
CSRF_MAX_AGE = 900

_SCOPE_TEXT = {
    Scope.applications_read.value: "read organizations, applications, documents and results",
    Scope.applications_write.value: "change organizations, applications and documents",
    Scope.reviews_read.value: "read your reviews",
    Scope.reviews_write.value: "write reviews and recusals",
    Scope.rounds_admin.value: "administer users, programs, rounds and assignments",
    Scope.audit_read.value: "read the audit log",
}

_STYLE = (
    "body{font:16px/1.5 system-ui,sans-serif;max-width:26rem;margin:3rem auto;padding:0 1rem;"
    "color:#1b1b1b}label{display:block;margin:.8rem 0 .2rem}input[type=email],"
    "input[type=password]{width:100%;padding:.5rem;box-sizing:border-box}"
    "button{margin:1rem .5rem 0 0;padding:.5rem 1rem}.error{color:#a40000}"
    "ul{padding-left:1.2rem}code{font-size:.9em}"
)


def csrf_cookie_name(settings: Settings) -> str:
    # The __Host- prefix makes the cookie https-only, host-only and path "/" in every browser.
    return "__Host-shortlist-csrf" if settings.issuer.startswith("https://") else "shortlist-csrf"


def new_csrf_token(settings: Settings) -> str:
    nonce = secrets.token_urlsafe(24)
    return f"{nonce}.{_sign(settings, nonce)}"


def csrf_valid(settings: Settings, cookie: str | None, submitted: str | None) -> bool:
    """The form carries the cookie's value, and the value carries our signature. (Compared as
    bytes: ``compare_digest`` refuses strings with characters outside ASCII, which either may
    hold.)"""
    if not cookie or not submitted or not hmac.compare_digest(cookie.encode(), submitted.encode()):
        return False
    nonce, _, signature = cookie.partition(".")
    return bool(nonce) and hmac.compare_digest(signature.encode(), _sign(settings, nonce).encode())


def _sign(settings: Settings, nonce: str) -> str:
    key = hashlib.sha256(b"shortlist-csrf|" + settings.secret_key.get_secret_value().encode())
    return hmac.new(key.digest(), nonce.encode(), hashlib.sha256).hexdigest()


def _page(title: str, body: str) -> str:
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)} - Shortlist</title><style>{_STYLE}</style></head>"
        f"<body><main>{body}</main></body></html>"
    )


def security_headers(form_target: str | None) -> dict[str, str]:
    """The headers of a login or error page: nothing cached, framed or run."""
    # The form posts to us; after a successful sign-in we redirect to the client, which
    # browsers also check against form-action, so its origin is allowed too.
    form_action = "'self'"
    parts = urlsplit(form_target or "")
    if parts.scheme in ("http", "https") and _ORIGIN_HOST.fullmatch(parts.netloc):
        form_action += f" {parts.scheme}://{parts.netloc}"
    return {
        "Content-Security-Policy": (
            "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; "
            f"frame-ancestors 'none'; form-action {form_action}"
        ),
        "Cache-Control": "no-store",
        "Pragma": "no-cache",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "no-referrer",
    }


def login_page(
    *,
    params: Mapping[str, str],
    client_name: str,
    scopes: Sequence[str],
    csrf_token: str,
    email: str = "",
    error: str | None = None,
) -> str:
    """The login page's HTML: the client asking, the scopes it asks for, and the form."""
    hidden = "".join(
        f'<input type="hidden" name="{name}" value="{escape(params[name])}">'
        for name in AUTHORIZE_PARAMS
        if params.get(name)
    )
    scope_items = "".join(
        f"<li><code>{escape(s)}</code>: {escape(_SCOPE_TEXT.get(s, s))}</li>" for s in scopes
    )
    message = f'<p class="error" role="alert">{escape(error)}</p>' if error else ""
    body = (
        "<h1>Sign in to Shortlist</h1>"
        f"<p><strong>{escape(client_name)}</strong> asks to act for you with these "
        f"permissions:</p><ul>{scope_items or '<li>none</li>'}</ul>{message}"
        '<form method="post" action="/oauth/authorize">'
        f'{hidden}<input type="hidden" name="{CSRF_FIELD}" value="{escape(csrf_token)}">'
        '<label for="email">Email</label>'
        f'<input id="email" name="email" type="email" autocomplete="username" required '
        f'value="{escape(email)}">'
        '<label for="password">Password</label>'
        '<input id="password" name="password" type="password" '
        'autocomplete="current-password" required>'
        '<button type="submit" name="action" value="allow">Sign in and allow</button>'
        '<button type="submit" name="action" value="deny" formnovalidate>Cancel</button>'
        "</form>"
    )
    return _page("Sign in", body)


def error_page(*, error: str, description: str) -> str:
    """Shown when the request cannot be sent back to the client: its redirect URI is missing,
    unknown or not registered (redirecting there would make us an open redirector)."""
    body = (
        "<h1>This sign-in link is not valid</h1>"
        f"<p><code>{escape(error)}</code>: {escape(description)}</p>"
        "<p>Go back to the application you came from and start again.</p>"
    )
    return _page("Error", body)
