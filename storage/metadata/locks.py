"""File locks in the metadata store, changed by compare-and-set inside one transaction.

Callers pass a pure decision: given the lock held now (expired locks count as none), return
the lock to hold afterwards (None to unlock) or raise LockConflict. Two Docbridge instances
on one database never both grant a lock: SQLite serialises writers, PostgreSQL locks the
row, and a concurrent first insert loses on the primary key and is decided again.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from core.events import EventBus, LockChanged
from core.ids import ResourceId
from storage.metadata.database import is_postgresql, now_utc, utc, write_transaction
from storage.metadata.schema import locks
from storage.types import Lock

LockDecision = Callable[[Lock | None], Lock | None]


class LockStore:
    def __init__(self, engine: Engine, events: EventBus) -> None:
        self.engine = engine
        self.events = events

    def _lock(self, row: Any, file_id: ResourceId) -> Lock:
        return Lock(
            file_id=file_id,
            lock_id=row.lock_id,
            app_name=row.app_name,
            user_id=row.user_id,
            expires_at=utc(row.expires_at),
        )

    def _current(self, connection: Connection, file_id: ResourceId, now: datetime, for_update: bool) -> tuple[Lock | None, bool]:
        query = select(locks).where(locks.c.node_id == file_id.opaque_id)
        if for_update and is_postgresql(connection):
            query = query.with_for_update()
        row = connection.execute(query).first()
        if row is None:
            return None, False
        lock = self._lock(row, file_id)
        return (lock if lock.expires_at > now else None), True

    def get(self, file_id: ResourceId, now: datetime | None = None) -> Lock | None:
        with self.engine.connect() as connection:
            lock, _ = self._current(connection, file_id, now or now_utc(), False)
        return lock

    def update(self, file_id: ResourceId, decide: LockDecision, now: datetime | None = None) -> Lock | None:
        """Apply `decide` to the current lock atomically and return the resulting lock."""
        moment = now or now_utc()
        for attempt in range(2):
            try:
                with write_transaction(self.engine) as connection:
                    current, row_exists = self._current(connection, file_id, moment, True)
                    wanted = decide(current)
                    if wanted == current:
                        return current
                    if row_exists:
                        connection.execute(delete(locks).where(locks.c.node_id == file_id.opaque_id))
                    if wanted is not None:
                        connection.execute(
                            insert(locks).values(
                                node_id=file_id.opaque_id,
                                lock_id=wanted.lock_id,
                                app_name=wanted.app_name,
                                user_id=wanted.user_id,
                                expires_at=wanted.expires_at,
                                created_at=moment,
                            )
                        )
                break
            except IntegrityError:
                if attempt:
                    raise
        if current is None or wanted is None or current.lock_id != wanted.lock_id:
            self.events.publish(
                LockChanged(file_id, wanted.lock_id if wanted else "", wanted.app_name if wanted else "")
            )
        return wanted
