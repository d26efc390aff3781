"""Inserts that a unique constraint may refuse under concurrency: the loser gets a domain
conflict (409), never a 500, and the session stays usable."""

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, SQLModel

from models.errors import DomainError


def add_unique(session: Session, *rows: SQLModel, conflict: DomainError) -> None:
    """Add and flush ``rows`` in a savepoint; raise ``conflict`` if a constraint refuses them
    (after waiting, on PostgreSQL, for a concurrent transaction holding the same key)."""
    try:
        with session.begin_nested():
            session.add_all(rows)
            session.flush()
    except IntegrityError as exc:
        raise conflict from exc
