"""The shipped blank documents are valid packages: what an editor checks before opening."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path, PurePosixPath

import pytest
from defusedxml import ElementTree

from registry.blank_files import EXTENSIONS, blank_path

GENERATOR = Path(__file__).resolve().parents[2] / "scripts" / "make_blank_documents.py"

CT = "{http://schemas.openxmlformats.org/package/2006/content-types}"
REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"
OFFICE_DOCUMENT = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"
MANIFEST = "{urn:oasis:names:tc:opendocument:xmlns:manifest:1.0}"
OFFICE = "{urn:oasis:names:tc:opendocument:xmlns:office:1.0}"

OOXML_MAIN = {
    "docx": ("word/document.xml", "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"),
    "xlsx": ("xl/workbook.xml", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"),
    "pptx": (
        "ppt/presentation.xml",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml",
    ),
}
ODF_BODY = {
    "odt": ("application/vnd.oasis.opendocument.text", "text"),
    "ods": ("application/vnd.oasis.opendocument.spreadsheet", "spreadsheet"),
    "odp": ("application/vnd.oasis.opendocument.presentation", "presentation"),
}


def _archive(extension: str) -> zipfile.ZipFile:
    path = blank_path(extension)
    assert path is not None and path.is_file()
    archive = zipfile.ZipFile(path)
    assert archive.testzip() is None
    return archive


def _resolve(source: str, target: str) -> str:
    base = PurePosixPath(source).parent
    parts: list[str] = []
    for part in (base / target).parts:
        if part == "..":
            parts.pop()
        elif part not in (".", ""):
            parts.append(part)
    return "/".join(parts)


@pytest.mark.parametrize("extension", sorted(OOXML_MAIN))
def test_office_open_xml_package(extension: str) -> None:
    archive = _archive(extension)
    names = set(archive.namelist())
    # Every XML part parses.
    for name in names:
        ElementTree.fromstring(archive.read(name))
    types = ElementTree.fromstring(archive.read("[Content_Types].xml"))
    defaults = {d.get("Extension"): d.get("ContentType") for d in types.iter(f"{CT}Default")}
    overrides = {o.get("PartName"): o.get("ContentType") for o in types.iter(f"{CT}Override")}
    assert defaults["rels"] == "application/vnd.openxmlformats-package.relationships+xml"
    main_part, main_type = OOXML_MAIN[extension]
    assert overrides[f"/{main_part}"] == main_type
    # Every override names a part that exists, and every part has a content type.
    assert {name.lstrip("/") for name in overrides} <= names
    for name in names:
        assert f"/{name}" in overrides or name.rsplit(".", 1)[-1] in defaults, name
    root_rels = ElementTree.fromstring(archive.read("_rels/.rels"))
    [office] = [r for r in root_rels.iter(f"{REL}Relationship") if r.get("Type") == OFFICE_DOCUMENT]
    assert office.get("Target") == main_part
    # Every relationship of every part points at a part inside the package.
    for name in names:
        if not name.endswith(".rels") or name == "_rels/.rels":
            continue
        source = name.replace("_rels/", "").removesuffix(".rels")
        for relation in ElementTree.fromstring(archive.read(name)).iter(f"{REL}Relationship"):
            assert _resolve(source, relation.get("Target")) in names, (name, relation.get("Target"))


def test_pptx_has_master_layout_theme_and_a_slide() -> None:
    names = set(_archive("pptx").namelist())
    assert {
        "ppt/slideMasters/slideMaster1.xml",
        "ppt/slideLayouts/slideLayout1.xml",
        "ppt/theme/theme1.xml",
        "ppt/slides/slide1.xml",
    } <= names


@pytest.mark.parametrize("extension", sorted(ODF_BODY))
def test_opendocument_package(extension: str) -> None:
    archive = _archive(extension)
    mimetype, body = ODF_BODY[extension]
    first = archive.infolist()[0]
    assert first.filename == "mimetype"
    assert first.compress_type == zipfile.ZIP_STORED
    assert not first.extra
    assert archive.read("mimetype") == mimetype.encode("ascii")
    manifest = ElementTree.fromstring(archive.read("META-INF/manifest.xml"))
    entries = {
        e.get(f"{MANIFEST}full-path"): e.get(f"{MANIFEST}media-type") for e in manifest.iter(f"{MANIFEST}file-entry")
    }
    assert entries["/"] == mimetype
    for path in entries:
        if path != "/":
            assert path in archive.namelist()
    content = ElementTree.fromstring(archive.read("content.xml"))
    assert content.find(f"{OFFICE}body/{OFFICE}{body}") is not None
    ElementTree.fromstring(archive.read("styles.xml"))


def test_shipped_files_are_what_the_generator_makes(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(GENERATOR), str(tmp_path)], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(f"blank.{ext}" for ext in EXTENSIONS)
    for extension in EXTENSIONS:
        shipped = blank_path(extension)
        assert shipped is not None
        assert (tmp_path / f"blank.{extension}").read_bytes() == shipped.read_bytes(), extension


@pytest.mark.parametrize("extension", ["txt", "md", "pdf", "doc", "", "DOCX"])
def test_no_blank_for_other_types(extension: str) -> None:
    assert (blank_path(extension) is None) == (extension != "DOCX")
