"""The secure-view and watermark rules applied: the facts `core.policy.effects_for` needs,
gathered from storage (the caller's groups, e-mail and share role, the node's folders),
over the settings file's rules followed by the admins' (`PolicyStore`).

Every path that hands a file's bytes to a person asks `check_download` first; the editors
ask `effects` to set their own switches (ONLYOFFICE's permissions, WOPI's CheckFileInfo
flags) and the watermark.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import date, datetime

from core.events import DownloadRefused, EventBus
from core.policy import NO_EFFECTS, Effects, NodeFacts, PrincipalFacts, Rule, SecureViewRefused, effects_for
from storage.access import Access, Principal
from storage.metadata.database import now_utc
from storage.metadata.groups import GroupStore
from storage.metadata.policies import PolicyStore
from storage.metadata.users import UserStore
from storage.service import StorageService
from storage.types import Node

log = logging.getLogger(__name__)

REFUSED_MESSAGE = "downloading is not allowed for this file"


class Policies:
    def __init__(
        self,
        settings_rules: Sequence[Rule],
        store: PolicyStore,
        *,
        storage: StorageService,
        access: Access,
        groups: GroupStore,
        users: UserStore,
        events: EventBus,
        clock: Callable[[], datetime] = now_utc,
    ) -> None:
        self.settings_rules = tuple(settings_rules)
        self.store = store
        self.storage = storage
        self.access = access
        self.groups = groups
        self.users = users
        self.events = events
        self.clock = clock

    def rules(self) -> list[Rule]:
        """Every rule in the order it applies: the settings file's, then the admins'."""
        return [*self.settings_rules, *self.store.list()]

    def facts(self, principal: Principal, node: Node) -> tuple[PrincipalFacts, NodeFacts]:
        ancestors = self.storage.ancestors(node.id)
        node_facts = NodeFacts(str(node.id), node.name, frozenset(str(folder.id) for folder in ancestors))
        link = principal.link
        if link is not None:
            return PrincipalFacts(
                user_id=principal.user_id,
                display_name=principal.display_name,
                via_link=True,
                link_has_password=link.has_password,
                link_no_download=link.no_download,
            ), node_facts
        user = self.users.find(principal.user_id)
        via_share = self.access.permissions(principal, node).via_share
        return PrincipalFacts(
            user_id=principal.user_id,
            display_name=principal.display_name or (user.display_name if user else ""),
            email=user.email if user else "",
            groups=frozenset(group.name for group in self.groups.groups_of(principal.user_id)),
            share_role=via_share.role.value if via_share is not None else None,
        ), node_facts

    def effects(self, principal: Principal, node: Node) -> Effects:
        """What the rules give `principal` opening `node`."""
        rules = self.rules()
        if not rules and not (principal.link is not None and principal.link.no_download):
            return NO_EFFECTS
        principal_facts, node_facts = self.facts(principal, node)
        return effects_for(principal_facts, node_facts, rules, today=self.today())

    def today(self) -> date:
        return self.clock().date()

    def check_download(self, principal: Principal, node: Node, action: str = "download") -> Effects:
        """Refuse (SecureViewRefused) when secure view keeps `node`'s bytes from `principal`;
        the refusal is published as a `DownloadRefused` event for the audit trail."""
        effects = self.effects(principal, node)
        if effects.secure_view:
            self.refused(principal, node, action, effects)
            raise SecureViewRefused(REFUSED_MESSAGE)
        return effects

    def refused(self, principal: Principal, node: Node, action: str, effects: Effects) -> None:
        log.info("secure view: refused %s of %s to %s (%s)", action, node.id, principal.user_id,
                 ", ".join(effects.matched))
        self.events.publish(DownloadRefused(node.id, action, principal.user_id, ", ".join(effects.matched)))
