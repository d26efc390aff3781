"""Text affinity in the background: once a round's seal lifts (it is in review, past the
deadline plus grace), its applications' documents are read from the blob store and their text
compared with the panel's profiles (``reviewers.affinity.store_text_affinity``).

It needs no queue: the rounds are the queue. A pass looks for rounds in review with ``text``
affinity whose stored scores are missing or stale (their fingerprint of panel, profiles,
applications and documents differs), and computes each. It runs inside each API process (as
the SQLite scans do), on both databases; a pass starts when review starts (``notify``) and every
``interval`` seconds. Two processes computing the same round write the same rows: the round's
row lock orders them and the second replaces the first.
"""

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import datetime

import anyio
import anyio.to_thread
import structlog
from sqlalchemy.engine import Engine

from infra.db import open_session, session_scope
from models.reviewers import AffinityComputation
from reviewers.affinity import (
    TextInputs,
    rounds_needing_text_affinity,
    store_text_affinity,
    text_inputs,
)
from reviewers.document_text import MAX_DOCUMENT_BYTES, document_text
from reviewers.pool import load_round
from submissions.blobs import BlobStore

log = structlog.get_logger("shortlist.affinity")


class AffinityWorker:
    def __init__(
        self,
        *,
        engine: Engine,
        store: BlobStore,
        clock: Callable[[], datetime],
        interval: float = 60.0,
    ) -> None:
        self.engine = engine
        self.store = store
        self.clock = clock
        self.interval = interval
        self._wake: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def notify(self) -> None:
        """A round may have become due (review started): look now. Callable from any thread."""
        if self._wake is not None and self._loop is not None:
            self._loop.call_soon_threadsafe(self._wake.set)

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """Compute in the background while the context lasts (the app's lifespan)."""
        self._wake = asyncio.Event()
        self._loop = asyncio.get_running_loop()
        task = asyncio.create_task(self.run(self._wake), name="text-affinity")
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            self._wake = self._loop = None

    async def run(self, wake: asyncio.Event) -> None:
        while True:
            wake.clear()
            try:
                await self.compute_due()
            except Exception:
                log.exception("affinity.pass_failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), self.interval)

    async def compute_due(self) -> list[uuid.UUID]:
        """One pass: compute every round that is due; the rounds computed."""

        def due() -> list[uuid.UUID]:
            session = open_session(self.engine)
            try:
                return rounds_needing_text_affinity(session=session, now=self.clock())
            finally:
                session.close()

        rounds = await anyio.to_thread.run_sync(due)
        for round_id in rounds:
            await self.compute(round_id)
        return rounds

    async def compute(self, round_id: uuid.UUID) -> AffinityComputation:
        """Compute and store one round's text affinity. Refused (``Conflict``, nothing read,
        nothing stored) while the round's bids are sealed."""

        def inputs() -> TextInputs:
            session = open_session(self.engine)
            try:
                round_ = load_round(session=session, round_id=round_id)
                return text_inputs(session=session, round_=round_, now=self.clock())
            finally:
                session.close()

        loaded = await anyio.to_thread.run_sync(inputs)
        texts: dict[uuid.UUID, list[str]] = {}
        for application_id, document in loaded.documents:
            if document.size > MAX_DOCUMENT_BYTES:
                continue
            try:
                data = b"".join(
                    [chunk async for chunk in await self.store.read(document.storage_key)]
                )
            except Exception as exc:  # a missing blob costs its text, not the round's affinity
                log.warning(
                    "affinity.document_unreadable", document_id=str(document.id), error=str(exc)
                )
                continue
            text = await anyio.to_thread.run_sync(document_text, data, document.content_type)
            if text:
                texts.setdefault(application_id, []).append(text)

        def store() -> AffinityComputation:
            with session_scope(self.engine) as session:
                return store_text_affinity(
                    session=session, inputs=loaded, document_texts=texts, now=self.clock()
                )

        computation = await anyio.to_thread.run_sync(store)
        log.info("affinity.computed", round_id=str(round_id), pairs=computation.pairs)
        return computation
