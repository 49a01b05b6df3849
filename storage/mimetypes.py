"""Mimetypes from file names. Office types are listed here so the answer does not depend on
the machine's /etc/mime.types."""

from __future__ import annotations

import mimetypes

OCTET_STREAM = "application/octet-stream"

_OFFICE = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "docm": "application/vnd.ms-word.document.macroEnabled.12",
    "dotx": "application/vnd.openxmlformats-officedocument.wordprocessingml.template",
    "dotm": "application/vnd.ms-word.template.macroEnabled.12",
    "doc": "application/msword",
    "dot": "application/msword",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "xlsm": "application/vnd.ms-excel.sheet.macroEnabled.12",
    "xltx": "application/vnd.openxmlformats-officedocument.spreadsheetml.template",
    "xltm": "application/vnd.ms-excel.template.macroEnabled.12",
    "xlsb": "application/vnd.ms-excel.sheet.binary.macroEnabled.12",
    "xls": "application/vnd.ms-excel",
    "xlt": "application/vnd.ms-excel",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "pptm": "application/vnd.ms-powerpoint.presentation.macroEnabled.12",
    "ppsx": "application/vnd.openxmlformats-officedocument.presentationml.slideshow",
    "ppsm": "application/vnd.ms-powerpoint.slideshow.macroEnabled.12",
    "potx": "application/vnd.openxmlformats-officedocument.presentationml.template",
    "potm": "application/vnd.ms-powerpoint.template.macroEnabled.12",
    "ppt": "application/vnd.ms-powerpoint",
    "pps": "application/vnd.ms-powerpoint",
    "pot": "application/vnd.ms-powerpoint",
    "odt": "application/vnd.oasis.opendocument.text",
    "ott": "application/vnd.oasis.opendocument.text-template",
    "fodt": "application/vnd.oasis.opendocument.text-flat-xml",
    "ods": "application/vnd.oasis.opendocument.spreadsheet",
    "ots": "application/vnd.oasis.opendocument.spreadsheet-template",
    "fods": "application/vnd.oasis.opendocument.spreadsheet-flat-xml",
    "odp": "application/vnd.oasis.opendocument.presentation",
    "otp": "application/vnd.oasis.opendocument.presentation-template",
    "fodp": "application/vnd.oasis.opendocument.presentation-flat-xml",
    "odg": "application/vnd.oasis.opendocument.graphics",
    "rtf": "application/rtf",
    "txt": "text/plain",
    "md": "text/markdown",
    "csv": "text/csv",
    "tsv": "text/tab-separated-values",
    "pdf": "application/pdf",
    "epub": "application/epub+zip",
    "html": "text/html",
    "htm": "text/html",
    "xml": "application/xml",
    "json": "application/json",
    "vsdx": "application/vnd.ms-visio.drawing",
    "wopitest": "application/vnd.ms-wopi-test",
    "wopitestx": "application/vnd.ms-wopi-test",
}


def guess_mimetype(name: str) -> str:
    _, dot, ext = name.rpartition(".")
    if dot:
        known = _OFFICE.get(ext.lower())
        if known:
            return known
    guessed, _ = mimetypes.guess_type(name, strict=False)
    return guessed or OCTET_STREAM
