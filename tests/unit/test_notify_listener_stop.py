"""Stopping the ``LISTEN`` thread from the lifespan does not block the event loop: its thread
may take a ``notifies`` poll (half a second) to notice, and the loop serves its other tasks
meanwhile (``NotifyListener.aclose``; ``stop`` joined the thread on the loop)."""

import asyncio
import threading

import pytest

from infra.events import EventSignal, NotifyListener

URL = "postgresql+psycopg://nobody@127.0.0.1:1/none"  # never connected to


def test_stopping_the_listener_lets_the_loop_run_other_tasks(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    listener = NotifyListener(URL, EventSignal())
    stopping = threading.Event()
    released = threading.Event()

    def run() -> None:
        # As the real thread inside ``notifies``: it ends some time after the stop, here only
        # once the event loop has served another task meanwhile.
        listener._stop.wait()
        stopping.set()
        released.wait(timeout=30)

    monkeypatch.setattr(listener, "_run", run)
    listener.start()
    thread = listener._thread
    assert thread is not None

    async def main() -> int:
        ticks = 0

        async def other_task() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0)
                if stopping.is_set():
                    ticks += 1
                    released.set()

        other = asyncio.create_task(other_task())
        await asyncio.sleep(0)
        await listener.aclose()
        other.cancel()
        return ticks

    ticks = asyncio.run(asyncio.wait_for(main(), 30))
    assert ticks >= 1  # the loop ran the other task while the listener stopped
    assert not thread.is_alive()
