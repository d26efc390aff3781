"""Hot reads without the per-statement cost of SQLAlchemy's execution machinery.

A ``Prepared`` select is compiled once per dialect; each run passes its parameters through the
column types' own bind processors, executes on the DBAPI cursor of the given connection (so in
its transaction, if any) and passes each value through the types' own result processors: the
same values SQLAlchemy would give, for a fraction of the CPU time (on a 2-core machine an
indexed point read cost more in SQLAlchemy's execution context and result set than in SQLite).
Only for a few statements on the hottest paths; everything else uses sessions as usual."""

from collections import namedtuple
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

Processor = Callable[[Any], Any] | None


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
        self.results: list[Processor] = [
            column.type._cached_result_processor(dialect, None) for column in columns
        ]
        self.row: Any = namedtuple("Row", [column.key for column in columns])  # type: ignore[misc]


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

    def all(self, connection: sa.Connection, **params: Any) -> list[Any]:
        dialect = connection.dialect
        compiled = self._compiled(dialect)
        given: Mapping[str, Any] = {**compiled.defaults, **params}
        bound = {
            name: (process(value) if process is not None and value is not None else value)
            for name, value in given.items()
            for process in (compiled.binds.get(name),)
        }
        arguments: Any = (
            tuple(bound[name] for name in compiled.order) if compiled.order is not None else bound
        )
        for listener in Prepared.listeners:
            listener(compiled.sql)
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
            raise sa.exc.DBAPIError.instance(
                compiled.sql,
                arguments,
                exc,
                dialect.loaded_dbapi.Error,
                connection_invalidated=invalidated,
                dialect=dialect,
            ) from exc
        results = compiled.results
        make = compiled.row._make
        out: list[Any] = []
        previous_raw: Any = ()
        previous: list[Any] = []
        for raw in rows:
            # Joined rows repeat the parent's columns: a value equal to the one above is not
            # converted again (UUIDs and timestamps cost most of the conversion).
            values = [
                previous[i]
                if previous_raw and value == previous_raw[i]
                else (process(value) if process is not None else value)
                for i, (process, value) in enumerate(zip(results, raw, strict=True))
            ]
            out.append(make(values))
            previous_raw, previous = raw, values
        return out
