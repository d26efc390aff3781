"""``shortlist verify-record FILE [--jwks FILE_OR_URL]``: check a decision record offline.

Exit codes: 0 when the signature verifies with the given JWKS and the record holds (the result
recomputed from its inputs is its result, and its hashes are those of its contents); 1 with the
first difference (or the signature's failure) otherwise; 2 for a usage error (an unreadable file
or JWKS); 3 when the record holds but no ``--jwks`` was given, so its signature was not checked:
never 0 for an unchecked signature, so a script cannot take a forged record for a verified one.
No database, no settings: the JWKS is the only thing fetched, and only when it is a URL."""

import json
import sys
from pathlib import Path
from typing import Any

from identity.decision_records import RecordSignatureError, verify_record_signature
from reviewers.decision.record import (
    MISSING,
    Difference,
    RecordFormatError,
    check_payload,
    parse_payload,
)

OK = 0
DIFFERENT = 1
USAGE = 2
UNSIGNED = 3


class JwksUnavailable(Exception):
    pass


def load_jwks(source: str) -> dict[str, Any]:
    """A JWKS from a file, or from an ``http(s)://`` URL (the server's ``/oauth/jwks``)."""
    if source.startswith(("https://", "http://")):
        import httpx

        try:
            response = httpx.get(source, timeout=10.0, follow_redirects=False)
            response.raise_for_status()
            value = response.json()
        except (httpx.HTTPError, ValueError) as failed:
            raise JwksUnavailable(f"cannot fetch the JWKS from {source}: {failed}") from failed
    else:
        try:
            value = json.loads(Path(source).read_text(encoding="utf-8"))
        except (OSError, ValueError) as failed:
            raise JwksUnavailable(f"cannot read the JWKS file {source}: {failed}") from failed
    if not isinstance(value, dict):
        raise JwksUnavailable(f"{source} is not a JWKS object")
    return value


def _payload_without_signature(token: str) -> bytes:
    """The payload of a compact JWS, its signature unchecked (when no JWKS was given)."""
    import base64

    parts = token.strip().split(".")
    if len(parts) != 3:
        raise RecordSignatureError("not a compact JWS: it has no three dot-separated parts")
    try:
        return base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4))
    except ValueError as broken:
        raise RecordSignatureError(f"not a compact JWS: {broken}") from broken


def verify_record_file(path: str, *, jwks_source: str | None) -> int:
    """Check the record in ``path``; print one JSON object on stdout, the verdict in words on
    stderr; return the exit code (see the module's docstring)."""
    try:
        token = Path(path).read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as failed:
        print(f"cannot read the record {path}: {failed}", file=sys.stderr)
        return USAGE
    signature: dict[str, Any] = {"checked": False}
    try:
        if jwks_source is None:
            payload_bytes = _payload_without_signature(token)
        else:
            jwks = load_jwks(jwks_source)
            verified = verify_record_signature(token, jwks=jwks)
            payload_bytes = verified.payload
            signature = {"checked": True, "ok": True, "kid": verified.kid, "alg": verified.alg}
    except JwksUnavailable as failed:
        print(str(failed), file=sys.stderr)
        return USAGE
    except RecordSignatureError as refused:
        report: dict[str, Any] = {
            "ok": False,
            "signature": {"checked": True, "ok": False, "error": str(refused)},
        }
        print(f"signature: {refused}", file=sys.stderr)
        # What the auditor will want next: whether the unsigned payload still holds, and if
        # not where it was changed (read as untrusted data; the verdict is a failure anyway).
        unchecked = _unsigned_check(token)
        if unchecked is not None:
            found, words = unchecked
            report.update(found)
            print(f"read without its signature, its {words}", file=sys.stderr)
        _report(report)
        return DIFFERENT
    try:
        payload = parse_payload(payload_bytes)
    except RecordFormatError as broken:
        _report({"ok": False, "signature": signature, "error": str(broken)})
        print(f"payload: {broken}", file=sys.stderr)
        return DIFFERENT
    difference = check_payload(payload)
    if difference is not None:
        _report(
            {
                "ok": False,
                "signature": signature,
                "round_id": payload.get("round_id"),
                "difference": _difference_json(difference),
            }
        )
        print(f"first difference: {difference.describe()}", file=sys.stderr)
        return DIFFERENT
    result = payload["result"]
    summary = {
        "ok": jwks_source is not None,
        "signature": signature,
        "recomputed": True,
        "round_id": payload["round_id"],
        "issued_at": payload["issued_at"],
        "rows": result["n_rows"],
        "shortlisted": result["n_shortlisted"],
        "inputs_sha256": payload["inputs_sha256"],
        "record_inputs_sha256": payload["record_inputs_sha256"],
        "result_sha256": payload["result_sha256"],
        "audit_head": payload["audit_head"],
    }
    _report(summary)
    if jwks_source is None:
        print(
            "the result follows from the record's inputs and its hashes hold, but the "
            "signature was NOT checked (give --jwks FILE_OR_URL)",
            file=sys.stderr,
        )
        return UNSIGNED
    print(
        f"verified: signed by {signature['kid']}; the result of round {payload['round_id']} "
        f"follows from the record's inputs; inputs_sha256 {payload['inputs_sha256']} is the "
        "server's word (it covers the reviewers' real ids)",
        file=sys.stderr,
    )
    return OK


def _unsigned_check(token: str) -> tuple[dict[str, Any], str] | None:
    """What is wrong with a record's payload read without its signature, as the report's
    fields and in words; None when it holds or is not a JWS at all."""
    try:
        payload = parse_payload(_payload_without_signature(token))
    except RecordSignatureError:
        return None
    except RecordFormatError as broken:
        return {"error": str(broken)}, f"payload: {broken}"
    difference = check_payload(payload)
    if difference is None:
        return None
    return {"difference": _difference_json(difference)}, (
        f"first difference: {difference.describe()}"
    )


def _difference_json(difference: Difference) -> dict[str, Any]:
    return {
        "path": difference.path,
        "expected": None if difference.expected is MISSING else difference.expected,
        "found": None if difference.found is MISSING else difference.found,
        "why": difference.why,
    }


def _report(value: dict[str, Any]) -> None:
    print(json.dumps(value, ensure_ascii=False))
