"""Canonical JSON: one byte string per value, so hashes are reproducible by anyone."""

import json
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from enum import Enum
from typing import Any


def rfc3339(value: datetime) -> str:
    """UTC, microseconds always present, ``Z`` suffix."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return rfc3339(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, set | frozenset):
        return sorted(value)
    raise TypeError(f"not canonically serializable: {type(value).__name__}")


def canonical_json(value: Any) -> bytes:
    """Sorted keys, no insignificant white space, UTF-8."""
    return json.dumps(
        value, default=_default, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    ).encode()


def jsonable(value: Any) -> Any:
    """The plain-JSON form of ``value`` (what ``canonical_json`` hashes)."""
    return json.loads(canonical_json(value))
