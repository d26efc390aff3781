"""Keyset pagination: what a list request asks for and what a list answers."""

from dataclasses import dataclass
from typing import Generic, TypeVar

from pydantic import BaseModel

T = TypeVar("T")

DEFAULT_LIMIT = 50
MAX_LIMIT = 100


@dataclass(frozen=True, slots=True)
class PageRequest:
    """``limit`` items after the position an opaque ``cursor`` names (the start when ``None``)."""

    limit: int = DEFAULT_LIMIT
    cursor: str | None = None


class Page(BaseModel, Generic[T]):
    """One page of a list; ``next_cursor`` is ``None`` on the last page."""

    items: list[T]
    next_cursor: str | None
