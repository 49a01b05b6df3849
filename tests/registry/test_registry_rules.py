"""Request rules from tables: language tags, view modes, public-link roles, new names."""

from __future__ import annotations

import pytest

from core.errors import AccessDenied, BadRequest
from core.tokens import ViewMode
from registry.rules import (
    ISO_639_1,
    check_lang,
    check_new_filename,
    external_uri,
    link_view_mode,
    parse_view_mode,
    settle_view_mode,
)
from storage.types import LinkRole


@pytest.mark.parametrize("lang", ["", "de", "pt_BR", "de-DE", "en_US", "zh-Hant-TW"])
def test_valid_lang(lang: str) -> None:
    check_lang(lang)


@pytest.mark.parametrize("lang", ["xx", "DE", "english", "_de", "d", "de DE", "-"])
def test_invalid_lang(lang: str) -> None:
    with pytest.raises(BadRequest, match="^lang parameter does not contain a valid ISO 639-1 language code$"):
        check_lang(lang)


def test_iso_639_1_is_complete() -> None:
    assert len(ISO_639_1) == 184


@pytest.mark.parametrize(
    ("text", "expected"),
    [("", None), (None, None), ("view", ViewMode.VIEW), ("read", ViewMode.READ), ("write", ViewMode.WRITE)],
)
def test_parse_view_mode(text: str | None, expected: ViewMode | None) -> None:
    assert parse_view_mode(text) is expected


@pytest.mark.parametrize("text", ["edit", "WRITE", "VIEW_MODE_READ_WRITE", " view", "preview"])
def test_invalid_view_mode(text: str) -> None:
    with pytest.raises(BadRequest, match="^invalid view mode$"):
        parse_view_mode(text)


V, R, W = ViewMode.VIEW, ViewMode.READ, ViewMode.WRITE


@pytest.mark.parametrize(
    ("requested", "ceiling", "expected"),
    [
        (None, W, W),
        (None, R, R),
        (None, V, V),
        (W, W, W),
        (R, W, R),
        (V, W, V),
        (W, R, R),
        (R, R, R),
        (V, R, V),  # lowered, never raised
        (W, V, V),
        (R, V, V),
        (V, V, V),
    ],
)
def test_settle_view_mode(requested: ViewMode | None, ceiling: ViewMode, expected: ViewMode) -> None:
    assert settle_view_mode(requested, ceiling) is expected


def test_no_ceiling_may_not_open() -> None:
    with pytest.raises(AccessDenied, match="^permission denied to open the application$"):
        settle_view_mode(ViewMode.VIEW, None)


@pytest.mark.parametrize(("role", "mode"), [(LinkRole.VIEWER, ViewMode.VIEW), (LinkRole.EDITOR, ViewMode.WRITE)])
def test_link_roles_that_open(role: LinkRole, mode: ViewMode) -> None:
    assert link_view_mode(role) is mode


def test_uploader_link_may_not_open() -> None:
    with pytest.raises(AccessDenied, match="^permission denied to open the application$"):
        link_view_mode(LinkRole.UPLOADER)


@pytest.mark.parametrize(
    "name",
    [
        "a/b.odt",
        "/b.odt",
        "b/",
        "..",
        ".",
        "..\\evil.docx",
        "../../etc/passwd",
        "a\x00b.txt",
        "tab\t.txt",
        "new\nline.md",
        "\x7f.txt",
    ],
)
def test_filename_with_a_path_segment(name: str) -> None:
    with pytest.raises(BadRequest, match="^the filename must not contain a path segment$"):
        check_new_filename(name)


def test_filename_too_long_keeps_the_storage_message() -> None:
    with pytest.raises(BadRequest, match="longer than 255 bytes"):
        check_new_filename("x" * 256 + ".txt")


@pytest.mark.parametrize("name", ["report.docx", "..hidden.txt", "a..b.odt", "Ünïcödé 2026.xlsx", ".md"])
def test_good_filenames(name: str) -> None:
    assert check_new_filename(name) == name


def test_external_uri_sorted_and_encoded() -> None:
    uri = external_uri("https://docs.example.org", "Collabora Online", "s$p!o")
    assert uri == (
        "https://docs.example.org/external?app=Collabora+Online&contextRouteName=files-spaces-personal&fileId=s%24p%21o"
    )
