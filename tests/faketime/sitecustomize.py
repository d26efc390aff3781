"""Loaded by every Python process of ``make test-faketime`` (its PYTHONPATH names this directory):
the test runner, its xdist workers and the servers the tests start.

Python 3.11's ``time.sleep`` waits until an absolute deadline of the monotonic clock
(``clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME)``), and libfaketime 0.9.10 (Debian 12's) moves
that deadline by the faked offset even when the monotonic clock is not faked
(``FAKETIME_DONT_FAKE_MONOTONIC=1``): every sleep fails with EINVAL. A relative wait is not
moved, so under libfaketime ``time.sleep`` waits that way. Nothing changes without libfaketime.
"""

import os
import select
import time
from typing import SupportsIndex


def sleep_relative(secs: float | SupportsIndex) -> None:
    """``time.sleep(secs)`` as a relative wait (``select`` resumes it after a signal)."""
    seconds = float(secs)
    if seconds < 0:
        raise ValueError("sleep length must be non-negative")
    select.select([], [], [], seconds)


if "libfaketime" in os.environ.get("LD_PRELOAD", ""):
    time.sleep = sleep_relative
