"""What the health routes report: whether every configured dependency answers (readiness), and
the metrics page with the rule of who may read it. The routes in ``api/routes/health.py`` only
turn these answers into HTTP."""

import hmac
import ipaddress
import shutil
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Literal

import anyio
from pydantic import SecretStr
from sqlalchemy.engine import Engine

from infra.db import LoopReader, ping
from infra.metrics import exposition, read_database_figures
from infra.outage import Dependency
from infra.settings import Settings

CHECK_TIMEOUT = 5.0  # seconds, for each dependency (they are checked at the same time)

Check = Literal["ok", "unreachable", "full"]


async def _check(
    name: str, work: Callable[[], Awaitable[Check | None]], out: dict[str, Check]
) -> None:
    try:
        with anyio.fail_after(CHECK_TIMEOUT):
            out[name] = await work() or "ok"
    except Exception:
        out[name] = "unreachable"


async def check_readiness(
    *,
    engine: Engine,
    reader: LoopReader | None,
    outages: Sequence[Dependency],
    settings: Settings,
    rate_limiter: Any,
    scanner: Any,
    blob_store: Any | None,
) -> dict[str, Check]:
    """Each configured dependency by name (database, redis, scanner, storage), checked at the
    same time, each within ``CHECK_TIMEOUT``: ``ok``, ``unreachable``, or ``full`` for a local
    blob store with less than ``storage_min_free_bytes`` free. A database found down is
    reported to ``outages``, so that the edge answers 503 until its probe finds it back."""
    checks: dict[str, Check] = {}

    async def database() -> None:
        # Every pool: the sessions' engine, and the reader's (its asynchronous pool).
        try:
            await anyio.to_thread.run_sync(ping, engine)
        except Exception as exc:
            for dependency in outages:
                dependency.failed(exc)  # the edge answers 503 until its probe succeeds
            raise
        if reader is not None:
            await reader.ping()

    async def redis() -> None:
        await anyio.to_thread.run_sync(rate_limiter.ping)

    async def scan() -> None:
        await scanner.ping()

    async def storage() -> Check | None:
        assert blob_store is not None
        await blob_store.ping()
        root = getattr(blob_store, "root", None)
        if root is not None:
            free = (await anyio.to_thread.run_sync(shutil.disk_usage, root)).free
            if free < settings.storage_min_free_bytes:
                return "full"
        return None

    async with anyio.create_task_group() as group:
        group.start_soon(_check, "database", database, checks)
        if settings.redis_url:
            group.start_soon(_check, "redis", redis, checks)
        if getattr(scanner, "deferred", False):
            group.start_soon(_check, "scanner", scan, checks)
        if blob_store is not None:
            group.start_soon(_check, "storage", storage, checks)
    return dict(sorted(checks.items()))


MetricsRefusal = Literal["off", "unauthorized"]
"""``off``: not on loopback and no metrics token is set (answered as if there were no such
page); ``unauthorized``: not on loopback, and the metrics token was not given."""


def _loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


async def metrics_page(
    *, engine: Engine, client_host: str, authorization: str, token: SecretStr | None
) -> bytes | MetricsRefusal:
    """The metrics in Prometheus' text format, or why the caller may not read them: open on
    loopback (the peer's address, never a forwarding header), elsewhere only with
    ``Authorization: Bearer <token>``, and off while no token is set. While the database is
    down its figures are left out and the rest is served."""
    if not _loopback(client_host):
        if token is None:
            return "off"
        scheme, _, given = authorization.partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            given.strip().encode(), token.get_secret_value().encode()
        ):
            return "unauthorized"
    try:
        figures = await anyio.to_thread.run_sync(read_database_figures, engine)
    except Exception:
        figures = None
    return await anyio.to_thread.run_sync(exposition, figures)
