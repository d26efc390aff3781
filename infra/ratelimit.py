"""Rate limits per client with GCRA (the generic cell rate algorithm, a token bucket kept as one
timestamp per key): ``limit`` requests may arrive at once, then one every ``window / limit``
seconds. Unlike fixed windows, a burst cannot slip through because it straddles a window's
edge, and a refusal says exactly when the next request will be accepted.

Counted in memory (one process, the embedded default) or in Redis (``SHORTLIST_REDIS_URL``), so
that N processes share one budget; Redis evaluates the rule atomically with its own clock."""

import math
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

import structlog

from infra.metrics import RATE_LIMITED
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
        """Count one request; 0 when allowed, else the whole seconds until one will be."""


def _gcra(tat: float, now: float, *, limit: int, window: float) -> tuple[float | None, float]:
    """One GCRA step: (the new theoretical arrival time, or None when refused; seconds to wait)."""
    new_tat = max(tat, now) + window / limit
    wait = new_tat - window - now
    if wait > 0:
        return None, wait
    return new_tat, 0.0


class MemoryRateLimiter:
    def __init__(self, *, clock: Callable[[], float] | None = None) -> None:
        self._clock = clock or time.monotonic
        self._lock = threading.Lock()
        self._tats: dict[str, float] = {}

    def hit(self, key: str, *, limit: int, window: int) -> int:
        now = self._clock()
        with self._lock:
            if len(self._tats) > 100_000:
                # Keys whose bucket has refilled carry no information.
                self._tats = {k: tat for k, tat in self._tats.items() if tat > now}
            new_tat, wait = _gcra(self._tats.get(key, now), now, limit=limit, window=window)
            if new_tat is not None:
                self._tats[key] = new_tat
        return max(1, math.ceil(wait)) if wait > 0 else 0


# KEYS[1]: the key; ARGV: limit, window in ms. Returns the ms to wait (0: allowed).
_GCRA_SCRIPT = """
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local new_tat = tat + window / limit
local wait = new_tat - window - now
if wait > 0 then return math.ceil(wait) end
redis.call('SET', KEYS[1], tostring(new_tat), 'PX', math.ceil(new_tat - now) + 1)
return 0
"""


class CircuitBreaker:
    """Open for ``cooldown`` seconds after a failure: while open, callers skip the dependency
    at once instead of each waiting for its timeout; then one call tries it again (and a
    failure opens it again). One log line as it opens, one as it closes."""

    def __init__(
        self, name: str, *, cooldown: float = 5.0, clock: Callable[[], float] | None = None
    ) -> None:
        self.name = name
        self.cooldown = cooldown
        self._clock = clock or time.monotonic
        self._lock = threading.Lock()
        self._open_until: float | None = None
        self._trying = False

    @property
    def is_open(self) -> bool:
        return self._open_until is not None

    def allows(self) -> bool:
        """Whether to call the dependency now (closed, or open and due for one trial)."""
        open_until = self._open_until
        if open_until is None:
            return True
        with self._lock:
            if self._trying or self._clock() < open_until:
                return False
            self._trying = True
            return True

    def succeeded(self) -> None:
        if self._open_until is None:
            return
        with self._lock:
            self._open_until, self._trying = None, False
        log.info("dependency_up", dependency=self.name)

    def failed(self, exc: BaseException) -> None:
        with self._lock:
            was_open = self._open_until is not None
            self._open_until, self._trying = self._clock() + self.cooldown, False
        if not was_open:
            log.error("dependency_down", dependency=self.name, error_type=type(exc).__name__)


class RedisRateLimiter:
    """Counts in Redis. While Redis is down the limits fail open (a limiter outage must not take
    the service down), and a circuit breaker keeps requests from waiting for Redis' timeout
    one by one: it is tried again every ``cooldown`` seconds."""

    def __init__(
        self, url: str, *, cooldown: float = 5.0, clock: Callable[[], float] | None = None
    ) -> None:
        import redis

        self._redis = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        self._script: Any = self._redis.register_script(_GCRA_SCRIPT)
        self._errors: tuple[type[Exception], ...] = (redis.RedisError, OSError)
        self.breaker = CircuitBreaker("redis", cooldown=cooldown, clock=clock)

    def hit(self, key: str, *, limit: int, window: int) -> int:
        if not self.breaker.allows():
            return 0
        try:
            wait_ms = int(self._script(keys=[f"shortlist:rl:{key}"], args=[limit, window * 1000]))
        except self._errors as exc:
            self.breaker.failed(exc)
            return 0
        self.breaker.succeeded()
        return max(1, math.ceil(wait_ms / 1000)) if wait_ms > 0 else 0

    def ping(self) -> None:
        """Raise unless Redis answers (for /readyz: the breaker is not consulted)."""
        self._redis.ping()


def make_rate_limiter(redis_url: str | None) -> RateLimiter:
    return RedisRateLimiter(redis_url) if redis_url else MemoryRateLimiter()


def enforce(limiter: RateLimiter, key: str, *, limit: int, window: int = 60) -> None:
    """Raise 429 with ``Retry-After`` when ``key`` is over ``limit`` requests per ``window``."""
    if limit <= 0:
        return
    retry_after = limiter.hit(key, limit=limit, window=window)
    if retry_after:
        RATE_LIMITED.labels(key.partition(":")[0] or "other").inc()
        raise RateLimited(retry_after)
