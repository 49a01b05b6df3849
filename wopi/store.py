"""What the WOPI host keeps besides files and locks: the per-user ``UserInfo`` a WOPI client
stores with PutUserInfo and reads back in CheckFileInfo.

The table is the host's own (`metadata`), created by the revisions in ``wopi/migrations/``
on the ``wopi`` Alembic branch.
"""

from __future__ import annotations

from sqlalchemy import Column, DateTime, String, Table, Text, bindparam, insert, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from storage.metadata.database import cached_read, now_utc, write_transaction
from storage.metadata.schema import new_metadata

MAX_USER_INFO_CHARS = 1024
metadata = new_metadata()

user_info = Table(
    "wopi_user_info",
    metadata,
    Column("user_id", String(255), primary_key=True),
    Column("info", Text, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

def _upsert(engine: Engine, table: Table, key: str, key_value: str, values: dict[str, object]) -> None:
    """Update the row, or insert it; a concurrent first insert loses and updates instead."""
    for attempt in range(2):
        try:
            with write_transaction(engine) as connection:
                changed = connection.execute(update(table).where(table.c[key] == key_value).values(**values)).rowcount
                if not changed:
                    connection.execute(insert(table).values(**{key: key_value}, **values))
            return
        except IntegrityError:
            if attempt:
                raise


_INFO_OF_USER = select(user_info.c.info).where(user_info.c.user_id == bindparam("user_id"))  # every CheckFileInfo


class UserInfoStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def get(self, user_id: str) -> str | None:
        def load(connection: Connection) -> str | None:
            row = connection.execute(_INFO_OF_USER, {"user_id": user_id}).first()
            return None if row is None else str(row.info)

        return cached_read(self.engine, ("wopi user info", user_id), load)

    def put(self, user_id: str, info: str) -> None:
        _upsert(self.engine, user_info, "user_id", user_id, {"info": info, "updated_at": now_utc()})
