"""Write the blank office documents Docbridge ships in ``registry/blank/``.

Run it from the checkout when a blank document has to change, and commit what it writes:

    .venv/bin/python scripts/make_blank_documents.py [OUTPUT_DIR]

It builds the smallest packages every editor we drive opens: Office Open XML with its
content types, relationships, main part and styles; OpenDocument with ``mimetype`` stored
first and a manifest. Timestamps are fixed, so the bytes do not change between runs and
tests/registry/test_registry_blank_files.py can check the shipped files against them.
"""

from __future__ import annotations

import io
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path

SHIPPED_DIR = Path(__file__).resolve().parent.parent / "registry" / "blank"

_XML = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_FIXED_TIME = (2024, 1, 1, 0, 0, 0)

_CT = "http://schemas.openxmlformats.org/package/2006/content-types"
_PR = "http://schemas.openxmlformats.org/package/2006/relationships"
_OR = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_OFFICE_DOC = f"{_OR}/officeDocument"
_ML = "application/vnd.openxmlformats-officedocument"
_A = "http://schemas.openxmlformats.org/drawingml/2006/main"
_P = "http://schemas.openxmlformats.org/presentationml/2006/main"


# --- Office Open XML ---------------------------------------------------------------------------


def _content_types(overrides: dict[str, str]) -> str:
    items = "".join(f'<Override PartName="{part}" ContentType="{kind}"/>' for part, kind in overrides.items())
    return (
        f'{_XML}<Types xmlns="{_CT}">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        f"{items}</Types>"
    )


def _rels(targets: list[tuple[str, str]]) -> str:
    items = "".join(
        f'<Relationship Id="rId{index}" Type="{kind}" Target="{target}"/>'
        for index, (kind, target) in enumerate(targets, start=1)
    )
    return f'{_XML}<Relationships xmlns="{_PR}">{items}</Relationships>'


def _docx_parts() -> dict[str, str]:
    w = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
    document = (
        f'{_XML}<w:document xmlns:w="{w}" xmlns:r="{_OR}"><w:body><w:p/>'
        '<w:sectPr><w:pgSz w:w="11906" w:h="16838"/>'
        '<w:pgMar w:top="1440" w:right="1440" w:bottom="1440" w:left="1440" w:header="708" w:footer="708" w:gutter="0"/>'
        "</w:sectPr></w:body></w:document>"
    )
    styles = (
        f'{_XML}<w:styles xmlns:w="{w}"><w:docDefaults><w:rPrDefault><w:rPr>'
        '<w:rFonts w:ascii="Calibri" w:hAnsi="Calibri" w:eastAsia="Calibri" w:cs="Calibri"/>'
        '<w:sz w:val="22"/><w:szCs w:val="22"/><w:lang w:val="en-US" w:eastAsia="en-US" w:bidi="ar-SA"/>'
        '</w:rPr></w:rPrDefault><w:pPrDefault><w:pPr><w:spacing w:after="160" w:line="259" w:lineRule="auto"/>'
        "</w:pPr></w:pPrDefault></w:docDefaults>"
        '<w:style w:type="paragraph" w:default="1" w:styleId="Normal"><w:name w:val="Normal"/><w:qFormat/></w:style>'
        "</w:styles>"
    )
    return {
        "[Content_Types].xml": _content_types(
            {
                "/word/document.xml": f"{_ML}.wordprocessingml.document.main+xml",
                "/word/styles.xml": f"{_ML}.wordprocessingml.styles+xml",
            }
        ),
        "_rels/.rels": _rels([(_OFFICE_DOC, "word/document.xml")]),
        "word/document.xml": document,
        "word/_rels/document.xml.rels": _rels([(f"{_OR}/styles", "styles.xml")]),
        "word/styles.xml": styles,
    }


def _xlsx_parts() -> dict[str, str]:
    s = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    workbook = (
        f'{_XML}<workbook xmlns="{s}" xmlns:r="{_OR}"><sheets>'
        '<sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
    )
    sheet = f'{_XML}<worksheet xmlns="{s}"><sheetData/></worksheet>'
    styles = (
        f'{_XML}<styleSheet xmlns="{s}">'
        '<fonts count="1"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts>'
        '<fills count="2"><fill><patternFill patternType="none"/></fill>'
        '<fill><patternFill patternType="gray125"/></fill></fills>'
        '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
        '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
        '<cellXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/></cellXfs>'
        '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
        "</styleSheet>"
    )
    return {
        "[Content_Types].xml": _content_types(
            {
                "/xl/workbook.xml": f"{_ML}.spreadsheetml.sheet.main+xml",
                "/xl/worksheets/sheet1.xml": f"{_ML}.spreadsheetml.worksheet+xml",
                "/xl/styles.xml": f"{_ML}.spreadsheetml.styles+xml",
            }
        ),
        "_rels/.rels": _rels([(_OFFICE_DOC, "xl/workbook.xml")]),
        "xl/workbook.xml": workbook,
        "xl/_rels/workbook.xml.rels": _rels(
            [(f"{_OR}/worksheet", "worksheets/sheet1.xml"), (f"{_OR}/styles", "styles.xml")]
        ),
        "xl/worksheets/sheet1.xml": sheet,
        "xl/styles.xml": styles,
    }


def _theme() -> str:
    colours = (
        ("dk1", '<a:sysClr val="windowText" lastClr="000000"/>'),
        ("lt1", '<a:sysClr val="window" lastClr="FFFFFF"/>'),
        ("dk2", '<a:srgbClr val="44546A"/>'),
        ("lt2", '<a:srgbClr val="E7E6E6"/>'),
        ("accent1", '<a:srgbClr val="4472C4"/>'),
        ("accent2", '<a:srgbClr val="ED7D31"/>'),
        ("accent3", '<a:srgbClr val="A5A5A5"/>'),
        ("accent4", '<a:srgbClr val="FFC000"/>'),
        ("accent5", '<a:srgbClr val="5B9BD5"/>'),
        ("accent6", '<a:srgbClr val="70AD47"/>'),
        ("hlink", '<a:srgbClr val="0563C1"/>'),
        ("folHlink", '<a:srgbClr val="954F72"/>'),
    )
    scheme = "".join(f"<a:{name}>{value}</a:{name}>" for name, value in colours)
    font = '<a:latin typeface="{0}"/><a:ea typeface=""/><a:cs typeface=""/>'
    solid = '<a:solidFill><a:schemeClr val="phClr"/></a:solidFill>'
    line = '<a:ln w="{0}" cap="flat" cmpd="sng" algn="ctr">' + solid + '<a:prstDash val="solid"/></a:ln>'
    return (
        f'{_XML}<a:theme xmlns:a="{_A}" name="Office Theme"><a:themeElements>'
        f'<a:clrScheme name="Office">{scheme}</a:clrScheme>'
        '<a:fontScheme name="Office">'
        f"<a:majorFont>{font.format('Calibri Light')}</a:majorFont>"
        f"<a:minorFont>{font.format('Calibri')}</a:minorFont></a:fontScheme>"
        '<a:fmtScheme name="Office">'
        f"<a:fillStyleLst>{solid * 3}</a:fillStyleLst>"
        f"<a:lnStyleLst>{line.format(6350)}{line.format(12700)}{line.format(19050)}</a:lnStyleLst>"
        "<a:effectStyleLst>" + "<a:effectStyle><a:effectLst/></a:effectStyle>" * 3 + "</a:effectStyleLst>"
        f"<a:bgFillStyleLst>{solid * 3}</a:bgFillStyleLst>"
        "</a:fmtScheme></a:themeElements><a:objectDefaults/><a:extraClrSchemeLst/></a:theme>"
    )


def _pptx_parts() -> dict[str, str]:
    ns = f'xmlns:a="{_A}" xmlns:r="{_OR}" xmlns:p="{_P}"'
    tree = (
        '<p:spTree><p:nvGrpSpPr><p:cNvPr id="1" name=""/><p:cNvGrpSpPr/><p:nvPr/></p:nvGrpSpPr>'
        '<p:grpSpPr><a:xfrm><a:off x="0" y="0"/><a:ext cx="0" cy="0"/><a:chOff x="0" y="0"/>'
        '<a:chExt cx="0" cy="0"/></a:xfrm></p:grpSpPr></p:spTree>'
    )
    presentation = (
        f'{_XML}<p:presentation {ns} saveSubsetFonts="1">'
        '<p:sldMasterIdLst><p:sldMasterId id="2147483648" r:id="rId1"/></p:sldMasterIdLst>'
        '<p:sldIdLst><p:sldId id="256" r:id="rId2"/></p:sldIdLst>'
        '<p:sldSz cx="12192000" cy="6858000"/><p:notesSz cx="6858000" cy="9144000"/>'
        "<p:defaultTextStyle/></p:presentation>"
    )
    master = (
        f'{_XML}<p:sldMaster {ns}><p:cSld><p:bg><p:bgRef idx="1001"><a:schemeClr val="bg1"/></p:bgRef></p:bg>'
        f"{tree}</p:cSld>"
        '<p:clrMap bg1="lt1" tx1="dk1" bg2="lt2" tx2="dk2" accent1="accent1" accent2="accent2" '
        'accent3="accent3" accent4="accent4" accent5="accent5" accent6="accent6" hlink="hlink" folHlink="folHlink"/>'
        '<p:sldLayoutIdLst><p:sldLayoutId id="2147483649" r:id="rId1"/></p:sldLayoutIdLst>'
        "<p:txStyles><p:titleStyle/><p:bodyStyle/><p:otherStyle/></p:txStyles></p:sldMaster>"
    )
    layout = (
        f'{_XML}<p:sldLayout {ns} type="blank" preserve="1"><p:cSld name="Blank">{tree}</p:cSld>'
        "<p:clrMapOvr><a:masterClrMapping/></p:clrMapOvr></p:sldLayout>"
    )
    slide = f"{_XML}<p:sld {ns}><p:cSld>{tree}</p:cSld><p:clrMapOvr><a:masterClrMapping/></p:clrMapOvr></p:sld>"
    pml = f"{_ML}.presentationml"
    return {
        "[Content_Types].xml": _content_types(
            {
                "/ppt/presentation.xml": f"{pml}.presentation.main+xml",
                "/ppt/slideMasters/slideMaster1.xml": f"{pml}.slideMaster+xml",
                "/ppt/slideLayouts/slideLayout1.xml": f"{pml}.slideLayout+xml",
                "/ppt/slides/slide1.xml": f"{pml}.slide+xml",
                "/ppt/theme/theme1.xml": f"{_ML}.theme+xml",
                "/ppt/presProps.xml": f"{pml}.presProps+xml",
                "/ppt/viewProps.xml": f"{pml}.viewProps+xml",
                "/ppt/tableStyles.xml": f"{pml}.tableStyles+xml",
            }
        ),
        "_rels/.rels": _rels([(_OFFICE_DOC, "ppt/presentation.xml")]),
        "ppt/presentation.xml": presentation,
        "ppt/_rels/presentation.xml.rels": _rels(
            [
                (f"{_OR}/slideMaster", "slideMasters/slideMaster1.xml"),
                (f"{_OR}/slide", "slides/slide1.xml"),
                (f"{_OR}/theme", "theme/theme1.xml"),
                (f"{_OR}/presProps", "presProps.xml"),
                (f"{_OR}/viewProps", "viewProps.xml"),
                (f"{_OR}/tableStyles", "tableStyles.xml"),
            ]
        ),
        "ppt/slideMasters/slideMaster1.xml": master,
        "ppt/slideMasters/_rels/slideMaster1.xml.rels": _rels(
            [(f"{_OR}/slideLayout", "../slideLayouts/slideLayout1.xml"), (f"{_OR}/theme", "../theme/theme1.xml")]
        ),
        "ppt/slideLayouts/slideLayout1.xml": layout,
        "ppt/slideLayouts/_rels/slideLayout1.xml.rels": _rels(
            [(f"{_OR}/slideMaster", "../slideMasters/slideMaster1.xml")]
        ),
        "ppt/slides/slide1.xml": slide,
        "ppt/slides/_rels/slide1.xml.rels": _rels([(f"{_OR}/slideLayout", "../slideLayouts/slideLayout1.xml")]),
        "ppt/theme/theme1.xml": _theme(),
        "ppt/presProps.xml": f"{_XML}<p:presentationPr {ns}/>",
        "ppt/viewProps.xml": f"{_XML}<p:viewPr {ns}/>",
        "ppt/tableStyles.xml": f'{_XML}<a:tblStyleLst xmlns:a="{_A}" def="{{5C22544A-7EE6-4342-B048-85BDC9FD1C3A}}"/>',
    }


# --- OpenDocument ------------------------------------------------------------------------------

_ODF_NS = (
    'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
    'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
    'xmlns:draw="urn:oasis:names:tc:opendocument:xmlns:drawing:1.0" '
    'xmlns:presentation="urn:oasis:names:tc:opendocument:xmlns:presentation:1.0" '
    'xmlns:fo="urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0"'
)
_ODF_MIMETYPES = {
    "odt": "application/vnd.oasis.opendocument.text",
    "ods": "application/vnd.oasis.opendocument.spreadsheet",
    "odp": "application/vnd.oasis.opendocument.presentation",
}


def _odf_parts(extension: str) -> dict[str, str]:
    body = {
        "odt": "<office:text><text:p/></office:text>",
        "ods": (
            '<office:spreadsheet><table:table table:name="Sheet1"><table:table-column/>'
            "<table:table-row><table:table-cell/></table:table-row></table:table></office:spreadsheet>"
        ),
        "odp": (
            '<office:presentation><draw:page draw:name="page1" draw:master-page-name="Default"/></office:presentation>'
        ),
    }[extension]
    page_layout = (
        '<office:automatic-styles><style:page-layout style:name="PM1">'
        '<style:page-layout-properties fo:page-width="28cm" fo:page-height="15.75cm" '
        'style:print-orientation="landscape"/></style:page-layout></office:automatic-styles>'
        '<office:master-styles><style:master-page style:name="Default" style:page-layout-name="PM1"/>'
        "</office:master-styles>"
        if extension == "odp"
        else ""
    )
    manifest = (
        f'{_XML}<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" '
        'manifest:version="1.2">'
        f'<manifest:file-entry manifest:full-path="/" manifest:version="1.2" '
        f'manifest:media-type="{_ODF_MIMETYPES[extension]}"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
        '<manifest:file-entry manifest:full-path="styles.xml" manifest:media-type="text/xml"/>'
        "</manifest:manifest>"
    )
    return {
        "mimetype": _ODF_MIMETYPES[extension],
        "META-INF/manifest.xml": manifest,
        "content.xml": (
            f'{_XML}<office:document-content {_ODF_NS} office:version="1.2">'
            f"<office:body>{body}</office:body></office:document-content>"
        ),
        "styles.xml": (
            f'{_XML}<office:document-styles {_ODF_NS} office:version="1.2">{page_layout}</office:document-styles>'
        ),
    }


BUILDERS: dict[str, Callable[[], dict[str, str]]] = {
    "docx": _docx_parts,
    "xlsx": _xlsx_parts,
    "pptx": _pptx_parts,
    "odt": lambda: _odf_parts("odt"),
    "ods": lambda: _odf_parts("ods"),
    "odp": lambda: _odf_parts("odp"),
}


def build(extension: str) -> bytes:
    """The blank document for `extension` as bytes (deterministic)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in BUILDERS[extension]().items():
            info = zipfile.ZipInfo(name, date_time=_FIXED_TIME)
            # ODF: "mimetype" first and stored, so its bytes sit at a fixed offset.
            info.compress_type = zipfile.ZIP_STORED if name == "mimetype" else zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, text.encode("utf-8"))
    return buffer.getvalue()


def main(argv: list[str]) -> int:
    if len(argv) > 1:
        print(f"usage: {Path(__file__).name} [OUTPUT_DIR]", file=sys.stderr)
        return 2
    target = Path(argv[0]) if argv else SHIPPED_DIR
    target.mkdir(parents=True, exist_ok=True)
    for extension in BUILDERS:
        path = target / f"blank.{extension}"
        path.write_bytes(build(extension))
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
