"""Engines for the metadata store, tuned per dialect, and the write-transaction helper.

SQLite runs in WAL mode with full fsync, foreign keys on, and write transactions opened
with ``BEGIN IMMEDIATE`` so that concurrent writers queue instead of failing half-way.
Before that BEGIN a writer takes an exclusive ``flock`` on a file beside the database
(`writer_turn`): waiting writers sleep in the kernel and wake the moment the lock is free,
where SQLite's busy handler would sleep and poll with growing pauses (up to 100 ms each),
which is what made a queue of writers slow and its tail long. The busy timeout stays, for
writers that do not take the turn (another program on the same database).
PostgreSQL writers lock the rows they change with ``SELECT … FOR UPDATE``.

Reads go through `read_connection`. Inside a `read_scope` (one per HTTP request) every read
of an engine shares one pooled connection and, on SQLite, one transaction, so a request's
reads see one consistent state and pay for one checkout and one BEGIN, not one per store.
PostgreSQL at READ COMMITTED (its default) takes a new snapshot at every statement, in a
transaction or not, so there reads run outside one: the same answers without the BEGIN and
ROLLBACK round trips, two of a CheckFileInfo's eight. A commit on that
engine made while the scope is open (the request's own write, through another connection)
ends the shared transaction before the next read, so a request always reads its own writes.
Decisions that must hold against concurrent writers are made again inside the write
transaction, never on a scope's reads alone.

A scope also answers the hottest reads (`cached_read`: a user, a file and its folder, a
lock, a current version, a WOPI client's user info, the policies) from what the same pooled connection read before, as
long as the database is unchanged since. On SQLite ``PRAGMA data_version`` tells: it moves
whenever another connection commits, and a commit on the connection itself empties its
cache. On PostgreSQL the snapshot does (``pg_current_snapshot()``): every transaction that
wrote has an id, and until one commits the snapshot stays equal to the last, in xmin, xmax
and the ids in progress; once it differs it never comes back. So every answer is one a
fresh read in the same request could have given (on SQLite the scope's one snapshot, on
PostgreSQL the state at the check or later, as each statement there has its own snapshot
anyway), and a CheckFileInfo or GetFile on an unchanged database reads no rows at all: one
statement (SQLite: the pragma, after its BEGIN; PostgreSQL: the snapshot) where it used to
read four or five.

A write transaction may be asked not to be durable (`write_transaction(durable=False)`):
it survives the process dying, not the machine losing power. Only records whose loss at
a power cut is harmless go that way (a save's pending mark: `storage.service`).
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DisconnectionError

WRITE_OPTION = "docbridge_write"
PING_AFTER_IDLE_SECONDS = 1.0
_LAST_USED = "docbridge_last_used"
# Where a pooled connection keeps its cached reads, and the database state they are of.
_READ_CACHE = "docbridge_read_cache"
_READ_CACHE_VERSION = "docbridge_read_cache_version"
READ_CACHE_ENTRIES = 512  # per pooled connection; a few hot users, files and locks each

T = TypeVar("T")


def make_engine(url: str) -> Engine:
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})
        _tune_sqlite(engine)
    else:
        engine = create_engine(url, pool_size=5, max_overflow=10)
        _ping_after_idle(engine)
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
        # Straight to the driver: a statement through SQLAlchemy costs more than the BEGIN.
        _driver_execute(connection, "BEGIN IMMEDIATE" if immediate else "BEGIN")


def _ping_after_idle(engine: Engine) -> None:
    """Ping a pooled PostgreSQL connection before use when it lay idle a while, as
    ``pool_pre_ping`` would before every use; a dead one is replaced before anyone reads
    through it. One back within `PING_AFTER_IDLE_SECONDS` was alive a moment ago: pinging it
    cost every request a round trip (a CheckFileInfo's second of two, three of a save's).
    A restart of the server takes longer than that, so what it cut is pinged and replaced."""

    def mark_used(_dbapi_connection: Any, record: Any) -> None:
        record.info[_LAST_USED] = time.monotonic()

    event.listen(engine, "connect", mark_used)
    event.listen(engine, "checkin", mark_used)

    @event.listens_for(engine, "checkout")
    def checked_out(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        last_used = record.info.get(_LAST_USED)
        if last_used is not None and time.monotonic() - last_used < PING_AFTER_IDLE_SECONDS:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as error:
            # The pool drops this connection and checks out a new one.
            raise DisconnectionError(f"a pooled connection did not answer: {error}") from error


def _dispose_after_fork(engine: Engine) -> None:
    """A forked gunicorn worker must not reuse the parent's pooled connections."""
    reference = weakref.ref(engine)

    def after_fork() -> None:
        alive = reference()
        if alive is not None:
            alive.dispose(close=False)

    os.register_at_fork(after_in_child=after_fork)


class ReadCache:
    """Answers read on one pooled connection, while its database stays unchanged; the least
    recently used go first."""

    def __init__(self) -> None:
        self._answers: OrderedDict[Hashable, Any] = OrderedDict()

    def get(self, key: Hashable, load: Callable[[], T]) -> T:
        try:
            answer: T = self._answers[key]
        except KeyError:
            answer = self._answers[key] = load()
            if len(self._answers) > READ_CACHE_ENTRIES:
                self._answers.popitem(last=False)
            return answer
        self._answers.move_to_end(key)
        return answer


class ReadScope:
    """The connections a request reads through, one per engine, opened on first use."""

    def __init__(self) -> None:
        self._connections: dict[Engine, Connection] = {}
        self._stale: set[Engine] = set()
        # The read cache each engine's reads may answer from, until the state they see moves.
        self._caches: dict[Engine, ReadCache] = {}
        # Engines the request committed on: what any cache holds is older than its own write,
        # so checking the state again would only cost a statement to learn that.
        self._wrote: set[Engine] = set()

    def connection(self, engine: Engine) -> Connection:
        connection = self._connections.get(engine)
        if connection is None:
            connection = self._connections[engine] = reading_connection(engine)
        elif engine in self._stale:
            self._end_transaction(engine, connection)
        self._stale.discard(engine)
        return connection

    def cache(self, engine: Engine) -> ReadCache | None:
        """The cache valid for the state the scope reads on `engine` (on SQLite, starting
        the scope's transaction if need be); None once the request has written there."""
        if engine in self._wrote:
            return None
        connection = self.connection(engine)
        cache = self._caches.get(engine)
        if cache is None:
            cache = self._caches[engine] = _read_cache_of(connection)
        return cache

    def _end_transaction(self, engine: Engine, connection: Connection) -> None:
        if connection.in_transaction():
            connection.rollback()
        # The next reads may see other commits (and the request's own): the cache is found anew.
        self._caches.pop(engine, None)

    def release_snapshot(self, engine: Engine) -> None:
        """End the read transaction on `engine`, if one is open; the next read starts anew.

        On SQLite a reader's snapshot pins the WAL: while one is open no checkpoint can
        finish and the WAL cannot start over, so a request that writes while holding its
        own snapshot made the WAL grow and every later commit run a checkpoint (an extra
        fdatasync and fsync on about half of all saves)."""
        connection = self._connections.get(engine)
        if connection is not None:
            self._end_transaction(engine, connection)
        self._stale.discard(engine)

    def committed(self, engine: Engine, connection: Connection) -> None:
        if self._connections.get(engine) is not connection:
            self._stale.add(engine)
            self._wrote.add(engine)

    def close(self) -> None:
        self._caches = {}
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
    with reading_connection(engine) as connection:
        yield connection


def cached_read(engine: Engine, key: Hashable, load: Callable[[Connection], T]) -> T:
    """`load`'s answer, read through `read_connection`; inside a read scope, the answer the
    same connection gave for `key` while the database has not changed since (see the
    module's note). Exceptions are not kept: a read that failed is tried again. `key` must
    name everything the answer depends on; the answer must be immutable."""

    def read() -> T:
        with read_connection(engine) as connection:
            return load(connection)

    scope = _read_scope.get()
    cache = scope.cache(engine) if scope is not None else None
    return read() if cache is None else cache.get(key, read)


# What stays put while no other connection commits, and moves once one does.
_STATE_OF_DATABASE = {"sqlite": "PRAGMA data_version", "postgresql": "SELECT pg_current_snapshot()::text"}


def _read_cache_of(connection: Connection) -> ReadCache:
    """The connection's read cache, emptied first when the database changed since it was
    filled. On SQLite this runs in the transaction the reads will see (starting it)."""
    if not connection.in_transaction():
        connection.begin()  # on SQLite the BEGIN that the state and the reads share
    version = _driver_execute(connection, _STATE_OF_DATABASE[connection.dialect.name]).fetchone()[0]
    info = connection.info
    cache = info.get(_READ_CACHE)
    if cache is None or info.get(_READ_CACHE_VERSION) != version:
        cache = info[_READ_CACHE] = ReadCache()
        info[_READ_CACHE_VERSION] = version
    return cache


def _forget_cached_reads(connection: Connection) -> None:
    """A connection's own commits leave SQLite's data_version as it was: drop what it cached."""
    connection.info.pop(_READ_CACHE, None)


def reading_connection(engine: Engine) -> Connection:
    """A pooled connection for reads only (see the module's note on PostgreSQL)."""
    connection = engine.connect()
    if engine.dialect.name == "postgresql" and connection.default_isolation_level == "READ COMMITTED":
        connection = connection.execution_options(isolation_level="AUTOCOMMIT")
    return connection


def _end_scoped_reads_after_commit(connection: Connection) -> None:
    _forget_cached_reads(connection)
    scope = _read_scope.get()
    if scope is not None:
        scope.committed(connection.engine, connection)


_turns_held = threading.local()


def _writer_lock_path(engine: Engine) -> str | None:
    """The lock file of the engine's SQLite database file; None for PostgreSQL and for an
    in-memory database, which no other connection shares."""
    if engine.dialect.name != "sqlite":
        return None
    database = engine.url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return os.path.abspath(database) + ".write-lock"


@contextmanager
def writer_turn(engine: Engine) -> Iterator[None]:
    """Wait for, then hold, the one writer's turn on a SQLite database file: threads and
    processes alike, as each turn is its own open file. A thread already holding the turn
    gets it again at once, so a nested write does not wait for itself."""
    path = _writer_lock_path(engine)
    held: set[str] = _turns_held.__dict__.setdefault("paths", set())
    if path is None or path in held:
        yield
        return
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        held.add(path)
        try:
            yield
        finally:
            held.discard(path)
    finally:
        # Closing the only descriptor of this open file releases its flock.
        os.close(descriptor)


@contextmanager
def write_transaction(engine: Engine, *, durable: bool = True) -> Iterator[Connection]:
    """A transaction that intends to write: serialised on SQLite, row-locking on PostgreSQL.

    With `durable` False the commit is not flushed to disk: it survives the process being
    killed, while a power cut may lose it (never corrupt the database). SQLite in WAL mode
    with ``synchronous=NORMAL`` writes the commit to the WAL without fsync; the next
    durable commit's fsync, or a checkpoint, makes it durable too. PostgreSQL's
    ``synchronous_commit = off`` does the same for one transaction.

    The request's own read snapshot on `engine`, if any, ends first
    (`ReadScope.release_snapshot`): its reads after this start anew, as they would after
    the commit anyway."""
    scope = _read_scope.get()
    if scope is not None:
        scope.release_snapshot(engine)
    with writer_turn(engine), engine.connect() as connection:
        connection = connection.execution_options(**{WRITE_OPTION: True})
        relaxed_sqlite = not durable and connection.dialect.name == "sqlite"
        if relaxed_sqlite:
            _set_sqlite_synchronous(connection, "NORMAL")
        try:
            with connection.begin():
                if not durable and is_postgresql(connection):
                    connection.exec_driver_sql("SET LOCAL synchronous_commit = off")
                yield connection
        finally:
            if relaxed_sqlite:
                _restore_full_sync(connection)


def _set_sqlite_synchronous(connection: Connection, level: str) -> None:
    # Straight to the driver: through SQLAlchemy the PRAGMA would open a transaction, and
    # the setting is meant to hold for the whole of the one that follows.
    _driver_execute(connection, f"PRAGMA synchronous={level}")


def _driver_execute(connection: Connection, statement: str) -> Any:
    """Run `statement` on the driver's connection itself (sqlite3 and psycopg both have
    ``execute``), past SQLAlchemy's events and result handling; answers the driver's cursor."""
    return connection.connection.driver_connection.execute(statement)  # type: ignore[union-attr]


def _restore_full_sync(connection: Connection) -> None:
    """Back to full fsync before the connection returns to the pool; a connection that
    cannot be restored is dropped instead, so no later durable write runs without fsync."""
    try:
        _set_sqlite_synchronous(connection, "FULL")
    except BaseException:
        connection.invalidate()
        raise


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
