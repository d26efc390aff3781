"""A Redis that stops answering: rate limits fail open, and a circuit breaker keeps requests
from each waiting for Redis' timeout; Redis is tried again once per cooldown, and its return
closes the breaker. One log line as it goes, one as it comes back."""

import socket
import threading
from collections.abc import Iterator

import pytest

from infra.ratelimit import RedisRateLimiter
from tests.factories import RecordedLog


class BlackHole:
    """A TCP server that accepts connections and never answers: the worst outage (each call
    waits for its timeout), counting the connections it took."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.accepted: list[socket.socket] = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self.sock.accept()
            except OSError:
                return
            self.accepted.append(connection)

    def close(self) -> None:
        self.sock.close()
        for connection in self.accepted:
            connection.close()


@pytest.fixture
def hole() -> Iterator[BlackHole]:
    found = BlackHole()
    yield found
    found.close()


def test_the_breaker_spares_requests_the_timeout(
    hole: BlackHole, monkeypatch: pytest.MonkeyPatch
) -> None:
    logs = RecordedLog()
    monkeypatch.setattr("infra.ratelimit.log", logs)
    now = [0.0]
    limiter = RedisRateLimiter(
        f"redis://127.0.0.1:{hole.port}/0", cooldown=5.0, clock=lambda: now[0]
    )
    assert limiter.hit("write:a", limit=1, window=60) == 0  # waited once: fails open
    tried = len(hole.accepted)
    assert tried >= 1
    for _ in range(50):  # while open: not one more attempt on Redis
        assert limiter.hit("write:a", limit=1, window=60) == 0
    assert len(hole.accepted) == tried
    assert limiter.breaker.is_open
    now[0] = 5.1  # the cooldown passed: one trial, which fails and reopens the breaker
    assert limiter.hit("write:a", limit=1, window=60) == 0
    assert len(hole.accepted) > tried
    tried = len(hole.accepted)
    assert limiter.hit("write:a", limit=1, window=60) == 0
    assert len(hole.accepted) == tried
    downs = [line for line in logs.lines if line["event"] == "dependency_down"]
    assert len(downs) == 1
    assert downs[0]["dependency"] == "redis"


def test_redis_back_closes_the_breaker(redis_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    logs = RecordedLog()
    monkeypatch.setattr("infra.ratelimit.log", logs)
    now = [0.0]
    limiter = RedisRateLimiter(redis_url, cooldown=5.0, clock=lambda: now[0])
    key = f"write:{threading.get_ident()}-{id(limiter)}"
    limiter.breaker.failed(ConnectionError("as if Redis had gone"))
    assert limiter.hit(key, limit=1, window=60) == 0  # open: not counted
    now[0] = 6.0
    assert logs.events == ["dependency_down"]
    assert limiter.hit(key, limit=1, window=60) == 0  # the trial: counted, allowed
    assert not limiter.breaker.is_open
    assert logs.events == ["dependency_down", "dependency_up"]
    assert limiter.hit(key, limit=1, window=60) > 0  # counted in Redis again: refused
