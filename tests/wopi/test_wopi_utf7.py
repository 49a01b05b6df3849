from __future__ import annotations

import pytest

from core.errors import BadRequest
from wopi.utf7 import decode_header_name, encode_header_name


@pytest.mark.parametrize(
    ("header", "name"),
    [
        ("plain.docx", "plain.docx"),
        ("madeup+AF8-name.wopitestfoox", "madeup_name.wopitestfoox"),
        ("+ZeVnLIqe-.docx", "日本語.docx"),
        ("a+-b.docx", "a+b.docx"),
        ("Caf+AOk-", "Café"),
        # raw UTF-8 passed through as latin-1 by WSGI
        ("Café.docx".encode().decode("latin-1"), "Café.docx"),
    ],
)
def test_decode(header: str, name: str) -> None:
    assert decode_header_name(header, "X-WOPI-RelativeTarget") == name


def test_malformed_is_bad_request() -> None:
    with pytest.raises(BadRequest):
        decode_header_name("+AF", "X-WOPI-RequestedName")
    with pytest.raises(BadRequest):
        decode_header_name("\xff\xfe", "X-WOPI-RequestedName")


@pytest.mark.parametrize("name", ["日本語.docx", "a+b (1).docx", "Café_1.odt"])
def test_round_trip(name: str) -> None:
    encoded = encode_header_name(name)
    assert encoded.isascii()
    assert decode_header_name(encoded, "X") == name
