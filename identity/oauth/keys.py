"""Signing keys: persisted in the database so that every process signs and verifies alike.

The newest un-retired key signs; retired keys stay in the JWKS until every token they signed has
expired (``shortlist rotate-keys``)."""

import secrets
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from joserfc.jwk import KeySet, RSAKey
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, or_, select

from models.identity import JsonWebKey, JsonWebKeySet, SigningKey

SIGNING_ALG = "RS256"


def generate_signing_key(*, session: Session, now: datetime) -> SigningKey:
    kid = f"{now:%Y%m%d}-{secrets.token_hex(6)}"
    key = RSAKey.generate_key(2048, parameters={"kid": kid, "use": "sig", "alg": SIGNING_ALG})
    row = SigningKey(
        kid=kid,
        alg=SIGNING_ALG,
        private_jwk=dict(key.as_dict(private=True)),
        public_jwk=dict(key.as_dict(private=False)),
        created_at=now,
    )
    session.add(row)
    session.flush()
    return row


def ensure_signing_key(*, session: Session, now: datetime) -> SigningKey:
    """The active signing key, created on first use."""
    row = session.exec(
        select(SigningKey)
        .where(col(SigningKey.retired_at).is_(None))
        .order_by(col(SigningKey.created_at).desc(), col(SigningKey.kid).desc())
    ).first()
    return row or generate_signing_key(session=session, now=now)


def rotate_keys(*, session: Session, now: datetime) -> SigningKey:
    """Retire the active keys and create a new one; retired keys stay published."""
    for row in session.exec(select(SigningKey).where(col(SigningKey.retired_at).is_(None))):
        row.retired_at = now
        session.add(row)
    return generate_signing_key(session=session, now=now)


def published_keys(*, session: Session, now: datetime, token_ttl: int) -> list[SigningKey]:
    """Keys to publish: the active ones and those retired within the longest token lifetime."""
    horizon = now - timedelta(seconds=token_ttl + 300)
    return list(
        session.exec(
            select(SigningKey)
            .where(or_(col(SigningKey.retired_at).is_(None), col(SigningKey.retired_at) > horizon))
            .order_by(col(SigningKey.created_at).desc(), col(SigningKey.kid))
        ).all()
    )


@dataclass(frozen=True)
class KeySnapshot:
    signing: RSAKey
    public: dict[str, RSAKey]
    jwks: JsonWebKeySet
    loaded_at: float


class BuiltinKeys:
    """A per-process cache of the database's keys: reloaded after ``ttl`` seconds, or at once
    (at most every ``min_refresh`` seconds) when a token names a kid it does not know."""

    def __init__(
        self,
        engine: Engine,
        *,
        clock: Any,
        token_ttl: int,
        ttl: float = 60.0,
        min_refresh: float = 1.0,
    ) -> None:
        self._engine = engine
        self._clock = clock
        self._token_ttl = token_ttl
        self._ttl = ttl
        self._min_refresh = min_refresh
        self._lock = threading.Lock()
        self._snapshot: KeySnapshot | None = None

    def _load(self) -> KeySnapshot:
        with Session(self._engine, expire_on_commit=False) as session:
            now = self._clock()
            signing = ensure_signing_key(session=session, now=now)
            rows = published_keys(session=session, now=now, token_ttl=self._token_ttl)
            session.commit()
        public = {r.kid: RSAKey.import_key(r.public_jwk) for r in rows}
        public.setdefault(signing.kid, RSAKey.import_key(signing.public_jwk))
        return KeySnapshot(
            signing=RSAKey.import_key(signing.private_jwk),
            public=public,
            jwks=JsonWebKeySet(keys=[JsonWebKey.model_validate(r.public_jwk) for r in rows]),
            loaded_at=time.monotonic(),
        )

    def snapshot(self, *, force: bool = False) -> KeySnapshot:
        snap = self._snapshot
        age = time.monotonic() - snap.loaded_at if snap else None
        if snap is not None and age is not None and not force and age < self._ttl:
            return snap
        if snap is not None and age is not None and force and age < self._min_refresh:
            return snap
        with self._lock:
            if self._snapshot is snap:
                self._snapshot = self._load()
            assert self._snapshot is not None
            return self._snapshot

    def public_key(self, kid: str) -> RSAKey | None:
        key = self.snapshot().public.get(kid)
        if key is None:
            key = self.snapshot(force=True).public.get(kid)
        return key

    def cached_key(self, kid: str) -> RSAKey | None:
        snap = self._snapshot
        if snap is None or time.monotonic() - snap.loaded_at >= self._ttl:
            return None
        return snap.public.get(kid)

    def invalidate(self) -> None:
        with self._lock:
            self._snapshot = None

    def keyset(self) -> KeySet:
        return KeySet(list(self.snapshot().public.values()))
