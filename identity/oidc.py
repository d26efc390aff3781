"""The signing keys of an external OpenID Connect issuer (``SHORTLIST_OIDC_ISSUER``).

Discovery (``/.well-known/openid-configuration``) and the JWKS are fetched lazily, on the first
token that names the issuer, never at startup, and always with timeouts. The JWKS is cached for
``ttl`` seconds; a token naming an unknown ``kid`` triggers a refetch, at most once every
``min_refresh`` seconds (so a flood of forged kids cannot hammer the provider). When a fetch
fails the keys already known keep working. Only asymmetric public keys meant for signatures are
kept: a symmetric key in a JWKS is ignored, so HMAC can never be used with a published "secret".
"""

import json
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

import httpx
import structlog
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, Key, OKPKey, RSAKey

from models.identity import LOOPBACK_HOSTS

log = structlog.get_logger("shortlist.oidc")

_KEY_TYPES: dict[str, type[RSAKey] | type[ECKey] | type[OKPKey]] = {
    "RSA": RSAKey,
    "EC": ECKey,
    "OKP": OKPKey,
}
_PUBLIC_MEMBERS = {
    "RSA": ("kty", "n", "e"),
    "EC": ("kty", "crv", "x", "y"),
    "OKP": ("kty", "crv", "x"),
}
MAX_DOCUMENT_BYTES = 512 * 1024

Fetch = Callable[[str], Any]


class DiscoveryError(Exception):
    """The provider's metadata or keys could not be used."""


def is_trustworthy_url(url: str) -> bool:
    """https, or http on a loopback host (a provider running beside us, as in the tests)."""
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return True
    return parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS


def http_fetch(*, timeout: float) -> Fetch:
    """GET a JSON document: no redirects, bounded time and size."""

    def fetch(url: str) -> Any:
        with (
            httpx.Client(timeout=timeout, follow_redirects=False) as client,
            client.stream("GET", url, headers={"Accept": "application/json"}) as response,
        ):
            response.raise_for_status()
            body = b""
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > MAX_DOCUMENT_BYTES:
                    raise DiscoveryError(f"{url} answered more than {MAX_DOCUMENT_BYTES} bytes")
            return json.loads(body)

    return fetch


def public_signing_keys(jwks: Any) -> dict[str, Key]:
    """The asymmetric signature keys of a JWKS, by kid, imported from their public members."""
    if not isinstance(jwks, Mapping) or not isinstance(jwks.get("keys"), list):
        raise DiscoveryError("the JWKS has no keys list")
    keys: dict[str, Key] = {}
    for data in jwks["keys"]:
        if not isinstance(data, Mapping):
            continue
        kty, kid = data.get("kty"), data.get("kid")
        if kty not in _KEY_TYPES or not isinstance(kid, str) or data.get("use", "sig") != "sig":
            continue
        public = {name: data[name] for name in _PUBLIC_MEMBERS[kty] if name in data}
        params = {name: data[name] for name in ("kid", "alg", "use") if name in data}
        try:
            keys[kid] = _KEY_TYPES[kty].import_key({**public, **params})
        except (JoseError, ValueError, TypeError):
            log.warning("oidc_jwks_key_skipped", kid=kid, kty=kty)
    return keys


class OidcKeys:
    """``KeyProvider`` for an external issuer (see the module docstring)."""

    def __init__(
        self,
        issuer: str,
        *,
        ttl: float = 600.0,
        min_refresh: float = 10.0,
        timeout: float = 5.0,
        fetch: Fetch | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.issuer = issuer
        self._ttl = ttl
        self._min_refresh = min_refresh
        self._fetch = fetch or http_fetch(timeout=timeout)
        self._clock = clock
        self._lock = threading.Lock()
        self._jwks_uri: str | None = None
        self._keys: dict[str, Key] = {}
        self._fetched_at: float | None = None
        self._attempted_at: float | None = None

    def public_key(self, kid: str) -> Key | None:
        key = self._current(force=False).get(kid)
        if key is None:
            key = self._current(force=True).get(kid)
        return key

    def cached_key(self, kid: str) -> Key | None:
        fetched_at = self._fetched_at
        if fetched_at is None or self._clock() - fetched_at >= self._ttl:
            return None
        return self._keys.get(kid)

    def _current(self, *, force: bool) -> dict[str, Key]:
        with self._lock:
            now = self._clock()
            fresh = self._fetched_at is not None and now - self._fetched_at < self._ttl
            if fresh and not force:
                return self._keys
            if self._attempted_at is not None and now - self._attempted_at < self._min_refresh:
                return self._keys
            self._attempted_at = now
            try:
                self._keys = public_signing_keys(self._fetch(self._discover()))
                self._fetched_at = now
                log.info("oidc_jwks_loaded", issuer=self.issuer, kids=sorted(self._keys))
            except (httpx.HTTPError, DiscoveryError, ValueError) as exc:
                # Rediscover next time: the provider may have moved its keys.
                self._jwks_uri = None
                log.warning("oidc_jwks_unavailable", issuer=self.issuer, error=str(exc))
            return self._keys

    def _discover(self) -> str:
        if self._jwks_uri is not None:
            return self._jwks_uri
        url = self.issuer.rstrip("/") + "/.well-known/openid-configuration"
        metadata = self._fetch(url)
        if not isinstance(metadata, Mapping):
            raise DiscoveryError("the discovery document is not a JSON object")
        # OpenID Connect Discovery 1.0 section 4.3: the issuer must be exactly the one we trust.
        if metadata.get("issuer") != self.issuer:
            raise DiscoveryError(
                f"the discovery document names issuer {metadata.get('issuer')!r}, "
                f"not {self.issuer!r}"
            )
        jwks_uri = metadata.get("jwks_uri")
        if not isinstance(jwks_uri, str) or not is_trustworthy_url(jwks_uri):
            raise DiscoveryError("the discovery document has no https jwks_uri")
        self._jwks_uri = jwks_uri
        return jwks_uri
