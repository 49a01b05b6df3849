from __future__ import annotations

import pytest

from core.tokens import ViewMode
from onlyoffice.formats import FORMATS, DocumentType, OpenPlan, format_for, open_plan, registry_mimetypes


@pytest.mark.parametrize(
    ("extension", "document_type", "editable", "target"),
    [
        ("docx", DocumentType.WORD, True, None),
        ("XLSX", DocumentType.CELL, True, None),
        ("pptx", DocumentType.SLIDE, True, None),
        ("pdf", DocumentType.PDF, True, None),
        ("doc", DocumentType.WORD, False, "docx"),
        ("xls", DocumentType.CELL, False, "xlsx"),
        ("ppt", DocumentType.SLIDE, False, "pptx"),
        ("odt", DocumentType.WORD, False, "docx"),
        ("csv", DocumentType.CELL, False, None),
        ("vsdx", DocumentType.DIAGRAM, False, None),
        ("djvu", DocumentType.PDF, False, None),
    ],
)
def test_table_rows(extension: str, document_type: DocumentType, editable: bool, target: str | None) -> None:
    fmt = format_for(extension)
    assert fmt is not None
    assert fmt.document_type is document_type
    assert fmt.editable is editable
    assert fmt.convert_target == target


def test_unknown_extension() -> None:
    assert format_for("exe") is None
    assert open_plan(None, ViewMode.WRITE) is OpenPlan.UNSUPPORTED


@pytest.mark.parametrize(
    ("extension", "mode", "lossy", "plan"),
    [
        ("docx", ViewMode.WRITE, (), OpenPlan.EDIT),
        ("docx", ViewMode.READ, (), OpenPlan.VIEW),
        ("docx", ViewMode.VIEW, (), OpenPlan.VIEW),
        ("doc", ViewMode.WRITE, (), OpenPlan.CONVERT),
        ("doc", ViewMode.READ, (), OpenPlan.VIEW),
        ("odt", ViewMode.WRITE, (), OpenPlan.CONVERT),
        ("odt", ViewMode.WRITE, ("odt",), OpenPlan.EDIT),
        ("csv", ViewMode.WRITE, (), OpenPlan.VIEW),
        ("csv", ViewMode.WRITE, ("CSV",), OpenPlan.EDIT),
        ("vsdx", ViewMode.WRITE, ("vsdx",), OpenPlan.VIEW),
        ("djvu", ViewMode.WRITE, (), OpenPlan.VIEW),
    ],
)
def test_open_plan(extension: str, mode: ViewMode, lossy: tuple[str, ...], plan: OpenPlan) -> None:
    assert open_plan(format_for(extension), mode, lossy) is plan


def test_registry_mimetypes_cover_edit_view_and_convert_once() -> None:
    mimetypes = registry_mimetypes()
    assert len(mimetypes) == len(set(mimetypes))
    for expected in (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/msword",
        "application/vnd.ms-excel",
        "application/vnd.oasis.opendocument.text",
        "application/pdf",
    ):
        assert expected in mimetypes
    assert "application/octet-stream" not in mimetypes
    assert all(fmt.mimetypes for fmt in FORMATS.values())


def test_target_ext_is_only_for_templates() -> None:
    from core.config import OnlyofficeSettings
    from core.filetypes import guess_mimetype
    from onlyoffice.driver import provider_for

    target_ext = provider_for(OnlyofficeSettings(document_server_url="http://ds.test/")).target_ext
    assert target_ext[guess_mimetype("a.dotx")] == "docx"
    assert target_ext[guess_mimetype("a.potx")] == "pptx"
    assert guess_mimetype("a.docx") not in target_ext
