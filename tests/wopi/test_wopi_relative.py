from __future__ import annotations

import pytest

from core.errors import InvalidName, NotImplementedFeature
from storage.names import free_name
from wopi.relative import TargetMode, renamed, resolve_relative_target


@pytest.mark.parametrize(
    ("suggested", "relative", "overwrite", "expected"),
    [
        (".pdf", None, None, (TargetMode.SUGGESTED, "report.pdf", False)),
        ("other.docx", None, "true", (TargetMode.SUGGESTED, "other.docx", False)),
        (None, "exact.odt", None, (TargetMode.RELATIVE, "exact.odt", False)),
        (None, "exact.odt", "True", (TargetMode.RELATIVE, "exact.odt", True)),
        (None, "exact.odt", "false", (TargetMode.RELATIVE, "exact.odt", False)),
    ],
)
def test_targets(suggested, relative, overwrite, expected) -> None:  # type: ignore[no-untyped-def]
    target = resolve_relative_target(suggested, relative, overwrite, "report.docx")
    assert (target.mode, target.name, target.overwrite) == expected


@pytest.mark.parametrize(("suggested", "relative"), [(None, None), ("a.pdf", "b.pdf")])
def test_both_or_neither_is_not_implemented(suggested: str | None, relative: str | None) -> None:
    with pytest.raises(NotImplementedFeature):
        resolve_relative_target(suggested, relative, None, "report.docx")


@pytest.mark.parametrize("name", ["a/b.docx", "x" * 600 + ".docx", "..", "bad\x00.docx"])
def test_invalid_names(name: str) -> None:
    with pytest.raises(InvalidName):
        resolve_relative_target(None, name, None, "report.docx")


def test_free_name_counts_up() -> None:
    taken = {"a.docx", "a (1).docx"}
    assert free_name("a.docx", taken.__contains__) == "a (2).docx"
    assert free_name("b.docx", taken.__contains__) == "b.docx"


def test_rename_keeps_extension() -> None:
    assert renamed("report.docx", "summary") == "summary.docx"
    assert renamed("README", "notes") == "notes"
    with pytest.raises(InvalidName):
        renamed("report.docx", "a/b")
