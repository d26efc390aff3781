"""Hot reads without the per-statement cost of SQLAlchemy's execution machinery.

The domain and identity declare their hot reads as plain selects; ``prepared(select)`` is the
one way in (the event-loop reader, ``infra.db.LoopReader.fetch``, takes a select and runs it
through here). Measured in docs/speed.md.

A ``Prepared`` select is compiled once per dialect; each run passes its parameters through the
column types' own bind processors, executes on the DBAPI cursor of the given connection (so in
its transaction, if any) and passes each value through the types' own result processors: the
same values SQLAlchemy would give, for a fraction of the CPU time (on a 2-core machine an
indexed point read cost more in SQLAlchemy's execution context and result set than in SQLite).
Only for a few statements on the hottest paths; everything else uses sessions as usual."""

import uuid
from collections import namedtuple
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

from models.base import UTCDateTime

Processor = Callable[[Any], Any] | None


def _sqlite_uuid(fallback: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """SQLite keeps a UUID as its 32 hex digits: ``int(text, 16)`` makes the same UUID as
    SQLAlchemy's processor at a fraction of ``uuid.UUID``'s parsing; anything else takes the
    processor's own way."""
    new, set_attribute, unknown = object.__new__, object.__setattr__, uuid.SafeUUID.unknown

    def process(value: Any) -> Any:
        if type(value) is str and len(value) == 32 and value.isalnum() and value[1] not in "xX":
            try:
                number = int(value, 16)
            except ValueError:
                return fallback(value)
            made = new(uuid.UUID)
            set_attribute(made, "int", number)
            set_attribute(made, "is_safe", unknown)
            return made
        return fallback(value)

    return process


def _sqlite_utc(fallback: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """SQLite keeps a UTC timestamp as ISO text without a zone; ``datetime.fromisoformat`` (C)
    reads it as SQLAlchemy's regular expression does; anything else takes the processor's way."""
    parse = datetime.fromisoformat

    def process(value: Any) -> Any:
        if type(value) is str:
            try:
                parsed = parse(value)
            except ValueError:
                return fallback(value)
            if parsed.tzinfo is None:
                return parsed.replace(tzinfo=UTC)
        return fallback(value)

    return process


INTERNED_MAX = 16_384
"""Converted values remembered per kind (UUIDs, timestamps) before the table starts afresh."""


class _Interned:
    """Text converted to an immutable value (a UUID, a timestamp) once, then looked up: the
    same ids and times come back again and again (foreign keys shared by many rows, the rows a
    busy client reads repeatedly), and a lookup costs a fraction of converting."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}

    def wrap(self, convert: Callable[[Any], Any]) -> Callable[[Any], Any]:
        values = self.values
        get = values.get

        def process(value: Any) -> Any:
            found = get(value) if type(value) is str else None
            if found is None:
                found = convert(value)
                if type(value) is str and found is not None:
                    if len(values) >= INTERNED_MAX:
                        values.clear()
                    values[value] = found
            return found

        return process


_UUIDS = _Interned()
_TIMES = _Interned()


def _result_processor(column: Any, dialect: Dialect) -> Processor:
    process: Processor = column.type._cached_result_processor(dialect, None)
    if process is None or dialect.name != "sqlite":
        return process
    if isinstance(column.type, sa.Uuid) and column.type.as_uuid:
        return _UUIDS.wrap(_sqlite_uuid(process))
    if isinstance(column.type, UTCDateTime):
        return _TIMES.wrap(_sqlite_utc(process))
    return process


class _Compiled:
    def __init__(self, statement: sa.Select[Any], dialect: Dialect) -> None:
        compiled = statement.compile(dialect=dialect)
        self.sql = compiled.string
        self.defaults = compiled.construct_params(_check=False)
        self.order: tuple[str, ...] | None = (
            tuple(compiled.positiontup) if compiled.positional and compiled.positiontup else None
        )
        self.binds: dict[str, Processor] = {
            name: bind.type._cached_bind_processor(dialect) for name, bind in compiled.binds.items()
        }
        columns = list(statement.selected_columns)
        # Only the columns whose values need converting, with their index in the row.
        self.results: list[tuple[int, Callable[[Any], Any]]] = [
            (index, process)
            for index, column in enumerate(columns)
            if (process := _result_processor(column, dialect)) is not None
        ]
        self.row: Any = namedtuple("Row", [column.key for column in columns])  # type: ignore[misc]

        # The parameters in the order they are sent: positional ones (SQLite's ``?``) in the
        # statement's order, a name repeated where the statement uses it twice.
        self.slots: list[tuple[str, Processor]] = [
            (name, self.binds.get(name))
            for name in (self.order if self.order is not None else self.defaults)
        ]

    def arguments(self, params: dict[str, Any]) -> Any:
        defaults = self.defaults
        values = []
        for name, process in self.slots:
            value = params[name] if name in params else defaults[name]
            values.append(process(value) if process is not None and value is not None else value)
        if self.order is not None:
            return tuple(values)
        return {name: value for (name, _), value in zip(self.slots, values, strict=True)}

    def convert(self, rows: list[Any]) -> list[Any]:
        if not rows:
            return []
        results = self.results
        make = self.row._make
        previous_raw = rows[0]
        previous = list(previous_raw)
        for index, process in results:
            previous[index] = process(previous[index])
        out = [make(previous)]
        for raw in rows[1:]:
            values = list(raw)
            for index, process in results:
                value = values[index]
                # Joined rows repeat the parent's columns: a value equal to the one above is
                # not converted again (UUIDs and timestamps cost most of the conversion).
                values[index] = previous[index] if value == previous_raw[index] else process(value)
            out.append(make(values))
            previous_raw, previous = raw, values
        return out


class Prepared:
    """A select to run many times: ``prepared.all(connection, name=value, ...)``.

    Being run on the DBAPI cursor, it bypasses SQLAlchemy's engine events: whoever watches the
    statements sent (the query-count tests) also subscribes to ``Prepared.listeners``, each
    called with the SQL text of every run."""

    listeners: ClassVar[list[Callable[[str], None]]] = []

    def __init__(self, statement: sa.Select[Any]) -> None:
        self.statement = statement
        self._by_dialect: dict[str, _Compiled] = {}

    def _compiled(self, dialect: Dialect) -> _Compiled:
        found = self._by_dialect.get(dialect.name)
        if found is None:
            found = self._by_dialect[dialect.name] = _Compiled(self.statement, dialect)
        return found

    def _start(self, dialect: Dialect, params: dict[str, Any]) -> tuple[_Compiled, Any]:
        """The statement for ``dialect``, its bound arguments, and the listeners told."""
        compiled = self._compiled(dialect)
        arguments = compiled.arguments(params)
        for listener in Prepared.listeners:
            listener(compiled.sql)
        return compiled, arguments

    def all(self, connection: sa.Connection, **params: Any) -> list[Any]:
        dialect = connection.dialect
        compiled, arguments = self._start(dialect, params)
        dbapi_connection: Any = connection.connection.driver_connection
        try:
            cursor = dbapi_connection.cursor()
            try:
                cursor.execute(compiled.sql, arguments)
                rows = cursor.fetchall()
            finally:
                cursor.close()
        except dialect.loaded_dbapi.Error as exc:
            invalidated = dialect.is_disconnect(exc, dbapi_connection, None)
            if invalidated:
                connection.invalidate(exc)
            raise _failed(compiled, arguments, exc, dialect, invalidated=invalidated) from exc
        return compiled.convert(rows)

    async def fetch(self, cursor: Any, dialect: Dialect, **params: Any) -> list[Any]:
        """``all`` on a cursor of an asynchronous DBAPI connection (psycopg's ``AsyncCursor``)
        made with ``dialect``'s connection arguments, so it converts values as that dialect
        expects. The statement is prepared on the server at its first run on the connection
        (``prepare=True``); the cursor may be one kept with its connection and used again."""
        compiled, arguments = self._start(dialect, params)
        try:
            await cursor.execute(compiled.sql, arguments, prepare=True)
            rows = await cursor.fetchall()
        except dialect.loaded_dbapi.Error as exc:
            connection = cursor.connection
            invalidated = bool(connection.closed or connection.broken)
            raise _failed(compiled, arguments, exc, dialect, invalidated=invalidated) from exc
        return compiled.convert(rows)


_PREPARED: dict[int, tuple[sa.Select[Any], Prepared]] = {}


def prepared(statement: sa.Select[Any]) -> Prepared:
    """The ``Prepared`` of a select, made at its first run and kept (with the select, so that
    its id stays its own): for the few hot reads, which are module constants, not for selects
    built per call."""
    found = _PREPARED.get(id(statement))
    if found is None or found[0] is not statement:
        found = _PREPARED[id(statement)] = (statement, Prepared(statement))
    return found[1]


def _failed(
    compiled: _Compiled, arguments: Any, exc: Exception, dialect: Dialect, *, invalidated: bool
) -> sa.exc.StatementError:
    """The driver's error as SQLAlchemy would raise it (``connection_invalidated`` when the
    connection died, so that the reader tries again on a new one)."""
    return sa.exc.DBAPIError.instance(
        compiled.sql,
        arguments,
        exc,
        dialect.loaded_dbapi.Error,
        connection_invalidated=invalidated,
        dialect=dialect,
    )
