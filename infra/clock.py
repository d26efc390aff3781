"""The wall clock, read in one place (tests give the app a clock of their own)."""

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    """The server clock: the only clock that decides anything."""
    return datetime.now(UTC)
