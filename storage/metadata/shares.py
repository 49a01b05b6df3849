"""Shares of files and folders with users and groups. A share names its node, its grantee
(a user or a group), a role and whether the recipients may share on; what they grant to
whom is decided by the access rules (``storage/access.py``), not here."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import and_, delete, insert, or_, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql.elements import ColumnElement

from core.errors import Conflict, NotFound
from core.ids import ResourceId, new_opaque_id
from storage.metadata.database import now_utc, read_connection, utc, write_transaction
from storage.metadata.schema import groups, nodes, shares, users
from storage.types import GranteeKind, Share, ShareRole


class ShareStore:
    def __init__(self, engine: Engine, storage_id: str) -> None:
        self.engine = engine
        self.storage_id = storage_id

    def _select(self) -> Any:
        return (
            select(shares, nodes.c.space_id, users.c.name.label("user_name"), groups.c.name.label("group_name"))
            .join(nodes, nodes.c.id == shares.c.node_id)
            .outerjoin(users, users.c.id == shares.c.user_id)
            .outerjoin(groups, groups.c.id == shares.c.group_id)
        )

    def _share(self, row: Any) -> Share:
        is_user = row.user_id is not None
        return Share(
            id=row.id,
            node_id=ResourceId(self.storage_id, row.space_id, row.node_id),
            grantee_kind=GranteeKind.USER if is_user else GranteeKind.GROUP,
            grantee_id=row.user_id if is_user else row.group_id,
            grantee_name=row.user_name if is_user else row.group_name,
            role=ShareRole(row.role),
            can_share=bool(row.can_share),
            created_by=row.created_by,
            created=utc(row.created_at),
        )

    def create(
        self,
        node_id: ResourceId,
        kind: GranteeKind,
        grantee_id: str,
        role: ShareRole,
        *,
        can_share: bool,
        created_by: str,
    ) -> Share:
        share_id = new_opaque_id()
        grantee = {"user_id": grantee_id} if kind is GranteeKind.USER else {"group_id": grantee_id}
        try:
            with write_transaction(self.engine) as connection:
                connection.execute(
                    insert(shares).values(
                        id=share_id, node_id=node_id.opaque_id, role=role.value, can_share=can_share,
                        created_by=created_by, created_at=now_utc(), **grantee,
                    )
                )
        except IntegrityError:
            raise Conflict(f"this is already shared with that {kind.value}; change the existing share instead") from None
        return self.get(share_id)

    def get(self, share_id: str) -> Share:
        with read_connection(self.engine) as connection:
            row = connection.execute(self._select().where(shares.c.id == share_id)).first()
        if row is None:
            raise NotFound("no such share")
        return self._share(row)

    def list_for(self, node_id: ResourceId) -> list[Share]:
        with read_connection(self.engine) as connection:
            rows = connection.execute(
                self._select().where(shares.c.node_id == node_id.opaque_id).order_by(shares.c.created_at, shares.c.id)
            )
            return [self._share(row) for row in rows]

    def change(self, share_id: str, role: ShareRole, can_share: bool) -> Share:
        with write_transaction(self.engine) as connection:
            changed = connection.execute(
                update(shares).where(shares.c.id == share_id).values(role=role.value, can_share=can_share)
            ).rowcount
        if not changed:
            raise NotFound("no such share")
        return self.get(share_id)

    def revoke(self, share_id: str) -> None:
        with write_transaction(self.engine) as connection:
            connection.execute(delete(shares).where(shares.c.id == share_id))

    def shared_among(self, node_opaque_ids: Iterable[str]) -> set[str]:
        """Which of these nodes have a share of their own (opaque ids)."""
        ids = list(node_opaque_ids)
        if not ids:
            return set()
        with read_connection(self.engine) as connection:
            rows = connection.execute(select(shares.c.node_id).where(shares.c.node_id.in_(ids)).distinct())
            return {row.node_id for row in rows}

    def reaching(self, node_opaque_ids: Iterable[str], user_id: str, group_ids: Iterable[str]) -> list[Share]:
        """The shares of these nodes whose grantee is the user or one of the groups."""
        ids = list(node_opaque_ids)
        if not ids:
            return []
        with read_connection(self.engine) as connection:
            rows = connection.execute(
                self._select().where(shares.c.node_id.in_(ids), _grantee_is(user_id, group_ids))
            )
            return [self._share(row) for row in rows]

    def received(self, user_id: str, group_ids: Iterable[str]) -> list[Share]:
        """Every share whose grantee is the user or one of the groups, newest first."""
        with read_connection(self.engine) as connection:
            rows = connection.execute(
                self._select().where(_grantee_is(user_id, group_ids)).order_by(shares.c.created_at.desc())
            )
            return [self._share(row) for row in rows]


def _grantee_is(user_id: str, group_ids: Iterable[str]) -> ColumnElement[bool]:
    wanted = list(group_ids)
    condition: ColumnElement[bool] = shares.c.user_id == user_id
    if wanted:
        condition = or_(condition, and_(shares.c.group_id.is_not(None), shares.c.group_id.in_(wanted)))
    return condition
