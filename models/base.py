"""Shared column types, the metadata naming convention and small helpers for every table."""

import uuid
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from pydantic import ConfigDict, field_validator
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Dialect
from sqlmodel import SQLModel

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = SQLModel.metadata
metadata.naming_convention = NAMING_CONVENTION


class UTCDateTime(sa.types.TypeDecorator[datetime]):
    """A timestamp that is always timezone-aware UTC in Python, whatever the database keeps."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are refused: the server clock is UTC-aware")
        value = value.astimezone(UTC)
        # SQLite keeps text; storing naive UTC keeps its ordering lexicographic.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, _dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def contains_nul(value: Any) -> bool:
    """Whether a value holds a NUL character anywhere (PostgreSQL text cannot store one)."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(contains_nul(k) or contains_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple | set | frozenset):
        return any(contains_nul(v) for v in value)
    return False


class InputModel(SQLModel):
    """Base of every request body: unknown or read-only fields are refused (422), never ignored;
    so is text with a NUL character, which no database column could keep, and a number that is
    not finite (NaN, infinities) in any float field, nested ones included."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)  # type: ignore[assignment]

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        if contains_nul(value):
            raise ValueError("text may not contain NUL characters")
        return value


def new_id() -> uuid.UUID:
    return uuid.uuid4()


def utc_column(**kwargs: Any) -> Any:
    """A non-null UTC timestamp column."""
    return sa.Column(UTCDateTime(), nullable=kwargs.pop("nullable", False), **kwargs)


class JSONDocument(sa.types.TypeDecorator[Any]):
    """JSON, stored as JSONB on PostgreSQL."""

    impl = sa.JSON()
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> sa.types.TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(postgresql.JSONB())
        return dialect.type_descriptor(sa.JSON())


def json_column(**kwargs: Any) -> Any:
    """A non-null JSON column."""
    return sa.Column(JSONDocument(), nullable=kwargs.pop("nullable", False), **kwargs)


class JSONText(sa.types.TypeDecorator[Any]):
    """JSON kept as the very text it was given: PostgreSQL's ``json`` (checked, not converted
    as ``jsonb`` is), text on SQLite. For documents stored to be hashed and re-read, such as a
    round's canonical inputs and result: given their canonical JSON, the stored bytes are the
    hashed bytes, and the database does not rebuild megabytes of it in a binary form."""

    impl = sa.JSON()
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> sa.types.TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(postgresql.JSON())
        return dialect.type_descriptor(sa.JSON())


def json_text_column(**kwargs: Any) -> Any:
    """A non-null JSON column that keeps its text (``JSONText``)."""
    return sa.Column(JSONText(), nullable=kwargs.pop("nullable", False), **kwargs)
