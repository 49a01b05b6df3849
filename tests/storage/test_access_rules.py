"""The access rule, from a table: (principal, groups, shares, node) → permissions."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from core.ids import ResourceId
from storage.access import Principal, ceiling_of, permissions_for
from storage.types import GranteeKind, Link, LinkRole, Node, NodeKind, Share, ShareRole

NOW = datetime(2026, 12, 1, tzinfo=UTC)
SPACE = "space-alice"
ROOT = ResourceId("docbridge", SPACE, SPACE)
PROJECTS = ResourceId("docbridge", SPACE, "projects")
DRAFTS = ResourceId("docbridge", SPACE, "drafts")
REPORT = ResourceId("docbridge", SPACE, "report")
ELSEWHERE = ResourceId("docbridge", SPACE, "elsewhere")
# report.docx lies in /projects/drafts of Alice's space
REPORT_ANCESTORS = [ROOT, PROJECTS, DRAFTS]

ALICE = Principal("u-alice", "alice", "Alice")
BOB = Principal("u-bob", "bob", "Bob")
GUEST = Principal("public-l1", "public", "Guest", link=Link("l1", "t", PROJECTS, LinkRole.VIEWER, False, None, "u-alice", NOW))
ENGINEERS = "g-engineers"
SALES = "g-sales"


def report() -> Node:
    return Node(REPORT, NodeKind.FILE, "report.docx", DRAFTS, "u-alice", "application/docx", 10, 1, "", NOW, NOW)


def share(on: ResourceId, role: ShareRole, *, user: str = "", group: str = "", can_share: bool = False) -> Share:
    kind, grantee = (GranteeKind.USER, user) if user else (GranteeKind.GROUP, group)
    return Share(f"s-{on.opaque_id}-{grantee}-{role}", on, kind, grantee, grantee, role, can_share, "u-alice", NOW)


V, FF, C, R, E = ShareRole.VIEWER, ShareRole.FORM_FILLER, ShareRole.COMMENTER, ShareRole.REVIEWER, ShareRole.EDITOR

# principal, groups, shares -> (read, write, share, role, share_up_to)
TABLE = [
    ("the owner", ALICE, set(), [], (True, True, True, E, E)),
    ("no share", BOB, set(), [], (False, False, False, None, None)),
    ("a file share", BOB, set(), [share(REPORT, C, user="u-bob")], (True, False, False, C, None)),
    ("a share of a folder above", BOB, set(), [share(PROJECTS, E, user="u-bob")], (True, True, False, E, None)),
    ("a share of another node", BOB, set(), [share(ELSEWHERE, E, user="u-bob")], (False, False, False, None, None)),
    ("someone else's share", BOB, set(), [share(REPORT, E, user="u-carol")], (False, False, False, None, None)),
    ("a group share", BOB, {ENGINEERS}, [share(DRAFTS, R, group=ENGINEERS)], (True, False, False, R, None)),
    ("a group the caller is not in", BOB, {SALES}, [share(DRAFTS, R, group=ENGINEERS)], (False, False, False, None, None)),
    ("the most generous wins", BOB, {ENGINEERS},
     [share(REPORT, V, user="u-bob"), share(PROJECTS, FF, group=ENGINEERS), share(DRAFTS, E, group=ENGINEERS)],
     (True, True, False, E, None)),
    ("roles rank as documented", BOB, set(), [share(REPORT, FF, user="u-bob"), share(DRAFTS, C, user="u-bob")],
     (True, False, False, C, None)),
    ("sharing on, up to the role that allows it", BOB, {ENGINEERS},
     [share(REPORT, E, user="u-bob"), share(PROJECTS, C, group=ENGINEERS, can_share=True)],
     (True, True, True, E, C)),
    ("sharing on from the best role", BOB, set(), [share(DRAFTS, R, user="u-bob", can_share=True)],
     (True, False, True, R, R)),
    ("a link inside its folder", GUEST, set(), [], (True, False, False, V, None)),
    ("a link ignores shares", GUEST, set(), [share(REPORT, E, user="public-l1")], (True, False, False, V, None)),
]


@pytest.mark.parametrize(("case", "principal", "groups", "shares", "expected"), TABLE, ids=[row[0] for row in TABLE])
def test_permissions(case: str, principal: Principal, groups: set[str], shares: list[Share],
                     expected: tuple[bool, bool, bool, ShareRole | None, ShareRole | None]) -> None:
    found = permissions_for(principal, report(), REPORT_ANCESTORS, shares, frozenset(groups))
    assert (found.read, found.write, found.share, found.role, found.share_up_to) == expected
    assert found.shared_with == (bool(shares) and found.read and principal is BOB)


@pytest.mark.parametrize(("role", "mode"), [(V, "read"), (FF, "read"), (C, "read"), (R, "read"), (E, "write")])
def test_the_view_mode_a_role_reaches(role: ShareRole, mode: str) -> None:
    found = permissions_for(BOB, report(), REPORT_ANCESTORS, [share(REPORT, role, user="u-bob")])
    ceiling = ceiling_of(found)
    assert ceiling is not None and ceiling.value == mode


def test_a_link_outside_its_folder_sees_nothing() -> None:
    outside = Node(ELSEWHERE, NodeKind.FILE, "x.docx", ROOT, "u-alice", "", 1, 1, "", NOW, NOW)
    assert ceiling_of(permissions_for(GUEST, outside, [ROOT])) is None
