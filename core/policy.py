"""Secure view and watermark rules, pure: what a rule matches and what the rules that match
give, for one principal opening one node. No storage, no request: the facts come in as
plain values (`PrincipalFacts`, `NodeFacts`) and `effects_for` answers with `Effects`.

A rule matches when every condition it gives matches (a rule with none matches everyone):

- ``groups``: the caller is a member of one of them (owners too);
- ``folders``: the node is one of them or lies below one (owners too);
- ``share_roles``: the caller's access comes from a share with one of these roles (an
  owner's never does, nor a link visitor's);
- ``links``: the caller is a public-link visitor, through ``any`` link, a link with a
  ``password``, or a ``no_download`` link.

Effects combine: secure view when any matching rule asks for it (a no-download link is
secure view by itself); the watermark is the text of the first matching rule that has one,
in the order the rules are given (the settings file's first, then the admins', oldest
first), with its placeholders filled in.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from core.errors import AccessDenied, BadRequest
from core.ids import parse_resource_id

# The share roles a rule may name, least generous first (storage.types.ShareRole's values).
SHARE_ROLE_NAMES = ("viewer", "form_filler", "commenter", "reviewer", "editor")
PLACEHOLDERS = ("user_display_name", "user_id", "email", "date", "file_name")
MAX_WATERMARK_CHARS = 512
MAX_NAME_CHARS = 255
# What the effects name when a no-download link, not a rule, asks for secure view.
NO_DOWNLOAD_LINK = "no-download link"

_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")


class LinkCondition(enum.StrEnum):
    ANY = "any"
    PASSWORD = "password"  # noqa: S105 - a kind of link, not a secret
    NO_DOWNLOAD = "no_download"


class SecureViewRefused(AccessDenied):
    """Secure view keeps the file's bytes from this caller (a download, a copy)."""


class RuleError(ValueError):
    """A rule that cannot be used: `key` names the field, `reason` says why."""

    def __init__(self, key: str, reason: str) -> None:
        super().__init__(f"{key}: {reason}")
        self.key = key
        self.reason = reason


@dataclass(frozen=True, slots=True)
class PrincipalFacts:
    """Who opens: `share_role` is the role of the share that gives the access (None for
    owners and link visitors); the link fields describe a visitor's link."""

    user_id: str
    display_name: str = ""
    email: str = ""
    groups: frozenset[str] = frozenset()
    via_link: bool = False
    link_has_password: bool = False
    link_no_download: bool = False
    share_role: str | None = None


@dataclass(frozen=True, slots=True)
class NodeFacts:
    """What is opened: its id, its name and the ids of the folders above it."""

    file_id: str
    name: str
    folder_ids: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Rule:
    name: str
    id: str = ""
    groups: frozenset[str] = frozenset()
    share_roles: frozenset[str] = frozenset()
    links: LinkCondition | None = None
    folders: frozenset[str] = frozenset()
    secure_view: bool = False
    watermark: str = ""
    # From the settings file: listed by the admin API, changed only in the file.
    read_only: bool = False

    def matches(self, principal: PrincipalFacts, node: NodeFacts) -> bool:
        if self.groups and not self.groups & principal.groups:
            return False
        if self.folders and not self.folders & (node.folder_ids | {node.file_id}):
            return False
        if self.share_roles and principal.share_role not in self.share_roles:
            return False
        if self.links is not None and not _link_matches(self.links, principal):
            return False
        return True


def _link_matches(condition: LinkCondition, principal: PrincipalFacts) -> bool:
    if not principal.via_link:
        return False
    if condition is LinkCondition.PASSWORD:
        return principal.link_has_password
    if condition is LinkCondition.NO_DOWNLOAD:
        return principal.link_no_download
    return True


@dataclass(frozen=True, slots=True)
class Effects:
    """What the rules give: secure view (no download, no print, no copy or export), the
    watermark text (filled in, "" for none), and the names of what matched."""

    secure_view: bool = False
    watermark: str = ""
    matched: tuple[str, ...] = ()


NO_EFFECTS = Effects()


def effects_for(principal: PrincipalFacts, node: NodeFacts, rules: Iterable[Rule], *, today: date) -> Effects:
    """The effects of `rules` (in their order) for `principal` opening `node`."""
    secure_view = principal.via_link and principal.link_no_download
    matched: list[str] = [NO_DOWNLOAD_LINK] if secure_view else []
    watermark = ""
    for rule in rules:
        if not rule.matches(principal, node):
            continue
        matched.append(rule.name)
        secure_view = secure_view or rule.secure_view
        if not watermark and rule.watermark:
            watermark = render_watermark(rule.watermark, principal, node, today)
    return Effects(secure_view=secure_view, watermark=watermark, matched=tuple(matched))


def render_watermark(template: str, principal: PrincipalFacts, node: NodeFacts, today: date) -> str:
    """The watermark text with ``{user_display_name}``, ``{user_id}``, ``{email}``,
    ``{date}`` (YYYY-MM-DD) and ``{file_name}`` filled in."""
    values = {
        "user_display_name": principal.display_name or principal.user_id,
        "user_id": principal.user_id,
        "email": principal.email,
        "date": today.isoformat(),
        "file_name": node.name,
    }
    text = _PLACEHOLDER.sub(lambda match: values.get(match.group(1), match.group(0)), template)
    return " ".join(text.split())


def unknown_placeholders(template: str) -> list[str]:
    return [name for name in _PLACEHOLDER.findall(template) if name not in PLACEHOLDERS]


def make_rule(
    *,
    name: str,
    rule_id: str = "",
    groups: Sequence[str] = (),
    share_roles: Sequence[str] = (),
    links: str | None = None,
    folders: Sequence[str] = (),
    secure_view: bool = False,
    watermark: str = "",
    read_only: bool = False,
) -> Rule:
    """A rule from plain values, checked; RuleError names the field and the reason."""
    name = name.strip()
    if not name:
        raise RuleError("name", "a rule needs a name")
    if len(name) > MAX_NAME_CHARS:
        raise RuleError("name", f"longer than {MAX_NAME_CHARS} characters")
    for index, role in enumerate(share_roles):
        if role not in SHARE_ROLE_NAMES:
            allowed = ", ".join(SHARE_ROLE_NAMES)
            raise RuleError(f"share_roles[{index}]", f"{role!r} is not a share role ({allowed})")
    link_condition: LinkCondition | None = None
    if links is not None:
        try:
            link_condition = LinkCondition(links)
        except ValueError:
            raise RuleError("links", f"must be one of any, password, no_download, not {links!r}") from None
    if link_condition is not None and share_roles:
        raise RuleError("links", "a rule cannot ask for both links and share_roles: access comes through one or the other")
    for index, group in enumerate(groups):
        if not group.strip():
            raise RuleError(f"groups[{index}]", "empty group name")
    folder_ids: list[str] = []
    for index, folder in enumerate(folders):
        try:
            folder_ids.append(str(parse_resource_id(folder, "folder id")))
        except BadRequest:
            raise RuleError(f"folders[{index}]", f"{folder!r} is not a resource id (<storage>$<space>!<id>)") from None
    watermark = watermark.strip()
    if len(watermark) > MAX_WATERMARK_CHARS:
        raise RuleError("watermark", f"longer than {MAX_WATERMARK_CHARS} characters")
    unknown = unknown_placeholders(watermark)
    if unknown:
        known = " ".join("{" + item + "}" for item in PLACEHOLDERS)
        raise RuleError("watermark", f"unknown placeholder {{{unknown[0]}}} (known: {known})")
    if not secure_view and not watermark:
        raise RuleError("secure_view", "the rule has no effect: give secure_view: true or a watermark")
    return Rule(
        name=name,
        id=rule_id,
        groups=frozenset(groups),
        share_roles=frozenset(share_roles),
        links=link_condition,
        folders=frozenset(folder_ids),
        secure_view=secure_view,
        watermark=watermark,
        read_only=read_only,
    )
