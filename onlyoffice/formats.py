"""The formats table: which files ONLYOFFICE Docs edits, views or converts (their
mimetypes are the ones `core.filetypes` lists for each extension).

The table is data, derived from ONLYOFFICE/document-formats 3.2.0
(``onlyoffice-docs-formats.json``). NOTICE: the format list and actions come from
ONLYOFFICE/document-formats, Copyright Ascensio System SIA, licensed under Apache-2.0.

`open_plan` turns a format, the user's view mode and the admin's lossy-edit choice into how
the editor opens the file: edit in place, view, or "convert and edit" into an OOXML copy.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from core.filetypes import mimetypes_of
from core.tokens import ViewMode


class DocumentType(enum.StrEnum):
    WORD = "word"
    CELL = "cell"
    SLIDE = "slide"
    PDF = "pdf"
    DIAGRAM = "diagram"


class FormatAction(enum.StrEnum):
    VIEW = "view"
    EDIT = "edit"
    LOSSY_EDIT = "lossy-edit"
    AUTO_CONVERT = "auto-convert"


# The OOXML format a document type is converted to for "convert and edit".
OOXML_TARGET: Mapping[DocumentType, str] = {
    DocumentType.WORD: "docx",
    DocumentType.CELL: "xlsx",
    DocumentType.SLIDE: "pptx",
}


@dataclass(frozen=True, slots=True)
class Format:
    extension: str
    document_type: DocumentType
    actions: frozenset[FormatAction]
    mimetypes: tuple[str, ...]

    @property
    def editable(self) -> bool:
        return FormatAction.EDIT in self.actions

    @property
    def lossy(self) -> bool:
        return FormatAction.LOSSY_EDIT in self.actions

    @property
    def convert_target(self) -> str | None:
        """The OOXML extension "convert and edit" produces, None when it is not offered."""
        if self.editable or FormatAction.AUTO_CONVERT not in self.actions:
            return None
        return OOXML_TARGET.get(self.document_type)


_E = frozenset({FormatAction.VIEW, FormatAction.EDIT})
_L = frozenset({FormatAction.VIEW, FormatAction.LOSSY_EDIT})
_LC = frozenset({FormatAction.VIEW, FormatAction.LOSSY_EDIT, FormatAction.AUTO_CONVERT})
_V = frozenset({FormatAction.VIEW})
_VC = frozenset({FormatAction.VIEW, FormatAction.AUTO_CONVERT})

_W, _C, _S, _P, _D = (
    DocumentType.WORD,
    DocumentType.CELL,
    DocumentType.SLIDE,
    DocumentType.PDF,
    DocumentType.DIAGRAM,
)

# extension, document type, actions; the mimetypes are core.filetypes' for the extension
_TABLE: tuple[tuple[str, DocumentType, frozenset[FormatAction]], ...] = (
    # word processing
    ("docx", _W, _E),
    ("docm", _W, _E),
    ("dotx", _W, _E),
    ("dotm", _W, _E),
    ("epub", _W, _LC),
    ("fb2", _W, _LC),
    ("html", _W, _LC),
    ("odt", _W, _LC),
    ("ott", _W, _LC),
    ("rtf", _W, _LC),
    ("txt", _W, _L),
    ("doc", _W, _VC),
    ("dot", _W, _VC),
    ("fodt", _W, _VC),
    ("hml", _W, _VC),
    ("htm", _W, _VC),
    ("hwp", _W, _VC),
    ("hwpx", _W, _VC),
    ("md", _W, _VC),
    ("mht", _W, _VC),
    ("mhtml", _W, _VC),
    ("pages", _W, _VC),
    ("stw", _W, _VC),
    ("sxw", _W, _VC),
    ("wps", _W, _VC),
    ("wpt", _W, _VC),
    ("xml", _W, _VC),
    ("gdoc", _W, _V),
    # spreadsheets
    ("xlsx", _C, _E),
    ("xlsm", _C, _E),
    ("xltx", _C, _E),
    ("xltm", _C, _E),
    ("xlsb", _C, _E),
    ("csv", _C, _L),
    ("tsv", _C, _L),
    ("ods", _C, _LC),
    ("ots", _C, _LC),
    ("et", _C, _VC),
    ("ett", _C, _VC),
    ("fods", _C, _VC),
    ("numbers", _C, _VC),
    ("sxc", _C, _VC),
    ("xls", _C, _VC),
    ("xlt", _C, _VC),
    ("gsheet", _C, _V),
    # presentations
    ("pptx", _S, _E),
    ("pptm", _S, _E),
    ("ppsx", _S, _E),
    ("ppsm", _S, _E),
    ("potx", _S, _E),
    ("potm", _S, _E),
    ("odp", _S, _LC),
    ("otp", _S, _LC),
    ("dps", _S, _VC),
    ("dpt", _S, _VC),
    ("fodp", _S, _VC),
    ("key", _S, _VC),
    ("odg", _S, _VC),
    ("pot", _S, _VC),
    ("pps", _S, _VC),
    ("ppt", _S, _VC),
    ("sxi", _S, _VC),
    ("gslides", _S, _V),
    # fixed layout
    ("pdf", _P, _E),
    ("djvu", _P, _V),
    ("docxf", _P, _V),
    ("oform", _P, _V),
    ("oxps", _P, _V),
    ("xps", _P, _V),
    # diagrams
    ("vsdx", _D, _V),
    ("vsdm", _D, _V),
    ("vssx", _D, _V),
    ("vssm", _D, _V),
    ("vstx", _D, _V),
    ("vstm", _D, _V),
)

FORMATS: Mapping[str, Format] = {
    extension: Format(extension, document_type, actions, mimetypes_of(extension))
    for extension, document_type, actions in _TABLE
}


def format_for(extension: str) -> Format | None:
    return FORMATS.get(extension.lower().lstrip("."))


def registry_mimetypes(formats: Iterable[Format] | None = None) -> tuple[str, ...]:
    """Every mimetype of the table, once, in table order: what the driver registers."""
    seen: dict[str, None] = {}
    for item in formats if formats is not None else FORMATS.values():
        for mimetype in item.mimetypes:
            seen.setdefault(mimetype, None)
    return tuple(seen)


class OpenPlan(enum.StrEnum):
    EDIT = "edit"  # the editor opens the file itself for editing
    VIEW = "view"  # read-only
    CONVERT = "convert"  # read-only now; "convert and edit" makes an OOXML copy
    UNSUPPORTED = "unsupported"


def open_plan(fmt: Format | None, view_mode: ViewMode, lossy_edit: Iterable[str] = ()) -> OpenPlan:
    """How a file of format `fmt` opens for a user holding `view_mode`.

    Editable formats open for editing with write access. Lossy-edit formats (odt, rtf, csv…)
    are edited in place only when the admin lists them in `lossy_edit`; otherwise, like the
    legacy formats (doc, xls, ppt…), they open read-only with "convert and edit" offered when
    the user may write and the table gives an OOXML target. View-only formats stay read-only.
    """
    if fmt is None:
        return OpenPlan.UNSUPPORTED
    if view_mode is not ViewMode.WRITE:
        return OpenPlan.VIEW
    if fmt.editable or (fmt.lossy and fmt.extension in {ext.lower() for ext in lossy_edit}):
        return OpenPlan.EDIT
    if fmt.convert_target is not None:
        return OpenPlan.CONVERT
    return OpenPlan.VIEW
