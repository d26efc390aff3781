"""Keyset pagination over any ``select(Model)``: pages are ordered by a unique key tuple (such as
``(created_at, id)``) and continue strictly after the last key seen, so rows inserted or deleted
meanwhile never shift a page. The cursor is that key, opaque to clients."""

import base64
import binascii
import json
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.orm import InstrumentedAttribute
from sqlmodel import Session
from sqlmodel.sql.expression import SelectOfScalar

from models.base import UTCDateTime
from models.errors import Unprocessable
from models.pagination import Page, PageRequest
from submissions.canonical import canonical_json

T = TypeVar("T")
U = TypeVar("U")

KeyColumn = InstrumentedAttribute[Any]


def _invalid_cursor(reason: str) -> Unprocessable:
    return Unprocessable(
        f"the cursor is not valid: {reason}; start again without one",
        type="invalid-cursor",
        errors=[{"loc": ["query", "cursor"], "msg": reason}],
    )


def encode_cursor(values: Sequence[Any]) -> str:
    return base64.urlsafe_b64encode(canonical_json(list(values))).rstrip(b"=").decode()


def _parse(column: KeyColumn, raw: Any) -> Any:
    column_type = column.expression.type
    if isinstance(column_type, UTCDateTime):
        return datetime.fromisoformat(str(raw))
    if isinstance(column_type, sa.Uuid):
        return uuid.UUID(str(raw))
    if isinstance(column_type, sa.Integer):
        if not isinstance(raw, int) or isinstance(raw, bool):
            raise ValueError("not an integer")
        return raw
    if not isinstance(raw, str):
        raise ValueError("not a string")
    return raw


def decode_cursor(cursor: str, keys: Sequence[KeyColumn]) -> list[Any]:
    try:
        raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise _invalid_cursor("malformed") from exc
    if not isinstance(raw, list) or len(raw) != len(keys):
        raise _invalid_cursor("it belongs to another list")
    try:
        return [_parse(key, value) for key, value in zip(keys, raw, strict=True)]
    except (TypeError, ValueError) as exc:
        raise _invalid_cursor("it belongs to another list") from exc


def _after(keys: Sequence[KeyColumn], values: Sequence[Any], descending: bool) -> Any:
    """``keys > values`` in tuple order, spelled out (row values compare unevenly across
    databases and lose the columns' bind types)."""
    key, value = keys[0], values[0]
    beyond = key < value if descending else key > value
    if len(keys) == 1:
        return beyond
    return sa.or_(beyond, sa.and_(key == value, _after(keys[1:], values[1:], descending)))


def keyset_page(
    session: Session,
    statement: SelectOfScalar[T],
    *,
    keys: Sequence[KeyColumn],
    page: PageRequest,
    descending: bool = False,
) -> tuple[list[T], str | None]:
    """One page of ``statement``'s rows ordered by ``keys`` (which must identify a row), and the
    cursor of the next page (``None`` on the last)."""
    if page.cursor is not None:
        statement = statement.where(_after(keys, decode_cursor(page.cursor, keys), descending))
    order = [key.desc() if descending else key.asc() for key in keys]
    rows = list(session.exec(statement.order_by(*order).limit(page.limit + 1)).all())
    if len(rows) <= page.limit:
        return rows, None
    rows = rows[: page.limit]
    return rows, encode_cursor([getattr(rows[-1], key.key) for key in keys])


def paginate(
    session: Session,
    statement: SelectOfScalar[T],
    *,
    keys: Sequence[KeyColumn],
    page: PageRequest,
    present: Callable[[list[T]], list[U]],
    descending: bool = False,
) -> Page[U]:
    """A ``Page`` of public items: ``present`` turns the page's rows into them (in bulk, so a
    page costs a fixed number of queries)."""
    rows, next_cursor = keyset_page(session, statement, keys=keys, page=page, descending=descending)
    return Page[U](items=present(rows), next_cursor=next_cursor)
