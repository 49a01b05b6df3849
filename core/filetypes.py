"""Mimetypes of file names: the one table Docbridge keeps.

Office and document types are listed here, so answers do not depend on the machine's
``/etc/mime.types``; the first mimetype of an entry is the one a file of that extension
gets, the others are aliases other software uses for the same format (an editor driver
registers all of them). Extensions not listed fall back to Python's own table.
"""

from __future__ import annotations

import mimetypes
from collections.abc import Mapping

OCTET_STREAM = "application/octet-stream"

# extension (lower case, no dot) -> mimetypes, the canonical one first
MIMETYPES: Mapping[str, tuple[str, ...]] = {
    "docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document",),
    "docm": ("application/vnd.ms-word.document.macroEnabled.12",),
    "dotx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.template",),
    "dotm": ("application/vnd.ms-word.template.macroEnabled.12",),
    "epub": ("application/epub+zip",),
    "fb2": ("text/fb2+xml", "application/x-fictionbook+xml"),
    "html": ("text/html",),
    "odt": ("application/vnd.oasis.opendocument.text",),
    "ott": ("application/vnd.oasis.opendocument.text-template",),
    "rtf": ("application/rtf", "text/rtf"),
    "txt": ("text/plain",),
    "doc": ("application/msword",),
    "dot": ("application/msword", "application/msword-template"),
    "fodt": ("application/vnd.oasis.opendocument.text-flat-xml",),
    "hml": ("multipart/related",),
    "htm": ("text/html",),
    "hwp": ("application/x-hwp",),
    "hwpx": ("application/x-hwpx",),
    "md": ("text/markdown",),
    "mht": ("message/rfc822",),
    "mhtml": ("message/rfc822",),
    "pages": ("application/x-iwork-pages-sffpages",),
    "stw": ("application/vnd.sun.xml.writer.template",),
    "sxw": ("application/vnd.sun.xml.writer",),
    "wps": ("application/vnd.ms-works",),
    "wpt": ("application/vnd.ms-works-template",),
    "xml": ("application/xml", "text/xml"),
    "gdoc": ("application/vnd.google-apps.document",),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",),
    "xlsm": ("application/vnd.ms-excel.sheet.macroEnabled.12",),
    "xltx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.template",),
    "xltm": ("application/vnd.ms-excel.template.macroEnabled.12",),
    "xlsb": ("application/vnd.ms-excel.sheet.binary.macroEnabled.12",),
    "csv": ("text/csv",),
    "tsv": ("text/tab-separated-values",),
    "ods": ("application/vnd.oasis.opendocument.spreadsheet",),
    "ots": ("application/vnd.oasis.opendocument.spreadsheet-template",),
    "et": ("application/vnd.ms-excel",),
    "ett": ("application/vnd.ms-excel",),
    "fods": ("application/vnd.oasis.opendocument.spreadsheet-flat-xml",),
    "numbers": ("application/x-iwork-numbers-sffnumbers",),
    "sxc": ("application/vnd.sun.xml.calc",),
    "xls": ("application/vnd.ms-excel",),
    "xlt": ("application/vnd.ms-excel",),
    "gsheet": ("application/vnd.google-apps.spreadsheet",),
    "pptx": ("application/vnd.openxmlformats-officedocument.presentationml.presentation",),
    "pptm": ("application/vnd.ms-powerpoint.presentation.macroEnabled.12",),
    "ppsx": ("application/vnd.openxmlformats-officedocument.presentationml.slideshow",),
    "ppsm": ("application/vnd.ms-powerpoint.slideshow.macroEnabled.12",),
    "potx": ("application/vnd.openxmlformats-officedocument.presentationml.template",),
    "potm": ("application/vnd.ms-powerpoint.template.macroEnabled.12",),
    "odp": ("application/vnd.oasis.opendocument.presentation",),
    "otp": ("application/vnd.oasis.opendocument.presentation-template",),
    "dps": ("application/vnd.ms-powerpoint",),
    "dpt": ("application/vnd.ms-powerpoint",),
    "fodp": ("application/vnd.oasis.opendocument.presentation-flat-xml",),
    "key": ("application/x-iwork-keynote-sffkey",),
    "odg": ("application/vnd.oasis.opendocument.graphics",),
    "pot": ("application/vnd.ms-powerpoint",),
    "pps": ("application/vnd.ms-powerpoint",),
    "ppt": ("application/vnd.ms-powerpoint",),
    "sxi": ("application/vnd.sun.xml.impress",),
    "gslides": ("application/vnd.google-apps.presentation",),
    "pdf": ("application/pdf",),
    "djvu": ("image/vnd.djvu",),
    "docxf": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document.docxf",),
    "oform": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document.oform",),
    "oxps": ("application/oxps",),
    "xps": ("application/vnd.ms-xpsdocument",),
    "vsdx": ("application/vnd.ms-visio.drawing", "application/vnd.visio"),
    "vsdm": ("application/vnd.ms-visio.drawing.macroEnabled.12",),
    "vssx": ("application/vnd.ms-visio.stencil",),
    "vssm": ("application/vnd.ms-visio.stencil.macroEnabled.12",),
    "vstx": ("application/vnd.ms-visio.template",),
    "vstm": ("application/vnd.ms-visio.template.macroEnabled.12",),
    "json": ("application/json",),
    "ipynb": ("application/x-ipynb+json",),
    "wopitest": ("application/vnd.ms-wopi-test",),
    "wopitestx": ("application/vnd.ms-wopi-test",),
}


def mimetypes_of(extension: str) -> tuple[str, ...]:
    """The listed mimetypes of an extension, canonical first; () when it is not listed."""
    return MIMETYPES.get(extension.lower().lstrip("."), ())


def guess_mimetype(name: str) -> str:
    _, dot, ext = name.rpartition(".")
    if dot:
        known = mimetypes_of(ext)
        if known:
            return known[0]
    guessed, _ = mimetypes.guess_type(name, strict=False)
    return guessed or OCTET_STREAM
