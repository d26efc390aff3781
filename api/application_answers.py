"""The answers of ``GET /api/v1/applications/{id}`` remembered by this process, given again only
while the database says nothing they show has changed (issue 18).

An answer (its JSON body and entity tag, as the route serializes them) is remembered per
application and caller: the user, and their roles, which decide what they may see (an admin's
raw status, a reviewer's blind view). Before it is given again, one point read
(``APPLICATION_READ_STAMP``) asks for the application's ``read_stamp``, which database triggers
bump on every write to anything the answer shows (migrations ``0012_rcache``, and
``0013_rtrunc`` for PostgreSQL's ``TRUNCATE``, which fires no row trigger: the application, its
round's status, deadline, grace and blindness, its organizations and their names, its
receipts, its organizations' members, its assignments), whatever the write path. The same stamp:
the same rows, so the same answer; another: the full read, whose rows carry the stamp of their
own snapshot. Nothing is trusted for a while: a write committed through any process is seen by
the very next read in every process, as without the cache. The one answer that depends on the
time, sealed or not, is given again only on the same side of the round's closing time.

A bounded LRU of ``size`` entries per process (no cache server); ``size = 0`` turns it off.
"""

import uuid
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime

from pydantic import TypeAdapter
from starlette.responses import Response

from models.applications import ApplicationPublic, ApplicationSealed, ApplicationView

Key = tuple[uuid.UUID, uuid.UUID, frozenset[str]]
"""(application, user, the user's roles): everything of the caller the answer depends on (the
scopes are checked before, and the client does not change what a user sees)."""

_DUMPS = {
    member: TypeAdapter(member).dump_json for member in (ApplicationPublic, ApplicationSealed)
}


class Answer(Response):
    """The JSON answer as the route's own serialization sends it (the lean path's headers, in its
    order: length, type, then the entity tag), made without Starlette's header set-up."""

    def __init__(self, body: bytes, etag: bytes | None) -> None:
        self.body = body
        self.status_code = 200
        self.background = None
        self.raw_headers = [
            (b"content-length", str(len(body)).encode()),
            (b"content-type", b"application/json"),
        ]
        if etag is not None:
            self.raw_headers.append((b"etag", etag))


@dataclass(frozen=True, slots=True)
class Remembered:
    read_stamp: int
    close_at: datetime
    sealed: bool
    """``now <= close_at`` when it was read: the answer holds while that stays so."""
    body: bytes
    etag: bytes | None

    def answer(self) -> Answer:
        return Answer(self.body, self.etag)


def serialize(view: ApplicationView) -> bytes:
    """The body the route sends for ``view`` (its response model's serializer, by alias, as
    FastAPI's and the lean path's)."""
    return _DUMPS[type(view)](view, by_alias=True)


class ApplicationAnswers:
    """Answers by ``Key``, the least recently used forgotten beyond ``size``."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.hits = 0
        """Answers given again (their stamp unchanged)."""
        self._entries: OrderedDict[Key, Remembered] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: Key, now: datetime) -> Remembered | None:
        """The answer remembered for ``key`` if ``now`` is on the side of the closing time it
        was read on (its stamp still to be checked)."""
        found = self._entries.get(key)
        if found is None or (now <= found.close_at) is not found.sealed:
            return None
        self._entries.move_to_end(key)
        return found

    def put(self, key: Key, remembered: Remembered) -> None:
        entries = self._entries
        entries[key] = remembered
        entries.move_to_end(key)
        if len(entries) > self.size:
            entries.popitem(last=False)

    def forget(self, key: Key) -> None:
        self._entries.pop(key, None)
