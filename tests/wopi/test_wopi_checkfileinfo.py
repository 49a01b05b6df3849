from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

import pytest

from core.ids import ResourceId
from core.tokens import ViewMode
from storage.types import Node, NodeKind
from wopi.checkfileinfo import SCHEMA_PROPERTIES, Caller, HostUrls, check_file_info, iso_utc

MODIFIED = datetime(2026, 11, 21, 19, 58, 17, 123456, tzinfo=UTC)
NODE = Node(
    id=ResourceId("s", "p", "o"),
    kind=NodeKind.FILE,
    name="report.docx",
    parent_id=ResourceId("s", "p", "p"),
    owner_id="owner-1",
    mimetype="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    size=1234,
    version=3,
    sha256="00" * 31 + "ff",
    created=MODIFIED,
    modified=MODIFIED,
)
URLS = HostUrls(view="https://d.example/v", edit="https://d.example/e", close="https://d.example/")
REQUIRED = {"BaseFileName": str, "OwnerId": str, "Size": int, "UserId": str, "Version": str}


def caller(mode: ViewMode, **kw: object) -> Caller:
    return Caller(user_id="u1", display_name="Alice", view_mode=mode, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize("mode", list(ViewMode))
def test_only_schema_properties_and_required_types(mode: ViewMode) -> None:
    info = check_file_info(NODE, caller(mode, user_info="x", can_write_relative=True), URLS)
    assert set(info) <= SCHEMA_PROPERTIES
    for key, kind in REQUIRED.items():
        assert isinstance(info[key], kind)
    # schema: booleans are booleans, never strings
    for key, value in info.items():
        if key.startswith(("Supports", "UserCan", "Is")) or key in ("ReadOnly", "DisablePrint"):
            assert isinstance(value, bool), key


@pytest.mark.parametrize(
    ("mode", "relative", "expected"),
    [
        (ViewMode.WRITE, True, {"UserCanWrite": True, "ReadOnly": False, "UserCanRename": True, "UserCanNotWriteRelative": False}),
        (ViewMode.WRITE, False, {"UserCanWrite": True, "UserCanNotWriteRelative": True}),
        (ViewMode.READ, True, {"UserCanWrite": False, "ReadOnly": True, "UserCanRename": False, "UserCanNotWriteRelative": True}),
        (ViewMode.VIEW, True, {"UserCanWrite": False, "DisablePrint": True}),
    ],
)
def test_permissions_follow_the_token(mode: ViewMode, relative: bool, expected: dict[str, bool]) -> None:
    info = check_file_info(NODE, caller(mode, can_write_relative=relative), URLS)
    for key, value in expected.items():
        assert info[key] is value, key
    assert ("HostEditUrl" in info) is (mode is ViewMode.WRITE)
    assert ("DisablePrint" in info) is (mode is ViewMode.VIEW)


def test_values() -> None:
    info = check_file_info(NODE, caller(ViewMode.WRITE), URLS, folder_name="Home")
    assert info["BaseFileName"] == "report.docx"
    assert info["FileExtension"] == ".docx"
    assert info["Version"] == "3"
    assert info["LastModifiedTime"] == "2026-11-21T19:58:17.123456Z"
    assert info["SHA256"] == "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAP8="
    assert info["BreadcrumbFolderName"] == "Home"
    assert info["UserFriendlyName"] == "Alice"
    assert "UserInfo" not in info
    assert info["SupportsContainers"] is False


def test_last_modified_is_utc() -> None:
    plus_two = timezone(timedelta(hours=2))
    stamp = iso_utc(datetime(2026, 1, 1, 2, 0, tzinfo=plus_two))
    assert stamp == "2026-01-01T00:00:00.000000Z"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", stamp)


def test_no_extension_no_file_extension() -> None:
    node = Node(**{**{f: getattr(NODE, f) for f in NODE.__slots__}, "name": "README"})  # type: ignore[arg-type]
    assert "FileExtension" not in check_file_info(node, caller(ViewMode.READ), URLS)
