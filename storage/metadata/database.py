"""Engines for the metadata store, tuned per dialect, and the write-transaction helper.

SQLite runs in WAL mode with full fsync, foreign keys on, and write transactions opened
with ``BEGIN IMMEDIATE`` so that concurrent writers queue instead of failing half-way.
PostgreSQL writers lock the rows they change with ``SELECT … FOR UPDATE``.

Reads go through `read_connection`. Inside a `read_scope` (one per HTTP request) every read
of an engine shares one pooled connection and one transaction, so a request's reads see one
consistent state and pay for one checkout and one BEGIN, not one per store. A commit on that
engine made while the scope is open (the request's own write, through another connection)
ends the shared transaction before the next read, so a request always reads its own writes.
Decisions that must hold against concurrent writers are made again inside the write
transaction, never on a scope's reads alone.
"""

from __future__ import annotations

import os
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Connection, Engine

WRITE_OPTION = "docbridge_write"


def make_engine(url: str) -> Engine:
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})
        _tune_sqlite(engine)
    else:
        engine = create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10)
    _dispose_after_fork(engine)
    event.listen(engine, "commit", _end_scoped_reads_after_commit)
    return engine


def _tune_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take BEGIN out of pysqlite's hands so `on_begin` decides how a transaction starts.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection: Connection) -> None:
        immediate = connection.get_execution_options().get(WRITE_OPTION)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def _dispose_after_fork(engine: Engine) -> None:
    """A forked gunicorn worker must not reuse the parent's pooled connections."""
    reference = weakref.ref(engine)

    def after_fork() -> None:
        alive = reference()
        if alive is not None:
            alive.dispose(close=False)

    os.register_at_fork(after_in_child=after_fork)


class ReadScope:
    """The connections a request reads through, one per engine, opened on first use."""

    def __init__(self) -> None:
        self._connections: dict[Engine, Connection] = {}
        self._stale: set[Engine] = set()

    def connection(self, engine: Engine) -> Connection:
        connection = self._connections.get(engine)
        if connection is None:
            connection = self._connections[engine] = engine.connect()
        elif engine in self._stale and connection.in_transaction():
            connection.rollback()
        self._stale.discard(engine)
        return connection

    def committed(self, engine: Engine, connection: Connection) -> None:
        if self._connections.get(engine) is not connection:
            self._stale.add(engine)

    def close(self) -> None:
        connections, self._connections = self._connections, {}
        for connection in connections.values():
            connection.close()


_read_scope: ContextVar[ReadScope | None] = ContextVar("docbridge_read_scope", default=None)


def open_read_scope() -> ReadScope:
    """Start sharing read connections in this context (a request); end with `close_read_scope`."""
    scope = ReadScope()
    _read_scope.set(scope)
    return scope


def close_read_scope() -> None:
    scope = _read_scope.get()
    _read_scope.set(None)
    if scope is not None:
        scope.close()


@contextmanager
def read_scope() -> Iterator[ReadScope]:
    scope = open_read_scope()
    try:
        yield scope
    finally:
        close_read_scope()


@contextmanager
def read_connection(engine: Engine) -> Iterator[Connection]:
    """A connection to read with: the scope's shared one, or a connection of its own."""
    scope = _read_scope.get()
    if scope is not None:
        yield scope.connection(engine)
        return
    with engine.connect() as connection:
        yield connection


def _end_scoped_reads_after_commit(connection: Connection) -> None:
    scope = _read_scope.get()
    if scope is not None:
        scope.committed(connection.engine, connection)


@contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """A transaction that intends to write: serialised on SQLite, row-locking on PostgreSQL."""
    with engine.connect() as connection:
        connection = connection.execution_options(**{WRITE_OPTION: True})
        with connection.begin():
            yield connection


def is_postgresql(engine_or_connection: Engine | Connection) -> bool:
    return engine_or_connection.dialect.name == "postgresql"


def utc(value: datetime) -> datetime:
    """SQLite hands datetimes back naive; they were stored as UTC."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def now_utc() -> datetime:
    return datetime.now(UTC)


LIKE_ESCAPE = "\\"


def contains_pattern(text: str) -> str:
    """A LIKE pattern (with `LIKE_ESCAPE`) matching values that hold `text`, lower-cased;
    `%` and `_` in `text` match themselves."""
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
