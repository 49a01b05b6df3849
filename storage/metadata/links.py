"""Public links to files and folders."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.engine import Engine

from core.errors import BadRequest, NotFound
from core.ids import ResourceId, new_opaque_id
from storage.metadata.database import now_utc, read_connection, utc, write_transaction
from storage.metadata.passwords import PasswordHasher
from storage.metadata.schema import links, nodes
from storage.types import Link, LinkRole


class LinkStore:
    def __init__(self, engine: Engine, storage_id: str, passwords: PasswordHasher | None = None) -> None:
        self.engine = engine
        self.storage_id = storage_id
        self.passwords = passwords or PasswordHasher()

    def _link(self, row: Any) -> Link:
        return Link(
            id=row.id,
            token=row.token,
            node_id=ResourceId(self.storage_id, row.space_id, row.node_id),
            role=LinkRole(row.role),
            has_password=bool(row.password_hash),
            expires_at=utc(row.expires_at) if row.expires_at else None,
            created_by=row.created_by,
            created=utc(row.created_at),
            no_download=bool(row.no_download),
        )

    def _select(self) -> Any:
        return select(links, nodes.c.space_id).join(nodes, nodes.c.id == links.c.node_id)

    def create(
        self,
        node_id: ResourceId,
        role: LinkRole,
        created_by: str,
        *,
        password: str | None = None,
        expires_at: datetime | None = None,
        no_download: bool = False,
    ) -> Link:
        if expires_at is not None and expires_at <= now_utc():
            raise BadRequest("expires_at must be in the future")
        link_id = new_opaque_id()
        with write_transaction(self.engine) as connection:
            connection.execute(
                insert(links).values(
                    id=link_id,
                    token=secrets.token_urlsafe(24),
                    node_id=node_id.opaque_id,
                    role=role.value,
                    password_hash=self.passwords.hash(password) if password else None,
                    expires_at=expires_at,
                    created_by=created_by,
                    created_at=now_utc(),
                    no_download=no_download,
                )
            )
            row = connection.execute(self._select().where(links.c.id == link_id)).one()
        return self._link(row)

    def list_for(self, node_id: ResourceId) -> list[Link]:
        with read_connection(self.engine) as connection:
            rows = connection.execute(
                self._select().where(links.c.node_id == node_id.opaque_id).order_by(links.c.created_at)
            )
            return [self._link(row) for row in rows]

    def get(self, link_id: str) -> Link:
        with read_connection(self.engine) as connection:
            row = connection.execute(self._select().where(links.c.id == link_id)).first()
        if row is None:
            raise NotFound("no such link")
        return self._link(row)

    def by_token(self, token: str) -> Link | None:
        """The live link with this token; expired links count as absent."""
        with read_connection(self.engine) as connection:
            row = connection.execute(self._select().where(links.c.token == token)).first()
        if row is None:
            return None
        link = self._link(row)
        if link.expires_at is not None and link.expires_at <= now_utc():
            return None
        return link

    def check_password(self, link: Link, password: str) -> bool:
        with read_connection(self.engine) as connection:
            stored = connection.execute(select(links.c.password_hash).where(links.c.id == link.id)).scalar()
        return self.passwords.check(str(stored) if stored else None, password)

    def revoke(self, link_id: str) -> None:
        with write_transaction(self.engine) as connection:
            connection.execute(delete(links).where(links.c.id == link_id))
