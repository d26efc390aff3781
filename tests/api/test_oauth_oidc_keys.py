"""The external issuer's key provider, with a scripted provider instead of the network: lazy
discovery, JWKS caching, rate-limited refetch on an unknown kid, and what it refuses to trust.
(tests/integration/test_oidc_provider.py runs the same code against a real provider.)"""

import time
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from joserfc import jwt
from joserfc.jwk import ECKey, OctKey, RSAKey

from api.app import create_app
from identity.oidc import OidcKeys, public_signing_keys
from infra.settings import Settings
from tests.factories import bearer

ISSUER = "https://idp.example"
JWKS_URI = "https://idp.example/keys"


class FakeProvider:
    def __init__(self) -> None:
        self.keys: list[RSAKey | ECKey] = [RSAKey.generate_key(2048, parameters={"kid": "k1"})]
        self.calls: list[str] = []
        self.issuer = ISSUER
        self.down = False

    def __call__(self, url: str) -> Any:
        self.calls.append(url)
        if self.down:
            raise httpx.ConnectError("connection refused")
        if url == f"{ISSUER}/.well-known/openid-configuration":
            return {"issuer": self.issuer, "jwks_uri": JWKS_URI}
        if url == JWKS_URI:
            return {"keys": [k.as_dict(private=False) for k in self.keys]}
        raise httpx.HTTPStatusError("404", request=httpx.Request("GET", url), response=None)  # type: ignore[arg-type]


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def provider_and_keys(**kwargs: Any) -> tuple[FakeProvider, Clock, OidcKeys]:
    fake, clock = FakeProvider(), Clock()
    keys = OidcKeys(ISSUER, fetch=fake, clock=clock, ttl=600, min_refresh=10, **kwargs)
    return fake, clock, keys


def test_nothing_is_fetched_until_a_token_needs_it() -> None:
    fake, _, keys = provider_and_keys()
    assert fake.calls == []
    assert keys.public_key("k1") is not None
    assert fake.calls == [f"{ISSUER}/.well-known/openid-configuration", JWKS_URI]


def test_jwks_is_cached_for_its_ttl() -> None:
    fake, clock, keys = provider_and_keys()
    keys.public_key("k1")
    clock.now += 300
    keys.public_key("k1")
    assert len(fake.calls) == 2
    clock.now += 301
    keys.public_key("k1")
    assert fake.calls[-1] == JWKS_URI
    assert len(fake.calls) == 3  # discovery is not repeated


def test_unknown_kid_refetches_at_most_every_min_refresh() -> None:
    fake, clock, keys = provider_and_keys()
    keys.public_key("k1")
    fake.keys.append(RSAKey.generate_key(2048, parameters={"kid": "k2"}))
    clock.now += 11
    assert keys.public_key("k2") is not None  # rotated in: refetched
    calls = len(fake.calls)
    for _ in range(50):  # a flood of forged kids, right after a refetch: none
        assert keys.public_key("forged") is None
    assert len(fake.calls) == calls
    clock.now += 11
    for _ in range(50):  # later: one refetch for the whole flood
        assert keys.public_key("forged") is None
    assert len(fake.calls) == calls + 1


def test_known_keys_survive_a_provider_outage() -> None:
    fake, clock, keys = provider_and_keys()
    keys.public_key("k1")
    fake.down = True
    clock.now += 601
    assert keys.public_key("k1") is not None
    fake.down = False
    clock.now += 11
    assert keys.public_key("k1") is not None


def test_discovery_must_name_the_trusted_issuer() -> None:
    fake, _, keys = provider_and_keys()
    fake.issuer = "https://impostor.example"
    assert keys.public_key("k1") is None


def test_jwks_keeps_only_asymmetric_signature_keys() -> None:
    rsa = RSAKey.generate_key(2048, parameters={"kid": "rsa"})
    ec = ECKey.generate_key("P-256", parameters={"kid": "ec"})
    secret = OctKey.generate_key(256, parameters={"kid": "oct"})
    enc = RSAKey.generate_key(2048, parameters={"kid": "enc", "use": "enc"})
    private = rsa.as_dict(private=True) | {"kid": "private"}
    jwks = {
        "keys": [
            rsa.as_dict(private=False),
            ec.as_dict(private=False),
            secret.as_dict(private=True),
            enc.as_dict(private=False),
            private,
            {"kty": "RSA", "kid": "broken", "n": "x", "e": "y"},
            "not a key",
        ]
    }
    keys = public_signing_keys(jwks)
    assert set(keys) == {"rsa", "ec", "private"}
    assert not keys["private"].is_private  # only the public members are imported


def test_unreachable_provider_does_not_block_startup_and_answers_401(settings: Settings) -> None:
    # A closed loopback port: discovery fails fast; the app starts without contacting it.
    started = time.monotonic()
    app = create_app(
        settings.model_copy(update={"oidc_issuer": "http://127.0.0.1:9", "oidc_http_timeout": 2.0})
    )
    assert time.monotonic() - started < 2
    signer = RSAKey.generate_key(2048, parameters={"kid": "x"})
    now = int(app.state.clock().timestamp())
    claims = {"iss": "http://127.0.0.1:9", "sub": "s", "aud": "urn:shortlist:api", "exp": now + 60}
    token = jwt.encode({"alg": "RS256", "typ": "at+jwt", "kid": "x"}, claims, signer)
    with TestClient(app) as client:
        response = client.get("/api/v1/me", headers=bearer(token))
    app.state.engine.dispose()
    assert response.status_code == 401
    assert "signing key is unknown" in response.headers["www-authenticate"]


def test_external_issuer_must_use_https(settings: Settings) -> None:
    with pytest.raises(ValueError, match="https"):
        settings.model_validate({**settings.model_dump(), "oidc_issuer": "http://idp.example"})


def test_hmac_is_never_accepted_from_an_external_issuer(app: FastAPI) -> None:
    from identity.tokens import ASYMMETRIC_ALGS

    assert not {a for a in ASYMMETRIC_ALGS if a.startswith("HS")}
    assert "none" not in ASYMMETRIC_ALGS
