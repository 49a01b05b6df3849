from __future__ import annotations

import pytest
import requests

from core.errors import UpstreamError
from onlyoffice.ds_client import (
    COMMAND_ERRORS,
    CONVERSION_ERRORS,
    ConversionStep,
    command_message,
    conversion_message,
    parse_conversion,
    rewrite_to_internal,
)


def _answer(text: str) -> requests.Response:
    response = requests.Response()
    response.status_code = 200
    response._content = text.encode()
    response.encoding = "utf-8"
    return response


@pytest.mark.parametrize(
    ("text", "step"),
    [
        ('{"percent": 0, "endConvert": false}', ConversionStep(False, 0)),
        ('{"fileUrl": "http://ds/r.docx", "fileType": "docx", "percent": 100, "endConvert": true}',
         ConversionStep(True, 100, "http://ds/r.docx", "docx")),
        ('{"error": -4}', ConversionStep(True, 0, error=-4)),
        ("<FileResult><FileUrl>http://ds/r.pdf</FileUrl><FileType>pdf</FileType><Percent>100</Percent>"
         "<EndConvert>True</EndConvert></FileResult>", ConversionStep(True, 100, "http://ds/r.pdf", "pdf")),
        ("<FileResult><Error>-8</Error></FileResult>", ConversionStep(True, 0, error=-8)),
        ("<FileResult><Percent>40</Percent><EndConvert>False</EndConvert></FileResult>", ConversionStep(False, 40)),
    ],
)
def test_parse_conversion(text: str, step: ConversionStep) -> None:
    assert parse_conversion(_answer(text)) == step


@pytest.mark.parametrize("text", ["not json", "[1, 2]", "<FileResult><unclosed>", '<!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>'])
def test_unreadable_conversion_answers(text: str) -> None:
    with pytest.raises(UpstreamError):
        parse_conversion(_answer(text))


def test_every_documented_code_has_a_message() -> None:
    assert set(CONVERSION_ERRORS) == {-1, -2, -3, -4, -5, -6, -7, -8, -9, -10}
    assert set(COMMAND_ERRORS) == {1, 2, 3, 4, 5, 6, 7}
    assert "jwt_secret" in conversion_message(-8) and "jwt_secret" in command_message(6)
    assert "docbridge_url_for_document_server" in conversion_message(-4)
    assert "-99" in conversion_message(-99) and "42" in command_message(42)


@pytest.mark.parametrize(
    ("url", "public", "internal", "expected"),
    [
        ("https://docs.example.org/cache/files/x?md5=1", "https://docs.example.org/", "http://onlyoffice/",
         "http://onlyoffice/cache/files/x?md5=1"),
        ("https://docs.example.org/cache/x", "https://docs.example.org", "https://docs.example.org", "https://docs.example.org/cache/x"),
        ("http://elsewhere/cache/x", "https://docs.example.org/", "http://onlyoffice/", "http://elsewhere/cache/x"),
        ("https://docs.example.org.evil/x", "https://docs.example.org/", "http://onlyoffice/", "https://docs.example.org.evil/x"),
        # The DS builds links from the browser's Host header: lower case, default port left out.
        ("https://docs.example.org/cache/x?a=1", "https://Docs.Example.org:443/", "http://onlyoffice/",
         "http://onlyoffice/cache/x?a=1"),
        ("https://docs.example.org/office/cache/x", "https://docs.example.org/office", "http://onlyoffice:8000/",
         "http://onlyoffice:8000/cache/x"),
        ("https://docs.example.org/other/cache/x", "https://docs.example.org/office/", "http://onlyoffice/",
         "https://docs.example.org/other/cache/x"),
        ("http://docs.example.org/cache/x", "https://docs.example.org/", "http://onlyoffice/",
         "http://docs.example.org/cache/x"),
    ],
)
def test_rewrite_to_internal(url: str, public: str, internal: str, expected: str) -> None:
    assert rewrite_to_internal(url, public, internal) == expected
