"""What the built-in server may say in an OAuth error, and what it accepts as a parameter.

RFC 6749 restricts an ``error_description`` to ``%x20-21 / %x23-5B / %x5D-7E`` (section 5.2), and
authlib enforces that by raising ``ValueError`` when an error is built with anything else: an
error that quotes what a client sent would then become a 500. So every parameter is checked
against RFC 6749's syntax first (appendix A: each is printable ASCII, ``VSCHAR``, or narrower),
the server's own descriptions never quote input, every description that leaves is made safe
(``safe_description``), and whatever still escapes is answered as ``invalid_request`` at the
endpoints (``api.routes.oauth``).
"""

import base64
import re
from collections.abc import Sequence
from urllib.parse import unquote

from authlib.oauth2.rfc6749 import InvalidClientError, InvalidRequestError, OAuth2Error

_NOT_VSCHAR = re.compile(r"[^\x20-\x7e]")
_NOT_DESCRIPTION = re.compile(r"[^\x20\x21\x23-\x5b\x5d-\x7e]")
MAX_DESCRIPTION = 300
UNSPEAKABLE = "the request holds characters that OAuth 2 does not allow there"
"""The description of the last resort (``invalid_request``), when authlib could not describe a
refusal in the characters RFC 6749 allows."""


def safe_description(text: str) -> str:
    """``text`` in the characters an ``error_description`` may hold (others become ``?``)."""
    return _NOT_DESCRIPTION.sub("?", text[:MAX_DESCRIPTION])


class UnsupportedTokenTypeError(OAuth2Error):  # type: ignore[misc]
    """RFC 7009 section 2.2.1: an error response of section 5.2 of RFC 6749, so 400 (authlib's
    own is a 401)."""

    error = "unsupported_token_type"
    status_code = 400


def check_parameters(params: Sequence[tuple[str, str]]) -> None:
    """Every parameter name and value in RFC 6749's syntax (printable ASCII); else
    ``invalid_request`` naming the first parameter that is not."""
    for name, value in params:
        if _NOT_VSCHAR.search(name):
            raise InvalidRequestError("a parameter name holds characters outside printable ASCII")
        if _NOT_VSCHAR.search(value):
            raise InvalidRequestError(
                f"the parameter {safe_description(name)} holds characters outside printable "
                "ASCII (RFC 6749 appendix A)"
            )


def check_basic_credentials(authorization: str) -> None:
    """HTTP Basic client credentials (RFC 6749 section 2.3.1) that decode to printable ASCII;
    else ``invalid_client`` (401, with a Basic challenge). Other schemes are not looked at."""
    scheme, _, credentials = authorization.strip().partition(" ")
    if scheme.lower() != "basic" or not credentials.strip():
        return
    try:
        decoded = unquote(base64.b64decode(credentials.strip()).decode("utf-8"), errors="strict")
    except ValueError:  # not base64, not ASCII, or not UTF-8 once decoded
        decoded = None
    if decoded is None or _NOT_VSCHAR.search(decoded):
        raise InvalidClientError(
            description="the HTTP Basic credentials are not well-formed", status_code=401
        )
