"""The decision record's signature: a compact JWS (RFC 7515) over the payload's RFC 8785 bytes,
signed with the service's own OAuth signing key (its ``kid`` is in ``/oauth/jwks``), and the
check of that signature against a JWKS, which needs no database (``shortlist verify-record``)."""

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import RSAKey
from sqlmodel import Session

from identity.oauth.keys import SIGNING_ALG
from models.identity import Actor
from reviewers.decision.record import RECORD_TYPE, canonical_bytes
from reviewers.decision_record import decision_record_payload


class RecordSignatureError(ValueError):
    """The record's signature does not hold: malformed, another type, an unknown key, or a
    signature that does not verify."""


@dataclass(frozen=True, slots=True)
class VerifiedSignature:
    kid: str
    alg: str
    payload: bytes


def sign_record(payload: Mapping[str, Any], *, key: RSAKey) -> str:
    """The compact JWS of ``payload``'s canonical bytes, ``typ`` and ``kid`` in its header."""
    header = {"alg": SIGNING_ALG, "typ": RECORD_TYPE, "kid": key.kid}
    return jws.serialize_compact(header, canonical_bytes(payload), key, algorithms=[SIGNING_ALG])


def issue_decision_record(
    *, session: Session, actor: Actor, round_id: uuid.UUID, now: datetime, signing_key: RSAKey
) -> str:
    """The round's decision record, signed now (who may have it: ``decision_record_payload``)."""
    payload = decision_record_payload(session=session, actor=actor, round_id=round_id, now=now)
    return sign_record(payload, key=signing_key)


def verify_record_signature(token: str, *, jwks: Mapping[str, Any]) -> VerifiedSignature:
    """Check a record's compact JWS against a JWKS (``{"keys": [...]}``): header ``typ`` is the
    record's, ``alg`` is the service's (RS256; never ``none`` or a symmetric one), ``kid`` names
    an RSA key of the set, and the signature verifies with it. Returns the signed payload bytes."""
    text = token.strip()
    try:
        header = jws.extract_compact(text.encode()).headers()
    except (JoseError, ValueError, TypeError) as broken:
        raise RecordSignatureError(f"not a compact JWS: {broken}") from broken
    if header.get("typ") != RECORD_TYPE:
        raise RecordSignatureError(
            f"header typ is {header.get('typ')!r}, not {RECORD_TYPE!r}: not a decision record"
        )
    alg = header.get("alg")
    if alg != SIGNING_ALG:
        raise RecordSignatureError(f"header alg is {alg!r}; records are signed {SIGNING_ALG}")
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise RecordSignatureError("the header names no kid")
    keys = jwks.get("keys") if isinstance(jwks, Mapping) else None
    if not isinstance(keys, list):
        raise RecordSignatureError('the JWKS has no "keys" list')
    found = [k for k in keys if isinstance(k, Mapping) and k.get("kid") == kid]
    if not found:
        raise RecordSignatureError(f"unknown kid {kid!r}: no key of the JWKS has it")
    if found[0].get("kty") != "RSA":
        raise RecordSignatureError(f"the key {kid!r} is not an RSA key")
    try:
        key = RSAKey.import_key(dict(found[0]))
    except (JoseError, ValueError, TypeError) as broken:
        raise RecordSignatureError(f"the key {kid!r} cannot be read: {broken}") from broken
    try:
        verified = jws.deserialize_compact(text, key, algorithms=[SIGNING_ALG])
    except (JoseError, ValueError) as refused:
        raise RecordSignatureError(f"the signature does not verify with {kid!r}") from refused
    return VerifiedSignature(kid=kid, alg=SIGNING_ALG, payload=verified.payload)
