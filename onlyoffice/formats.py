"""The formats table: which files ONLYOFFICE Docs edits, views or converts, and their mimetypes.

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

# extension, document type, actions, mimetypes (the first is the canonical one)
_TABLE: tuple[tuple[str, DocumentType, frozenset[FormatAction], tuple[str, ...]], ...] = (
    # word processing
    ("docx", _W, _E, ("application/vnd.openxmlformats-officedocument.wordprocessingml.document",)),
    ("docm", _W, _E, ("application/vnd.ms-word.document.macroEnabled.12",)),
    ("dotx", _W, _E, ("application/vnd.openxmlformats-officedocument.wordprocessingml.template",)),
    ("dotm", _W, _E, ("application/vnd.ms-word.template.macroEnabled.12",)),
    ("epub", _W, _LC, ("application/epub+zip",)),
    ("fb2", _W, _LC, ("text/fb2+xml", "application/x-fictionbook+xml")),
    ("html", _W, _LC, ("text/html",)),
    ("odt", _W, _LC, ("application/vnd.oasis.opendocument.text",)),
    ("ott", _W, _LC, ("application/vnd.oasis.opendocument.text-template",)),
    ("rtf", _W, _LC, ("application/rtf", "text/rtf")),
    ("txt", _W, _L, ("text/plain",)),
    ("doc", _W, _VC, ("application/msword",)),
    ("dot", _W, _VC, ("application/msword-template",)),
    ("fodt", _W, _VC, ("application/vnd.oasis.opendocument.text-flat-xml",)),
    ("hml", _W, _VC, ("multipart/related",)),
    ("htm", _W, _VC, ("text/html",)),
    ("hwp", _W, _VC, ("application/x-hwp",)),
    ("hwpx", _W, _VC, ("application/x-hwpx",)),
    ("md", _W, _VC, ("text/markdown",)),
    ("mht", _W, _VC, ("message/rfc822",)),
    ("mhtml", _W, _VC, ("message/rfc822",)),
    ("pages", _W, _VC, ("application/x-iwork-pages-sffpages",)),
    ("stw", _W, _VC, ("application/vnd.sun.xml.writer.template",)),
    ("sxw", _W, _VC, ("application/vnd.sun.xml.writer",)),
    ("wps", _W, _VC, ("application/vnd.ms-works",)),
    ("wpt", _W, _VC, ("application/vnd.ms-works-template",)),
    ("xml", _W, _VC, ("application/xml", "text/xml")),
    ("gdoc", _W, _V, ("application/vnd.google-apps.document",)),
    # spreadsheets
    ("xlsx", _C, _E, ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",)),
    ("xlsm", _C, _E, ("application/vnd.ms-excel.sheet.macroEnabled.12",)),
    ("xltx", _C, _E, ("application/vnd.openxmlformats-officedocument.spreadsheetml.template",)),
    ("xltm", _C, _E, ("application/vnd.ms-excel.template.macroEnabled.12",)),
    ("xlsb", _C, _E, ("application/vnd.ms-excel.sheet.binary.macroEnabled.12",)),
    ("csv", _C, _L, ("text/csv",)),
    ("tsv", _C, _L, ("text/tab-separated-values",)),
    ("ods", _C, _LC, ("application/vnd.oasis.opendocument.spreadsheet",)),
    ("ots", _C, _LC, ("application/vnd.oasis.opendocument.spreadsheet-template",)),
    ("et", _C, _VC, ("application/vnd.ms-excel",)),
    ("ett", _C, _VC, ("application/vnd.ms-excel",)),
    ("fods", _C, _VC, ("application/vnd.oasis.opendocument.spreadsheet-flat-xml",)),
    ("numbers", _C, _VC, ("application/x-iwork-numbers-sffnumbers",)),
    ("sxc", _C, _VC, ("application/vnd.sun.xml.calc",)),
    ("xls", _C, _VC, ("application/vnd.ms-excel",)),
    ("xlt", _C, _VC, ("application/vnd.ms-excel",)),
    ("gsheet", _C, _V, ("application/vnd.google-apps.spreadsheet",)),
    # presentations
    ("pptx", _S, _E, ("application/vnd.openxmlformats-officedocument.presentationml.presentation",)),
    ("pptm", _S, _E, ("application/vnd.ms-powerpoint.presentation.macroEnabled.12",)),
    ("ppsx", _S, _E, ("application/vnd.openxmlformats-officedocument.presentationml.slideshow",)),
    ("ppsm", _S, _E, ("application/vnd.ms-powerpoint.slideshow.macroEnabled.12",)),
    ("potx", _S, _E, ("application/vnd.openxmlformats-officedocument.presentationml.template",)),
    ("potm", _S, _E, ("application/vnd.ms-powerpoint.template.macroEnabled.12",)),
    ("odp", _S, _LC, ("application/vnd.oasis.opendocument.presentation",)),
    ("otp", _S, _LC, ("application/vnd.oasis.opendocument.presentation-template",)),
    ("dps", _S, _VC, ("application/vnd.ms-powerpoint",)),
    ("dpt", _S, _VC, ("application/vnd.ms-powerpoint",)),
    ("fodp", _S, _VC, ("application/vnd.oasis.opendocument.presentation-flat-xml",)),
    ("key", _S, _VC, ("application/x-iwork-keynote-sffkey",)),
    ("odg", _S, _VC, ("application/vnd.oasis.opendocument.graphics",)),
    ("pot", _S, _VC, ("application/vnd.ms-powerpoint",)),
    ("pps", _S, _VC, ("application/vnd.ms-powerpoint",)),
    ("ppt", _S, _VC, ("application/vnd.ms-powerpoint",)),
    ("sxi", _S, _VC, ("application/vnd.sun.xml.impress",)),
    ("gslides", _S, _V, ("application/vnd.google-apps.presentation",)),
    # fixed layout
    ("pdf", _P, _E, ("application/pdf",)),
    ("djvu", _P, _V, ("image/vnd.djvu",)),
    ("docxf", _P, _V, ("application/vnd.openxmlformats-officedocument.wordprocessingml.document.docxf",)),
    ("oform", _P, _V, ("application/vnd.openxmlformats-officedocument.wordprocessingml.document.oform",)),
    ("oxps", _P, _V, ("application/oxps",)),
    ("xps", _P, _V, ("application/vnd.ms-xpsdocument",)),
    # diagrams
    ("vsdx", _D, _V, ("application/vnd.ms-visio.drawing", "application/vnd.visio")),
    ("vsdm", _D, _V, ("application/vnd.ms-visio.drawing.macroEnabled.12",)),
    ("vssx", _D, _V, ("application/vnd.ms-visio.stencil",)),
    ("vssm", _D, _V, ("application/vnd.ms-visio.stencil.macroEnabled.12",)),
    ("vstx", _D, _V, ("application/vnd.ms-visio.template",)),
    ("vstm", _D, _V, ("application/vnd.ms-visio.template.macroEnabled.12",)),
)

FORMATS: Mapping[str, Format] = {
    extension: Format(extension, document_type, actions, mimetypes)
    for extension, document_type, actions, mimetypes in _TABLE
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
