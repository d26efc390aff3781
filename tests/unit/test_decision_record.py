"""The decision record without a server: its payload from a decision, its signature, the check
that recomputes the result from the record alone, and ``shortlist verify-record``'s verdicts."""

import base64
import dataclasses
import hashlib
import json
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st
from joserfc import jws
from joserfc.jwk import RSAKey

from cli.main import main as shortlist
from identity.decision_records import RecordSignatureError, sign_record, verify_record_signature
from reviewers.decision import (
    canonical_inputs,
    compute_shortlist,
    inputs_from_canonical,
    result_to_dict,
)
from reviewers.decision.record import (
    MISSING,
    RECORD_TYPE,
    Difference,
    RecordFormatError,
    canonical_bytes,
    check_payload,
    parse_payload,
    pseudonymise_inputs,
    record_payload,
    reviewer_pseudonym,
)
from submissions.canonical import canonical_json
from tests.unit.test_decision_shortlist import T0, Round, five_bidders, rounds

ROUND_ID = uuid.UUID("5c4f1a2e-0000-4000-8000-000000000001")
KEY = RSAKey.generate_key(2048, parameters={"kid": "test-record-key", "use": "sig"})
OTHER_KEY = RSAKey.generate_key(2048, parameters={"kid": "test-record-key", "use": "sig"})
JWKS = {"keys": [KEY.as_dict(private=False)]}


def stored_decision(
    round_: Round,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """What closing stores: the canonical inputs and the result as plain JSON values."""
    inputs = canonical_inputs(
        rules=round_.rules, candidates=round_.candidates, reviews=round_.reviews
    )
    result = result_to_dict(
        result=compute_shortlist(
            rules=round_.rules, candidates=round_.candidates, reviews=round_.reviews
        )
    )
    return inputs, result


def payload_of(round_: Round) -> dict[str, Any]:
    inputs, result = stored_decision(round_)
    return record_payload(
        round_id=ROUND_ID,
        inputs=inputs,
        result=result,
        inputs_sha256=hashlib.sha256(canonical_json(inputs)).hexdigest(),
        result_sha256=hashlib.sha256(canonical_json(result)).hexdigest(),
        audit_head={"seq": 7, "hash": "ab" * 32},
        issued_at=T0,
    )


def five() -> Round:
    rules, candidates, reviews = five_bidders()
    return Round(rules, tuple(candidates), tuple(reviews))


def resigned(payload: dict[str, Any], key: RSAKey = KEY) -> dict[str, Any]:
    """``payload`` changed by someone holding a signing key: the signature holds."""
    return parse_payload(verify_record_signature(sign_record(payload, key=key), jwks=JWKS).payload)


# --- the property: the record alone gives the stored result -------------------------------


@settings(max_examples=60, deadline=None)
@given(rounds(), st.data())
def test_recomputing_from_the_record_gives_the_stored_result(
    round_: Round, data: st.DataObject
) -> None:
    # Real reviewer ids are random: pseudonyms must not depend on their order to give the result.
    real = sorted({r.reviewer_id for r in round_.reviews}, key=lambda x: x.int)
    drawn = data.draw(st.lists(st.uuids(), min_size=len(real), max_size=len(real), unique=True))
    ids = dict(zip(real, drawn, strict=True))
    round_ = Round(
        round_.rules,
        round_.candidates,
        tuple(dataclasses.replace(r, reviewer_id=ids[r.reviewer_id]) for r in round_.reviews),
    )
    inputs, result = stored_decision(round_)
    payload = payload_of(round_)

    assert check_payload(payload) is None
    parsed = inputs_from_canonical(data=payload["inputs"])
    recomputed = compute_shortlist(
        rules=parsed.rules, candidates=parsed.candidates, reviews=parsed.reviews
    )
    assert result_to_dict(result=recomputed) == result == payload["result"]
    # The record's canonical bytes are the stored hashes' bytes: its hashes are the stored ones.
    assert canonical_bytes(inputs) == canonical_json(inputs)
    assert canonical_bytes(result) == canonical_json(result)
    assert payload["result_sha256"] == hashlib.sha256(canonical_bytes(result)).hexdigest()
    # No real reviewer id anywhere; as many pseudonyms as reviewers, each with the same reviews.
    text = canonical_bytes(payload).decode()
    assert not any(str(x) in text for x in drawn)
    pseudonyms = {r["reviewer_id"] for r in payload["inputs"]["reviews"]}
    assert pseudonyms == {reviewer_pseudonym(n) for n in range(1, len(ids) + 1)}
    assert sorted(_reviews_by_reviewer(inputs, map(str, drawn))) == sorted(
        _reviews_by_reviewer(payload["inputs"], pseudonyms)
    )
    # The same stored inputs always give the same pseudonyms.
    assert pseudonymise_inputs(inputs) == payload["inputs"]


def _reviews_by_reviewer(inputs: dict[str, Any], reviewers: Iterable[str]) -> list[list[str]]:
    return [
        sorted(
            json.dumps([r["application_id"], r["scores"], r["gates"]])
            for r in inputs["reviews"]
            if r["reviewer_id"] == reviewer
        )
        for reviewer in reviewers
    ]


JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**60), 2**60)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(st.characters(codec="utf-8"), max_size=8)
    | st.text(st.characters(max_codepoint=0x7F), max_size=8),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.text(st.characters(codec="utf-8"), max_size=4)
            | st.text(st.characters(max_codepoint=0x7F), max_size=4),
            children,
            max_size=4,
        )
    ),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(JSON_VALUES)
def test_canonical_bytes_are_the_rfc8785_packages(value: Any) -> None:
    """The standard-encoder path of ``canonical_bytes`` spells every value it takes exactly as
    the ``rfc8785`` package does, and refuses what the package refuses."""
    try:
        expected: bytes | type[Exception] = rfc8785.dumps(value)
    except rfc8785.CanonicalizationError as refused:
        expected = type(refused)
    try:
        found: bytes | type[Exception] = canonical_bytes(value)
    except rfc8785.CanonicalizationError as refused:
        found = type(refused)
    assert found == expected


# --- signature ----------------------------------------------------------------------------


def test_a_fresh_record_verifies() -> None:
    payload = payload_of(five())
    token = sign_record(payload, key=KEY)
    header = jws.extract_compact(token.encode()).headers()
    assert header == {"alg": "RS256", "typ": RECORD_TYPE, "kid": "test-record-key"}
    verified = verify_record_signature(token, jwks=JWKS)
    assert verified.payload == canonical_bytes(payload)
    assert check_payload(parse_payload(verified.payload)) is None


def _segments(token: str) -> list[str]:
    return token.split(".")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def test_a_payload_changed_without_resigning_fails_the_signature() -> None:
    payload = payload_of(five())
    header, _, signature = _segments(sign_record(payload, key=KEY))
    payload["result"]["rows"][3]["shortlisted"] = True
    forged = ".".join([header, _b64(canonical_bytes(payload)), signature])
    with pytest.raises(RecordSignatureError, match="does not verify"):
        verify_record_signature(forged, jwks=JWKS)


def test_a_bad_signature_fails() -> None:
    header, body, signature = _segments(sign_record(payload_of(five()), key=KEY))
    flipped = _b64(bytes(b ^ 1 for b in base64.urlsafe_b64decode(signature + "==")))
    with pytest.raises(RecordSignatureError, match="does not verify"):
        verify_record_signature(".".join([header, body, flipped]), jwks=JWKS)


def test_another_key_under_the_same_kid_fails() -> None:
    with pytest.raises(RecordSignatureError, match="does not verify"):
        verify_record_signature(sign_record(payload_of(five()), key=OTHER_KEY), jwks=JWKS)


def test_an_unknown_kid_fails() -> None:
    other = RSAKey.generate_key(2048, parameters={"kid": "someone-else"})
    with pytest.raises(RecordSignatureError, match="unknown kid 'someone-else'"):
        verify_record_signature(sign_record(payload_of(five()), key=other), jwks=JWKS)


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ({"alg": "RS256", "typ": "JWT", "kid": "test-record-key"}, "not a decision record"),
        ({"alg": "none", "typ": RECORD_TYPE, "kid": "test-record-key"}, "alg is 'none'"),
        ({"alg": "HS256", "typ": RECORD_TYPE, "kid": "test-record-key"}, "alg is 'HS256'"),
        ({"alg": "RS256", "typ": RECORD_TYPE}, "no kid"),
    ],
)
def test_another_type_algorithm_or_no_kid_fails(header: dict[str, str], message: str) -> None:
    body = _b64(canonical_bytes(payload_of(five())))
    if header["alg"] == "RS256":
        token = jws.serialize_compact(header, canonical_bytes(payload_of(five())), KEY)
    else:
        token = ".".join([_b64(json.dumps(header).encode()), body, ""])
    with pytest.raises(RecordSignatureError, match=message):
        verify_record_signature(token, jwks=JWKS)


def test_a_payload_not_in_canonical_form_is_refused() -> None:
    with pytest.raises(RecordFormatError, match="canonical"):
        parse_payload(b'{"b": 1, "a": 2}')
    with pytest.raises(RecordFormatError, match="canonical"):
        parse_payload(b'{"a":1,"a":2}')
    with pytest.raises(RecordFormatError, match="not a JSON object"):
        parse_payload(b"[]")


# --- the check: the first difference, path and both values --------------------------------


def test_a_changed_score_resigned_is_caught_by_the_recomputation() -> None:
    payload = payload_of(five())
    # Bidder A's technical scores 8, 9, 10 become 0, 9, 10.
    review = payload["inputs"]["reviews"][0]
    assert review["scores"]["technical"] == "8"
    review["scores"]["technical"] = "0"
    changed = resigned(payload)
    difference = check_payload(changed)
    parsed = inputs_from_canonical(data=changed["inputs"])
    recomputed = result_to_dict(
        result=compute_shortlist(
            rules=parsed.rules, candidates=parsed.candidates, reviews=parsed.reviews
        )
    )
    # Ranked second before, A now ties C and D at 7 and loses both ties: D moves up to second.
    assert difference == Difference(
        "$.result.rows[1].application_id",
        recomputed["rows"][1]["application_id"],
        payload["result"]["rows"][1]["application_id"],
        "the result recomputed from the record's inputs differs",
    )
    assert difference.expected != difference.found


def test_a_changed_outcome_resigned_names_the_row() -> None:
    payload = payload_of(five())
    assert payload["result"]["rows"][3]["shortlisted"] is False
    payload["result"]["rows"][3]["shortlisted"] = True
    difference = check_payload(resigned(payload))
    assert difference is not None
    assert (difference.path, difference.expected, difference.found) == (
        "$.result.rows[3].shortlisted",
        False,
        True,
    )
    assert "recomputed" in difference.describe()


def test_a_changed_hash_rules_or_real_reviewer_id_resigned_is_caught() -> None:
    payload = payload_of(five())
    payload["result_sha256"] = "0" * 64
    difference = check_payload(resigned(payload))
    assert difference is not None
    assert (difference.path, difference.found) == ("$.result_sha256", "0" * 64)

    payload = payload_of(five())
    payload["rules"]["size"] = 4
    difference = check_payload(resigned(payload))
    assert difference is not None
    assert (difference.path, difference.expected, difference.found) == ("$.rules.size", 3, 4)

    payload = payload_of(five())
    real = str(uuid.uuid4())
    for review in payload["inputs"]["reviews"]:
        if review["reviewer_id"] == reviewer_pseudonym(1):
            review["reviewer_id"] = real
    difference = check_payload(resigned(payload))
    assert difference is not None
    assert (difference.path, difference.expected, difference.found) == (
        "$.inputs.reviews[0].reviewer_id",
        reviewer_pseudonym(1),
        real,
    )


def test_missing_or_extra_members_and_a_second_spelling_are_caught() -> None:
    payload = payload_of(five())
    del payload["audit_head"]
    difference = check_payload(payload)
    assert difference is not None
    assert (difference.path, difference.found) == ("$.audit_head", MISSING)

    payload = payload_of(five())
    payload["reviewer_names"] = ["x"]
    difference = check_payload(payload)
    assert difference is not None
    assert difference.path == "$.reviewer_names"

    for member, value in (
        ("round_id", "round one"),
        ("issued_at", "yesterday"),
        ("audit_head", {"seq": "7", "hash": "ab" * 32}),
        ("inputs_sha256", "AB" * 32),
    ):
        payload = payload_of(five())
        payload[member] = value
        difference = check_payload(payload)
        assert difference is not None
        assert (difference.path, difference.found) == (f"$.{member}", value)

    # "8.0" is 8: the same result, but not the canonical spelling the hash is taken over.
    payload = payload_of(five())
    payload["inputs"]["reviews"][0]["scores"]["technical"] = "8.0"
    difference = check_payload(payload)
    assert difference is not None
    assert (difference.path, difference.expected, difference.found) == (
        "$.inputs.reviews[0].scores.technical",
        "8",
        "8.0",
    )


def test_inputs_the_core_refuses_are_a_difference_not_a_crash() -> None:
    payload = payload_of(five())
    payload["inputs"]["reviews"][0]["scores"]["technical"] = "11"  # above max
    difference = check_payload(payload)
    assert difference is not None
    assert difference.path == "$.inputs"
    assert "refuses" in difference.why

    payload = payload_of(five())
    del payload["inputs"]["applications"]
    difference = check_payload(payload)
    assert difference is not None
    assert (difference.path, difference.why) == ("$.inputs", "the inputs cannot be read")


# --- shortlist verify-record ----------------------------------------------------------------


def _write(tmp_path: Path, token: str) -> tuple[str, str]:
    record = tmp_path / "record.jws"
    record.write_text(token)
    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps(JWKS))
    return str(record), str(jwks)


def test_verify_record_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    payload = payload_of(five())
    record, jwks = _write(tmp_path, sign_record(payload, key=KEY))
    assert shortlist(["verify-record", record, "--jwks", jwks]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["ok"] is True
    assert out["signature"] == {
        "checked": True,
        "ok": True,
        "kid": "test-record-key",
        "alg": "RS256",
    }

    # Without a JWKS the recomputation runs, but an unchecked signature is never a 0.
    assert shortlist(["verify-record", record]) == 3
    captured = capsys.readouterr()
    assert json.loads(captured.out)["signature"] == {"checked": False}
    assert "NOT checked" in captured.err

    payload["result"]["rows"][3]["shortlisted"] = True
    record, jwks = _write(tmp_path, sign_record(payload, key=KEY))
    assert shortlist(["verify-record", record, "--jwks", jwks]) == 1
    captured = capsys.readouterr()
    assert json.loads(captured.out)["difference"] == {
        "path": "$.result.rows[3].shortlisted",
        "expected": False,
        "found": True,
        "why": "the result recomputed from the record's inputs differs",
    }
    assert "first difference: $.result.rows[3].shortlisted" in captured.err
    assert shortlist(["verify-record", record]) == 1  # a difference is 1, signature or not
    capsys.readouterr()

    record, jwks = _write(tmp_path, sign_record(payload_of(five()), key=OTHER_KEY))
    assert shortlist(["verify-record", record, "--jwks", jwks]) == 1
    assert json.loads(capsys.readouterr().out)["signature"]["ok"] is False

    assert shortlist(["verify-record", str(tmp_path / "absent.jws"), "--jwks", jwks]) == 2
    assert shortlist(["verify-record", record, "--jwks", str(tmp_path / "absent.json")]) == 2


def test_verify_record_names_where_a_payload_was_changed_after_signing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A record edited in place (its payload changed, the old signature kept): the signature
    fails, and the auditor is also told where the payload no longer holds."""
    signed = sign_record(payload_of(five()), key=KEY)
    header, body, signature = signed.split(".")
    payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    payload["result"]["rows"][3]["shortlisted"] = True
    edited = ".".join([header, _b64(rfc8785.dumps(payload)), signature])
    record, jwks = _write(tmp_path, edited)
    assert shortlist(["verify-record", record, "--jwks", jwks]) == 1
    captured = capsys.readouterr()
    out = json.loads(captured.out)
    assert out["ok"] is False
    assert out["signature"]["ok"] is False
    assert out["difference"]["path"] == "$.result.rows[3].shortlisted"
    assert "signature: " in captured.err
    assert "its first difference: $.result.rows[3].shortlisted" in captured.err

    # Edited with an ordinary JSON writer: the spelling is named as what no longer holds.
    edited = ".".join([header, _b64(json.dumps(payload).encode()), signature])
    record, jwks = _write(tmp_path, edited)
    assert shortlist(["verify-record", record, "--jwks", jwks]) == 1
    captured = capsys.readouterr()
    out = json.loads(captured.out)
    assert out["signature"]["ok"] is False
    assert "difference" not in out
    assert out["error"]
    assert "read without its signature, its payload: " in captured.err

    # A signature that fails on a payload that still holds names no difference.
    header, body, signature = signed.split(".")
    flipped = _b64(bytes(b ^ 1 for b in base64.urlsafe_b64decode(signature + "==")))
    record, jwks = _write(tmp_path, ".".join([header, body, flipped]))
    assert shortlist(["verify-record", record, "--jwks", jwks]) == 1
    out = json.loads(capsys.readouterr().out)
    assert out["signature"]["ok"] is False
    assert "difference" not in out
