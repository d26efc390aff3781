"""Rate limits per client: fixed windows counted in memory (one process, the embedded default)
or in Redis (``SHORTLIST_REDIS_URL``), so that N processes share one budget."""

import math
import threading
import time
from collections.abc import Callable
from typing import Protocol

import structlog

from models.errors import DomainError

log = structlog.get_logger("shortlist.ratelimit")


class RateLimited(DomainError):
    status = 429
    type = "rate-limited"
    title = "Too Many Requests"

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            f"too many requests; retry after {retry_after} s",
            headers={"Retry-After": str(retry_after)},
        )


class RateLimiter(Protocol):
    def hit(self, key: str, *, limit: int, window: int) -> int:
        """Count one request; 0 when allowed, else the seconds until the window resets."""


class MemoryRateLimiter:
    def __init__(self, *, clock: Callable[[], float] | None = None) -> None:
        self._clock = clock or time.monotonic
        self._lock = threading.Lock()
        self._windows: dict[str, tuple[int, int]] = {}

    def hit(self, key: str, *, limit: int, window: int) -> int:
        now = self._clock()
        slot = int(now // window)
        with self._lock:
            if len(self._windows) > 100_000:
                self._windows = {k: v for k, v in self._windows.items() if v[0] == slot}
            current_slot, count = self._windows.get(key, (slot, 0))
            if current_slot != slot:
                count = 0
            count += 1
            self._windows[key] = (slot, count)
        if count <= limit:
            return 0
        return max(1, math.ceil((slot + 1) * window - now))


class RedisRateLimiter:
    def __init__(self, url: str) -> None:
        import redis

        self._redis = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        self._errors: tuple[type[Exception], ...] = (redis.RedisError, OSError)

    def hit(self, key: str, *, limit: int, window: int) -> int:
        now = time.time()
        slot = int(now // window)
        name = f"shortlist:rl:{key}:{slot}"
        try:
            pipe = self._redis.pipeline()
            pipe.incr(name)
            pipe.expire(name, window + 1)
            count = int(pipe.execute()[0])
        except self._errors:
            # A limiter outage must not take the service down: fail open, loudly.
            log.warning("rate_limiter_unavailable", key=key)
            return 0
        if count <= limit:
            return 0
        return max(1, math.ceil((slot + 1) * window - now))


def make_rate_limiter(redis_url: str | None) -> RateLimiter:
    return RedisRateLimiter(redis_url) if redis_url else MemoryRateLimiter()


def enforce(limiter: RateLimiter, key: str, *, limit: int, window: int = 60) -> None:
    """Raise 429 with ``Retry-After`` when ``key`` is over ``limit`` requests per ``window``."""
    if limit <= 0:
        return
    retry_after = limiter.hit(key, limit=limit, window=window)
    if retry_after:
        raise RateLimited(retry_after)
