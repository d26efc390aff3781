"""Dependency aliases: the session, the clock and the settings every route receives."""

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.engine import Engine
from sqlmodel import Session

from identity.oauth.keys import BuiltinKeys
from infra.clock import Clock
from infra.db import open_session
from infra.settings import Settings

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


# The cheap dependencies are ``async`` so that FastAPI runs them on the event loop instead of
# a threadpool hop each.


async def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_engine(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


async def get_session(request: Request) -> AsyncIterator[Session]:
    """One session per request; the route commits once, anything uncommitted is rolled back.
    Opening is free (the connection is taken on first use, in the route's thread)."""
    session = open_session(request.app.state.engine, write=request.method in WRITE_METHODS)
    try:
        yield session
    finally:
        session.close()


async def get_now(request: Request) -> datetime:
    clock: Clock = request.app.state.clock
    return clock()


def get_signing_keys(request: Request) -> BuiltinKeys:
    """The service's signing keys, loaded (on a fresh database: created) before the request's
    session opens: on SQLite a writing request holds the database lock, which the key loader
    would wait for."""
    keys: BuiltinKeys = request.app.state.keys
    keys.snapshot()
    return keys


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
EngineDep = Annotated[Engine, Depends(get_engine)]
SessionDep = Annotated[Session, Depends(get_session)]
NowDep = Annotated[datetime, Depends(get_now)]
SigningKeysDep = Annotated[BuiltinKeys, Depends(get_signing_keys)]
