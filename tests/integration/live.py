"""The app served for real (uvicorn on a free loopback port, in a thread) and calls raced
against it, each in its own thread and HTTP client."""

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import httpx
import uvicorn
from fastapi import FastAPI

Call = Callable[[httpx.Client], httpx.Response]


@contextmanager
def served(app: FastAPI, *, lifespan: bool = False) -> Iterator[str]:
    """The app served by uvicorn on a free port, in a background thread: its base URL. With
    ``lifespan``, its background work (the in-process job loop: webhooks, mail) runs too."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(
            app, lifespan="on" if lifespan else "off", log_level="warning", access_log=False
        )
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started:
            assert time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.01)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def race(
    base_url: str,
    calls: list[Call],
    *,
    delays: list[float] | None = None,
    on_release: Callable[[], None] | None = None,
    timeout: float = 60,
) -> list[httpx.Response]:
    """Every call in its own thread and client, released together by a barrier (then each
    after its delay, if given); ``on_release`` runs once, at the moment of release. Each
    request may take ``timeout`` seconds, each thread twice that."""
    barrier = threading.Barrier(len(calls), action=on_release)
    released: list[float] = []
    results: list[httpx.Response | BaseException | None] = [None] * len(calls)

    def run(index: int, call: Call) -> None:
        with httpx.Client(base_url=base_url, timeout=timeout) as client:
            barrier.wait()
            if delays is not None:
                if not released:
                    released.append(time.monotonic())
                time.sleep(max(0.0, released[0] + delays[index] - time.monotonic()))
            try:
                results[index] = call(client)
            except BaseException as exc:  # reported below
                results[index] = exc

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=2 * timeout)
    responses: list[httpx.Response] = []
    for result in results:
        assert isinstance(result, httpx.Response), results
        responses.append(result)
    return responses
