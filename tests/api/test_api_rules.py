"""The pure rules of `api.service`: conditional uploads, link roles and expiry times, and
what a public link may not do to its own node."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from api.service import etag_for, expected_version, parse_expiry, parse_role, refuse_link_target
from core.errors import AccessDenied, BadRequest
from core.ids import ResourceId
from storage.access import principal_for_link
from storage.types import Link, LinkRole, Node, NodeKind

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
SHA = "ab" * 32
FILE = Node(
    id=ResourceId("docbridge", "space", "file"),
    kind=NodeKind.FILE,
    name="a.txt",
    parent_id=ResourceId("docbridge", "space", "space"),
    owner_id="alice",
    mimetype="text/plain",
    size=2,
    version=3,
    sha256=SHA,
    created=NOW,
    modified=NOW,
)
CURRENT = etag_for(3, SHA)


@pytest.mark.parametrize(
    ("if_match", "expected"),
    [
        (None, None),
        ("", None),
        ("*", None),
        (" * ", None),
        (f'"{CURRENT}"', 3),
        (f'W/"{CURRENT}"', 3),
        (f'"v1-x", "{CURRENT}"', 3),
        (CURRENT, 3),
        (f'"{etag_for(2, SHA)}"', -1),
        ('"something-else"', -1),
    ],
)
def test_if_match_decides_the_expected_version(if_match: str | None, expected: int | None) -> None:
    assert expected_version(FILE, if_match) == expected


@pytest.mark.parametrize("text", ["viewer", "editor", "uploader"])
def test_link_roles(text: str) -> None:
    assert parse_role(text) is LinkRole(text)


@pytest.mark.parametrize("text", ["", "owner", "Viewer"])
def test_unknown_link_roles_are_bad_requests(text: str) -> None:
    with pytest.raises(BadRequest, match="role must be"):
        parse_role(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (None, None),
        ("", None),
        ("2030-01-02T03:04:05Z", datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)),
        ("2030-01-02T03:04:05+02:00", datetime(2030, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=2)))),
    ],
)
def test_expiry_times(text: str | None, expected: datetime | None) -> None:
    assert parse_expiry(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [("tomorrow", "ISO 8601"), ("2030-13-01T00:00:00Z", "ISO 8601"), ("2030-01-02T03:04:05", "time zone")],
)
def test_bad_expiry_times(text: str, message: str) -> None:
    with pytest.raises(BadRequest, match=message):
        parse_expiry(text)


def _link_on(node_id: ResourceId) -> Link:
    return Link(
        id="link",
        token="token",
        node_id=node_id,
        role=LinkRole.EDITOR,
        has_password=False,
        expires_at=None,
        created_by="alice",
        created=NOW,
    )


def test_a_link_cannot_change_its_own_node_but_what_is_below() -> None:
    with pytest.raises(AccessDenied, match="cannot rename what it points to"):
        refuse_link_target(principal_for_link(_link_on(FILE.id)), FILE, "rename")
    assert FILE.parent_id is not None
    refuse_link_target(principal_for_link(_link_on(FILE.parent_id)), FILE, "rename")
