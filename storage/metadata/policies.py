"""The secure-view and watermark rules admins manage over the API (``/api/v1/admin/policies``),
kept in SQL so every instance applies the same ones. Rules are checked by
`core.policy.make_rule` before they are stored; the list comes back oldest first, the order
in which they apply after the settings file's."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from core.errors import AlreadyExists, NotFound
from core.ids import new_opaque_id
from core.policy import Rule, make_rule
from storage.metadata.database import cached_read, now_utc, read_connection, write_transaction
from storage.metadata.schema import policies


def _names(text: str) -> list[str]:
    loaded = json.loads(text or "[]")
    return [str(item) for item in loaded] if isinstance(loaded, list) else []


_ALL_RULES = select(policies).order_by(policies.c.created_at, policies.c.id)  # read by every open and download


class PolicyStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @staticmethod
    def _rule(row: Any) -> Rule:
        return make_rule(
            name=row.name,
            rule_id=row.id,
            groups=_names(row.groups),
            share_roles=_names(row.share_roles),
            links=row.links,
            folders=_names(row.folders),
            secure_view=bool(row.secure_view),
            watermark=row.watermark or "",
        )

    @staticmethod
    def _values(rule: Rule) -> dict[str, Any]:
        return {
            "name": rule.name,
            "groups": json.dumps(sorted(rule.groups)),
            "share_roles": json.dumps(sorted(rule.share_roles)),
            "links": rule.links.value if rule.links is not None else None,
            "folders": json.dumps(sorted(rule.folders)),
            "secure_view": rule.secure_view,
            "watermark": rule.watermark,
        }

    def list(self) -> list[Rule]:
        def load(connection: Connection) -> tuple[Rule, ...]:
            return tuple(self._rule(row) for row in connection.execute(_ALL_RULES))

        return list(cached_read(self.engine, ("policies",), load))

    def get(self, rule_id: str) -> Rule:
        with read_connection(self.engine) as connection:
            row = connection.execute(select(policies).where(policies.c.id == rule_id)).first()
        if row is None:
            raise NotFound("no such policy")
        return self._rule(row)

    def create(self, rule: Rule, created_by: str | None) -> Rule:
        rule_id = new_opaque_id()
        now = now_utc()
        try:
            with write_transaction(self.engine) as connection:
                connection.execute(insert(policies).values(
                    id=rule_id, created_by=created_by, created_at=now, updated_at=now, **self._values(rule)))
        except IntegrityError:
            raise AlreadyExists(f"a policy named {rule.name!r} exists") from None
        return self.get(rule_id)

    def replace(self, rule_id: str, rule: Rule) -> Rule:
        try:
            with write_transaction(self.engine) as connection:
                changed = connection.execute(
                    update(policies).where(policies.c.id == rule_id).values(updated_at=now_utc(), **self._values(rule))
                ).rowcount
        except IntegrityError:
            raise AlreadyExists(f"a policy named {rule.name!r} exists") from None
        if not changed:
            raise NotFound("no such policy")
        return self.get(rule_id)

    def delete(self, rule_id: str) -> None:
        with write_transaction(self.engine) as connection:
            removed = connection.execute(delete(policies).where(policies.c.id == rule_id)).rowcount
        if not removed:
            raise NotFound("no such policy")

    def names(self) -> Sequence[str]:
        with read_connection(self.engine) as connection:
            return [str(name) for name in connection.execute(select(policies.c.name)).scalars()]
