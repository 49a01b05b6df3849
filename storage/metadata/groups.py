"""Groups of users: made by admins (``local``) or kept in step with an identity provider's
groups claim at each login (``oidc``)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from sqlalchemy import delete, func, insert, or_, select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from core.errors import AlreadyExists, BadRequest, NotFound
from core.ids import new_opaque_id
from storage.metadata.database import LIKE_ESCAPE, contains_pattern, now_utc, read_connection, write_transaction
from storage.metadata.schema import group_members, groups, users
from storage.types import Group

LOCAL = "local"
OIDC = "oidc"
# Names appear in URL paths (/api/v1/groups/<name>/members/<user>): no slash, no control
# characters, no space at either end.
_GROUP_NAME = re.compile(r"^[^\s/\x00-\x1f\x7f](?:[^/\x00-\x1f\x7f]{0,253}[^\s/\x00-\x1f\x7f])?$")


def validate_group_name(name: str) -> str:
    if not _GROUP_NAME.match(name):
        raise BadRequest("a group name is 1–255 characters, without '/', control characters or outer spaces")
    return name


def claim_group_name(claimed: str) -> str | None:
    """A group name from an identity provider's claim as Docbridge keeps it: Keycloak's
    paths (``/staff/engineering``) lose the leading slash and use ``.`` between parts."""
    name = claimed.strip().strip("/").replace("/", ".")
    return name if _GROUP_NAME.match(name) else None


class GroupStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @staticmethod
    def _group(row: Any) -> Group:
        return Group(id=row.id, name=row.name, display_name=row.display_name, source=row.source)

    def create(self, name: str, display_name: str = "", *, source: str = LOCAL) -> Group:
        validate_group_name(name)
        group_id = new_opaque_id()
        try:
            with write_transaction(self.engine) as connection:
                connection.execute(
                    insert(groups).values(
                        id=group_id, name=name, display_name=display_name or name, source=source, created_at=now_utc()
                    )
                )
        except IntegrityError:
            raise AlreadyExists(f"group {name!r} already exists") from None
        return Group(group_id, name, display_name or name, source)

    def by_name(self, name: str) -> Group:
        with read_connection(self.engine) as connection:
            row = connection.execute(select(groups).where(groups.c.name == name)).first()
        if row is None:
            raise NotFound(f"no group {name!r}")
        return self._group(row)

    def get(self, group_id: str) -> Group:
        with read_connection(self.engine) as connection:
            row = connection.execute(select(groups).where(groups.c.id == group_id)).first()
        if row is None:
            raise NotFound("no such group")
        return self._group(row)

    def with_member_counts(self) -> list[tuple[Group, int]]:
        """Every group with its number of members, by name."""
        with read_connection(self.engine) as connection:
            rows = connection.execute(
                select(groups, func.count(group_members.c.user_id).label("members"))
                .outerjoin(group_members, group_members.c.group_id == groups.c.id)
                .group_by(groups.c.id)
                .order_by(groups.c.name)
            )
            return [(self._group(row), int(row.members)) for row in rows]

    def search(self, text: str, limit: int) -> list[Group]:
        pattern = contains_pattern(text)
        with read_connection(self.engine) as connection:
            rows = connection.execute(
                select(groups)
                .where(or_(func.lower(groups.c.name).like(pattern, escape=LIKE_ESCAPE),
                           func.lower(groups.c.display_name).like(pattern, escape=LIKE_ESCAPE)))
                .order_by(groups.c.name)
                .limit(limit)
            )
            return [self._group(row) for row in rows]

    def delete(self, name: str) -> None:
        group = self.by_name(name)
        with write_transaction(self.engine) as connection:
            connection.execute(delete(groups).where(groups.c.id == group.id))

    def members(self, name: str) -> list[str]:
        """The member user names of the group, sorted."""
        group = self.by_name(name)
        with read_connection(self.engine) as connection:
            rows = connection.execute(
                select(users.c.name)
                .join(group_members, group_members.c.user_id == users.c.id)
                .where(group_members.c.group_id == group.id)
                .order_by(users.c.name)
            )
            return [row.name for row in rows]

    def add_member(self, name: str, user_id: str) -> None:
        group = self.by_name(name)
        with write_transaction(self.engine) as connection:
            self._join(connection, group.id, user_id)

    def remove_member(self, name: str, user_id: str) -> None:
        group = self.by_name(name)
        with write_transaction(self.engine) as connection:
            gone = connection.execute(
                delete(group_members).where(group_members.c.group_id == group.id, group_members.c.user_id == user_id)
            ).rowcount
        if not gone:
            raise NotFound("the user is not a member of this group")

    def group_ids_of(self, user_id: str) -> frozenset[str]:
        with read_connection(self.engine) as connection:
            rows = connection.execute(select(group_members.c.group_id).where(group_members.c.user_id == user_id))
            return frozenset(row.group_id for row in rows)

    def groups_of(self, user_id: str) -> list[Group]:
        with read_connection(self.engine) as connection:
            rows = connection.execute(
                select(groups)
                .join(group_members, group_members.c.group_id == groups.c.id)
                .where(group_members.c.user_id == user_id)
                .order_by(groups.c.name)
            )
            return [self._group(row) for row in rows]

    def sync_claimed(self, user_id: str, claimed: Iterable[str]) -> None:
        """Make the user's memberships of identity-provider groups what the claim says.

        Each claimed name joins the group of that name, made (as an ``oidc`` group) when
        there is none; memberships of other ``oidc`` groups end. Memberships of groups an
        admin made stay as they are."""
        names = {name for name in (claim_group_name(text) for text in claimed) if name}
        if self._in_step(user_id, names):
            return  # the usual case at a login: nothing to write
        for _attempt in range(2):
            try:
                with write_transaction(self.engine) as connection:
                    self._sync(connection, user_id, names)
                return
            except IntegrityError:
                continue  # another login made one of the groups at the same time: read it again
        raise AlreadyExists("the user's groups changed at the same time twice")

    def _in_step(self, user_id: str, names: set[str]) -> bool:
        """Whether the user is in exactly the claimed groups among their ``oidc`` ones, and
        in every claimed group."""
        with read_connection(self.engine) as connection:
            rows = connection.execute(
                select(groups.c.name, groups.c.source)
                .join(group_members, group_members.c.group_id == groups.c.id)
                .where(group_members.c.user_id == user_id)
            ).all()
        member_of = {row.name for row in rows}
        from_claims = {row.name for row in rows if row.source == OIDC}
        return names <= member_of and from_claims <= names

    def _sync(self, connection: Connection, user_id: str, names: set[str]) -> None:
        existing = {
            row.name: row.id for row in connection.execute(select(groups.c.name, groups.c.id).where(groups.c.name.in_(names)))
        } if names else {}
        for name in sorted(names - set(existing)):
            existing[name] = new_opaque_id()
            connection.execute(
                insert(groups).values(id=existing[name], name=name, display_name=name, source=OIDC, created_at=now_utc())
            )
        wanted = set(existing.values())
        current = {
            row.group_id: row.source
            for row in connection.execute(
                select(group_members.c.group_id, groups.c.source)
                .join(groups, groups.c.id == group_members.c.group_id)
                .where(group_members.c.user_id == user_id)
            )
        }
        for group_id in wanted - set(current):
            self._join(connection, group_id, user_id)
        stale = [group_id for group_id, source in current.items() if source == OIDC and group_id not in wanted]
        if stale:
            connection.execute(
                delete(group_members).where(group_members.c.user_id == user_id, group_members.c.group_id.in_(stale))
            )

    @staticmethod
    def _join(connection: Connection, group_id: str, user_id: str) -> None:
        taken = connection.execute(
            select(group_members.c.user_id).where(group_members.c.group_id == group_id, group_members.c.user_id == user_id)
        ).first()
        if taken is None:
            connection.execute(insert(group_members).values(group_id=group_id, user_id=user_id, added_at=now_utc()))

