"""Stored responses of requests sent with an ``Idempotency-Key``."""

import uuid
from datetime import datetime
from typing import Any

from sqlmodel import Field, SQLModel

from models.base import json_column, new_id, utc_column


class IdempotencyRecord(SQLModel, table=True):
    """The first successful response to a key, replayed for the same key and request.

    ``scope_sha256`` hashes (user, client, method, path, key): keys are private to a caller and a
    path. The row is written in the same transaction as the effect it records.
    """

    __tablename__ = "idempotency_record"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    scope_sha256: str = Field(max_length=64, unique=True)
    user_id: uuid.UUID = Field(index=True)
    client_id: str = Field(max_length=100)
    method: str = Field(max_length=10)
    path: str = Field(max_length=2000)
    key: str = Field(max_length=255)
    request_sha256: str = Field(max_length=64)
    status_code: int
    response_body: Any = Field(default=None, sa_column=json_column(nullable=True))
    response_headers: dict[str, str] = Field(default_factory=dict, sa_column=json_column())
    created_at: datetime = Field(sa_column=utc_column())
    expires_at: datetime = Field(sa_column=utc_column(index=True))
