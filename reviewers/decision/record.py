"""The decision record's pure part: its payload made from a stored decision, and its check.

A record (``docs/decision-record.md`` is the public spec) carries a closed round's canonical
inputs, with each reviewer under a pseudonym, the stored result and the hashes, as RFC 8785
canonical JSON. ``check_payload`` recomputes the result from the record alone with this package's
``compute_shortlist`` and names the first place where the record does not hold. Signing and the
signature's check are not here (``identity.decision_records``): this module knows no keys.

Pseudonyms. The reviewers of the stored inputs are numbered 1, 2, ... in the order in which they
first appear in the inputs' canonical review order, and reviewer number ``n`` becomes the UUID
whose 128-bit value is ``n`` (``00000000-0000-0000-0000-000000000001`` for the first). The stored
inputs never change, so a round's pseudonyms are the same in every record issued for it. The
decision only groups reviews by reviewer (calibration, leave-one-reviewer-out), and renaming the
reviewers one to one changes no result: the pseudonymised inputs give the stored result. They do
change the inputs' hash, so the record carries both the published ``inputs_sha256`` (over the
inputs with the real ids: nobody without those ids can recompute it) and its own
``record_inputs_sha256`` over the pseudonymised inputs it holds.
"""

import copy
import hashlib
import json
import re
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import rfc8785

from reviewers.decision.canonical import canonical_inputs, inputs_from_canonical, result_to_dict
from reviewers.decision.shortlist import compute_shortlist
from reviewers.decision.types import ScoringInputError

RECORD_FORMAT = "shortlist-decision-record/1"
"""The payload's ``record`` member: names this layout and these checks."""

RECORD_TYPE = "shortlist-decision+jwt"
"""The JWS protected header's ``typ``."""

RECORD_MEDIA_TYPE = "application/jose"

FIELDS = (
    "audit_head",
    "inputs",
    "inputs_sha256",
    "issued_at",
    "record",
    "record_inputs_sha256",
    "result",
    "result_sha256",
    "round_id",
    "rules",
)

_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")


class RecordFormatError(ValueError):
    """A payload that is not a decision record at all (not canonical JSON, not an object)."""


def canonical_bytes(value: Any) -> bytes:
    """RFC 8785 (JSON Canonicalization Scheme) bytes of a plain JSON value. For the values of a
    decision (ASCII keys, strings, integers, booleans, null) these are the bytes
    ``submissions.canonical.canonical_json`` makes, so the hashes are the stored ones.

    A record's values are megabytes, and the ``rfc8785`` package (pure Python) takes six times
    as long as the standard library's encoder over them (bench/bench_decision_record.py). For
    a value that is all ASCII with no floating-point number and no integer beyond +-(2**53 - 1),
    the two spell it alike: members sorted by name (ASCII: code points are UTF-16 code units),
    no white space, the same escapes (quote, backslash, b f n r t, other control characters as
    lowercase u00xx), integers in decimal. Such a value takes the standard encoder;
    anything else takes ``rfc8785`` (tests/unit/test_decision_record.py holds the two alike)."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    if text.isascii() and _plain_numbers(value):
        return text.encode()
    return rfc8785.dumps(value)


_SAFE_INTEGER = 2**53 - 1


def _plain_numbers(value: Any) -> bool:
    """No float, and no integer outside RFC 8785's exact range, anywhere in ``value``."""
    stack = [value]
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind is str or kind is bool or item is None:
            continue
        if kind is dict:
            stack.extend(item.values())
        elif kind is list:
            stack.extend(item)
        elif kind is int:
            if not -_SAFE_INTEGER <= item <= _SAFE_INTEGER:
                return False
        else:
            return False
    return True


def sha256_hex(value: Any) -> str:
    return hashlib.sha256(canonical_bytes(value)).hexdigest()


def reviewer_pseudonym(number: int) -> str:
    """Reviewer ``number`` (from 1) as the UUID whose 128-bit value is that number."""
    return str(uuid.UUID(int=number))


def pseudonymise_inputs(inputs: Mapping[str, Any]) -> dict[str, Any]:
    """Canonical inputs with every reviewer id replaced by its pseudonym (see the module's
    docstring), the reviews again in canonical order (by application, then pseudonym)."""
    numbers: dict[str, int] = {}
    reviews = []
    for review in inputs["reviews"]:
        number = numbers.setdefault(review["reviewer_id"], len(numbers) + 1)
        reviews.append((number, {**review, "reviewer_id": reviewer_pseudonym(number)}))
    reviews.sort(key=lambda item: (uuid.UUID(item[1]["application_id"]).int, item[0]))
    return {**inputs, "reviews": [review for _, review in reviews]}


def record_payload(
    *,
    round_id: uuid.UUID,
    inputs: Mapping[str, Any],
    result: Mapping[str, Any],
    inputs_sha256: str,
    result_sha256: str,
    audit_head: Mapping[str, Any] | None,
    issued_at: datetime,
) -> dict[str, Any]:
    """The payload of a round's decision record, from its stored canonical inputs (real ids),
    its stored result and their stored hashes."""
    record_inputs = pseudonymise_inputs(inputs)
    return {
        "record": RECORD_FORMAT,
        "round_id": str(round_id),
        "rules": copy.deepcopy(record_inputs["rules"]),
        "inputs": record_inputs,
        "result": dict(result),
        "inputs_sha256": inputs_sha256,
        "record_inputs_sha256": sha256_hex(record_inputs),
        "result_sha256": result_sha256,
        "audit_head": None if audit_head is None else dict(audit_head),
        "issued_at": issued_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
    }


def parse_payload(data: bytes) -> dict[str, Any]:
    """A signed payload read back: a JSON object in its RFC 8785 canonical form, or refused.
    (Requiring the canonical bytes refuses duplicate keys and any second spelling.)"""
    try:
        value = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as broken:
        raise RecordFormatError(f"the payload is not JSON: {broken}") from broken
    if not isinstance(value, dict):
        raise RecordFormatError("the payload is not a JSON object")
    try:
        canonical = canonical_bytes(value)
    except (rfc8785.CanonicalizationError, ValueError) as broken:
        raise RecordFormatError(f"the payload cannot be canonicalized: {broken}") from broken
    if canonical != data:
        raise RecordFormatError("the payload is not in RFC 8785 canonical form")
    return value


@dataclass(frozen=True, slots=True)
class Difference:
    """Where a record does not hold: ``path`` (``$.result.rows[2].rank``), what the check
    expects there and what the record holds (``MISSING`` when absent), and why."""

    path: str
    expected: Any
    found: Any
    why: str

    def describe(self) -> str:
        return (
            f"{self.path}: expected {_show(self.expected)}, the record has {_show(self.found)}"
            f" ({self.why})"
        )


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()


def _show(value: Any) -> str:
    if value is MISSING:
        return "nothing"
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _member(path: str, key: str) -> str:
    return f"{path}.{key}" if _NAME.match(key) else f"{path}[{json.dumps(key)}]"


def differences(expected: Any, found: Any, path: str = "$") -> Iterator[tuple[str, Any, Any]]:
    """Every place where ``found`` differs from ``expected``, in document order (object members
    in RFC 8785 order, array elements by index). ``True`` is not ``1`` and ``1`` is not
    ``"1"``: values differ unless they are the same JSON value."""
    if isinstance(expected, dict) and isinstance(found, dict):
        for key in sorted(expected.keys() | found.keys(), key=_utf16):
            yield from differences(
                expected.get(key, MISSING), found.get(key, MISSING), _member(path, key)
            )
    elif isinstance(expected, list) and isinstance(found, list):
        for index in range(max(len(expected), len(found))):
            yield from differences(
                expected[index] if index < len(expected) else MISSING,
                found[index] if index < len(found) else MISSING,
                f"{path}[{index}]",
            )
    elif type(expected) is not type(found) or expected != found:
        yield path, expected, found


def first_difference(expected: Any, found: Any, path: str, why: str) -> Difference | None:
    for where, want, have in differences(expected, found, path):
        return Difference(where, want, have, why)
    return None


def _utf16(key: str) -> bytes:
    """RFC 8785 orders members by their names' UTF-16 code units."""
    return key.encode("utf-16-be", "surrogatepass")


def check_payload(payload: Mapping[str, Any]) -> Difference | None:
    """The first place where a record's payload does not hold, or ``None`` when it all does.
    The checks, in this order (the spec's "Verifying", steps 3 to 8):

    1. the members: exactly ``FIELDS``, ``record`` is ``RECORD_FORMAT``, hashes are 64
       lowercase hex digits, ``round_id`` a UUID, ``issued_at`` a timestamp, ``audit_head``
       ``{seq, hash}`` or null;
    2. ``rules`` is ``inputs.rules``;
    3. the reviewers of ``inputs`` are pseudonyms 1..n, numbered in order of first appearance;
    4. the result recomputed from ``inputs`` is ``result``, member by member;
    5. ``result_sha256`` is the SHA-256 of ``result``'s canonical bytes;
    6. ``inputs`` is in canonical form (order and spelling) and ``record_inputs_sha256`` is the
       SHA-256 of its canonical bytes.
    """
    shape = _check_members(payload)
    if shape is not None:
        return shape
    inputs, result = payload["inputs"], payload["result"]
    rules = first_difference(
        inputs.get("rules", MISSING), payload["rules"], "$.rules", "rules must be inputs.rules"
    )
    if rules is not None:
        return rules
    pseudonyms = _check_pseudonyms(inputs)
    if pseudonyms is not None:
        return pseudonyms
    try:
        parsed = inputs_from_canonical(data=inputs)
        recomputed = result_to_dict(
            result=compute_shortlist(
                rules=parsed.rules, candidates=parsed.candidates, reviews=parsed.reviews
            )
        )
    except ScoringInputError as refused:
        located = "; ".join(
            f"{'.'.join(map(str, e.get('loc', ())))}: {e.get('msg', '')}"
            for e in refused.errors or ()
        )
        return Difference(
            "$.inputs",
            "inputs the decision core accepts",
            refused.detail,
            f"the decision core refuses the inputs{': ' + located if located else ''}",
        )
    except (KeyError, TypeError, ValueError, AttributeError) as broken:
        return Difference(
            "$.inputs",
            "inputs in the canonical layout",
            f"{type(broken).__name__}: {broken}",
            "the inputs cannot be read",
        )
    recomputation = first_difference(
        recomputed, result, "$.result", "the result recomputed from the record's inputs differs"
    )
    if recomputation is not None:
        return recomputation
    result_hash = sha256_hex(result)
    if payload["result_sha256"] != result_hash:
        return Difference(
            "$.result_sha256",
            result_hash,
            payload["result_sha256"],
            "SHA-256 of the result's canonical bytes",
        )
    canonical = canonical_inputs(
        rules=parsed.rules, candidates=parsed.candidates, reviews=parsed.reviews
    )
    spelling = first_difference(
        canonical, inputs, "$.inputs", "the inputs are not in canonical order and spelling"
    )
    if spelling is not None:
        return spelling
    inputs_hash = sha256_hex(inputs)
    if payload["record_inputs_sha256"] != inputs_hash:
        return Difference(
            "$.record_inputs_sha256",
            inputs_hash,
            payload["record_inputs_sha256"],
            "SHA-256 of the inputs' canonical bytes",
        )
    return None


def _check_members(payload: Mapping[str, Any]) -> Difference | None:
    for key in sorted(set(FIELDS) | payload.keys(), key=_utf16):
        if key not in payload:
            return Difference(_member("$", key), "a member", MISSING, "every member is required")
        if key not in FIELDS:
            return Difference(_member("$", key), MISSING, payload[key], "not a record member")
    if payload["record"] != RECORD_FORMAT:
        return Difference("$.record", RECORD_FORMAT, payload["record"], "an unknown layout")
    for key in ("inputs_sha256", "record_inputs_sha256", "result_sha256"):
        value = payload[key]
        if not isinstance(value, str) or not _SHA256.match(value):
            return Difference(f"$.{key}", "64 lowercase hex digits", value, "not a SHA-256")
    for key in ("inputs", "result"):
        if not isinstance(payload[key], dict):
            return Difference(f"$.{key}", "an object", payload[key], "not an object")
    if not isinstance(payload["round_id"], str) or not _UUID.match(payload["round_id"]):
        return Difference("$.round_id", "a UUID", payload["round_id"], "not a round id")
    if not isinstance(payload["issued_at"], str) or not _TIMESTAMP.match(payload["issued_at"]):
        return Difference(
            "$.issued_at", "YYYY-MM-DDTHH:MM:SS.ffffffZ", payload["issued_at"], "not a timestamp"
        )
    head = payload["audit_head"]
    if head is not None and not (
        isinstance(head, dict)
        and head.keys() == {"seq", "hash"}
        and type(head["seq"]) is int
        and isinstance(head["hash"], str)
        and _SHA256.match(head["hash"])
    ):
        return Difference(
            "$.audit_head", '{"hash": SHA-256, "seq": integer} or null', head, "not an audit head"
        )
    return None


def _check_pseudonyms(inputs: Mapping[str, Any]) -> Difference | None:
    reviews = inputs.get("reviews")
    if not isinstance(reviews, list):
        return None  # the recomputation names it
    seen: dict[Any, int] = {}
    for index, review in enumerate(reviews):
        reviewer = review.get("reviewer_id", MISSING) if isinstance(review, dict) else MISSING
        if reviewer not in seen:
            expected = reviewer_pseudonym(len(seen) + 1)
            if reviewer != expected:
                return Difference(
                    f"$.inputs.reviews[{index}].reviewer_id",
                    expected,
                    reviewer,
                    "reviewers appear as pseudonyms 1..n in order of first appearance",
                )
            seen[reviewer] = len(seen) + 1
    return None
