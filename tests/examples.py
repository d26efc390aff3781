"""How many examples a property test runs.

A property test names the examples a thorough run needs: ``@settings(max_examples=examples(N))``.
The thorough run is hypothesis's ``ci`` profile (``SHORTLIST_HYPOTHESIS_PROFILE=ci``), which CI's
main pass sets; every other run (``make test`` here, CI's PostgreSQL and shifted-clock passes)
takes a quarter of it, at least ``FLOOR``. The pure cores these tests drive read neither the
database nor the clock, so one thorough pass finds what four would. Tests that state no count
follow the profile's default (100 thorough, 25 otherwise). Registered in ``tests/conftest.py``.
"""

import os

import hypothesis

PROFILE_ENV = "SHORTLIST_HYPOTHESIS_PROFILE"
THOROUGH = "ci"
QUICK = "dev"
FLOOR = 10
PROFILE = os.environ.get(PROFILE_ENV) or QUICK


def register_profiles() -> None:
    hypothesis.settings.register_profile(THOROUGH, max_examples=100)
    hypothesis.settings.register_profile(QUICK, max_examples=25)
    if PROFILE not in (THOROUGH, QUICK):
        raise ValueError(f"{PROFILE_ENV} is {THOROUGH!r} or {QUICK!r}, not {PROFILE!r}")
    hypothesis.settings.load_profile(PROFILE)


def examples(thorough: int) -> int:
    """``thorough`` in the thorough run, else a quarter of it (at least ``FLOOR``)."""
    return thorough if PROFILE == THOROUGH else min(thorough, max(FLOOR, thorough // 4))
