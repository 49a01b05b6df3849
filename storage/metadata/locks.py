"""File locks in the metadata store, changed by compare-and-set inside one transaction.

Callers pass a pure decision: given the lock held now (expired and released locks count as
none), return the lock to hold afterwards (None to unlock) or raise LockConflict. Two
Docbridge instances on one database never both grant a lock: SQLite serialises writers,
PostgreSQL locks the row, and a concurrent first insert loses on the primary key and is
decided again.

A file's row outlives its lock: unlocking marks it released (``released_at``) and a new
lock overwrites it. So the storage service, reading the row inside its commit transaction
(`read_record`), knows both the lock that holds and the one that just ended.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, insert, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from core.events import EventBus, LockChanged
from core.ids import ResourceId
from storage.lock_rules import LockRecord
from storage.metadata.database import cached_read, is_postgresql, now_utc, read_connection, utc, write_transaction
from storage.metadata.schema import locks, nodes
from storage.types import Lock, LockKind

LockDecision = Callable[[Lock | None], Lock | None]


def _record(row: Any, file_id: ResourceId) -> LockRecord:
    lock = Lock(
        file_id=file_id,
        lock_id=row.lock_id,
        app_name=row.app_name,
        user_id=row.user_id,
        expires_at=utc(row.expires_at),
        kind=LockKind(row.kind),
        user_name=row.user_name,
        created_at=utc(row.created_at),
    )
    return LockRecord(lock, utc(row.released_at) if row.released_at is not None else None)


# Built once, as every request that touches a file reads its lock (see storage.service).
_LOCK_OF = select(locks).where(locks.c.node_id == bindparam("node_id"))
_LOCK_OF_FOR_UPDATE = _LOCK_OF.with_for_update()


def read_record(connection: Connection, file_id: ResourceId, *, for_update: bool = False) -> LockRecord | None:
    """The file's lock row inside the caller's transaction (locked on PostgreSQL when
    `for_update`), or None when the file was never locked."""
    query = _LOCK_OF_FOR_UPDATE if for_update and is_postgresql(connection) else _LOCK_OF
    row = connection.execute(query, {"node_id": file_id.opaque_id}).first()
    return _record(row, file_id) if row is not None else None


def _active(now: datetime) -> Any:
    return and_(locks.c.released_at.is_(None), locks.c.expires_at > now)


def active_among(connection: Connection, file_ids: Iterable[ResourceId], now: datetime) -> list[Lock]:
    """The locks holding now on any of `file_ids`."""
    by_opaque = {file_id.opaque_id: file_id for file_id in file_ids}
    if not by_opaque:
        return []
    rows = connection.execute(select(locks).where(locks.c.node_id.in_(list(by_opaque)), _active(now)))
    return [_record(row, by_opaque[row.node_id]).lock for row in rows]


class LockStore:
    def __init__(self, engine: Engine, events: EventBus, storage_id: str) -> None:
        self.engine = engine
        self.events = events
        self.storage_id = storage_id

    def record(self, file_id: ResourceId) -> LockRecord | None:
        return cached_read(self.engine, ("lock", file_id), lambda connection: read_record(connection, file_id))

    def get(self, file_id: ResourceId, now: datetime | None = None) -> Lock | None:
        """The lock holding now, None when the file is unlocked."""
        found = self.record(file_id)
        return found.held_at(now or now_utc()) if found is not None else None

    def holding(self, file_ids: Iterable[ResourceId], now: datetime | None = None) -> dict[ResourceId, Lock]:
        """The locks holding now on any of `file_ids`, by file."""
        with read_connection(self.engine) as connection:
            return {lock.file_id: lock for lock in active_among(connection, file_ids, now or now_utc())}

    def all_active(self, now: datetime | None = None) -> list[tuple[Lock, str]]:
        """Every lock holding now, with its file's name, oldest first."""
        with read_connection(self.engine) as connection:
            rows = connection.execute(
                select(locks, nodes.c.space_id, nodes.c.name.label("file_name"))
                .join(nodes, nodes.c.id == locks.c.node_id)
                .where(_active(now or now_utc()))
                .order_by(locks.c.created_at)
            ).all()
        return [
            (_record(row, ResourceId(self.storage_id, row.space_id, row.node_id)).lock, str(row.file_name))
            for row in rows
        ]

    def update(
        self, file_id: ResourceId, decide: LockDecision, now: datetime | None = None, *, change: str = ""
    ) -> Lock | None:
        """Apply `decide` to the current lock atomically and return the resulting lock.
        `change` names the change in the `LockChanged` event (derived when empty)."""
        moment = now or now_utc()
        for attempt in range(2):
            try:
                with write_transaction(self.engine) as connection:
                    found = read_record(connection, file_id, for_update=True)
                    current = found.held_at(moment) if found is not None else None
                    wanted = decide(current)
                    if wanted == current:
                        return current
                    self._write(connection, file_id, found, current, wanted, moment)
                break
            except IntegrityError:
                if attempt:
                    raise
        if current is None or wanted is None or current.lock_id != wanted.lock_id:
            self._publish(file_id, current, wanted, change)
        return wanted

    def _write(
        self,
        connection: Connection,
        file_id: ResourceId,
        found: LockRecord | None,
        current: Lock | None,
        wanted: Lock | None,
        moment: datetime,
    ) -> None:
        where = locks.c.node_id == file_id.opaque_id
        if wanted is None:
            # Keep the row as the record of the lock that ended.
            connection.execute(update(locks).where(where).values(released_at=moment))
            return
        same_lock = current is not None and current.lock_id == wanted.lock_id and current.kind is wanted.kind
        values = {
            "lock_id": wanted.lock_id,
            "app_name": wanted.app_name,
            "user_id": wanted.user_id,
            "user_name": wanted.user_name,
            "kind": wanted.kind.value,
            "expires_at": wanted.expires_at,
            "created_at": current.created_at if same_lock and current is not None and current.created_at else moment,
            "released_at": None,
        }
        if found is None:
            connection.execute(insert(locks).values(node_id=file_id.opaque_id, **values))
        else:
            # An UPDATE, never DELETE + INSERT: it leaves the file's row alone (no foreign
            # key check), so it cannot deadlock with a commit that holds that row.
            connection.execute(update(locks).where(where).values(**values))

    def _publish(self, file_id: ResourceId, current: Lock | None, wanted: Lock | None, change: str) -> None:
        if wanted is None:
            assert current is not None
            event = LockChanged(file_id, "", current.app_name, current.user_id, current.kind.value, change or "unlocked")
        else:
            derived = "locked" if current is None else "relocked"
            event = LockChanged(file_id, wanted.lock_id, wanted.app_name, wanted.user_id, wanted.kind.value, change or derived)
        self.events.publish(event)
