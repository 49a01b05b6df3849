from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from core.filetypes import OCTET_STREAM
from core.tokens import ViewMode
from tests.wopi.wopi_client import WopiClientStandIn
from wopi.discovery import DiscoveryError, fill_urlsrc, parse_discovery, placeholder_values

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
ODT = "application/vnd.oasis.opendocument.text"
WOPI_SRC = "https://docbridge.example/wopi/files/s%24p%21o"


def microsoft():  # type: ignore[no-untyped-def]
    client = WopiClientStandIn(shape="microsoft", base_url="https://office.example")
    return client, parse_discovery(client.discovery_xml().encode())


def collabora():  # type: ignore[no-untyped-def]
    client = WopiClientStandIn(shape="collabora", base_url="https://cool.example")
    return client, parse_discovery(client.discovery_xml().encode())


def test_microsoft_shape() -> None:
    client, discovery = microsoft()
    assert set(discovery.mimetypes()) == {DOCX, "application/vnd.ms-wopi-test",
                                          "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
    assert discovery.proof_keys is not None
    assert discovery.proof_keys.current.public_numbers() == client.current_key.public_key().public_numbers()
    assert discovery.proof_keys.old is not None
    assert discovery.proof_keys.old.public_numbers() == client.old_key.public_key().public_numbers()


def test_collabora_shape() -> None:
    client, discovery = collabora()
    mimetypes = discovery.mimetypes()
    assert ODT in mimetypes and DOCX in mimetypes and "application/pdf" in mimetypes
    assert OCTET_STREAM not in mimetypes
    assert "Capabilities" not in mimetypes and "" not in mimetypes
    assert discovery.proof_keys is not None  # read from the CAPI blob `value`
    assert discovery.proof_keys.current.public_numbers() == client.current_key.public_key().public_numbers()


@pytest.mark.parametrize(
    ("mode", "new_file", "action"),
    [
        (ViewMode.WRITE, False, "edit"),
        (ViewMode.WRITE, True, "editnew"),
        (ViewMode.READ, False, "view"),
        (ViewMode.READ, True, "view"),
        (ViewMode.VIEW, False, "view"),
    ],
)
def test_action_per_mode_microsoft(mode: ViewMode, new_file: bool, action: str) -> None:
    _, discovery = microsoft()
    found = discovery.action_for(mode, "docx", DOCX, new_file=new_file)
    assert found is not None and found.name == action and found.app == "Word"


@pytest.mark.parametrize("mode", list(ViewMode))
def test_collabora_falls_back_to_edit(mode: ViewMode) -> None:
    _, discovery = collabora()
    found = discovery.action_for(mode, "odt", ODT, new_file=True)
    assert found is not None and found.name == "edit" and found.app == ODT
    pdf = discovery.action_for(mode, "pdf", "application/pdf", new_file=False)
    assert pdf is not None and pdf.name == "view"


def test_unknown_type_has_no_action() -> None:
    _, discovery = microsoft()
    assert discovery.action_for(ViewMode.WRITE, "zip", "application/zip", new_file=False) is None


def test_fill_urlsrc_microsoft() -> None:
    _, discovery = microsoft()
    action = discovery.action_for(ViewMode.WRITE, "docx", DOCX, new_file=False)
    assert action is not None
    url = fill_urlsrc(action.urlsrc, placeholder_values("de_DE"), WOPI_SRC)
    parts = urlsplit(url)
    assert parts.path == "/word/edit.aspx"
    assert parse_qs(parts.query) == {"ui": ["de-DE"], "rs": ["de-DE"], "WOPISrc": [WOPI_SRC]}
    assert "<" not in url and "HOST_SESSION_ID" not in url


def test_fill_urlsrc_shapes() -> None:
    assert fill_urlsrc("https://c/cool.html?", {}, WOPI_SRC) == (
        "https://c/cool.html?WOPISrc=https%3A%2F%2Fdocbridge.example%2Fwopi%2Ffiles%2Fs%2524p%2521o"
    )
    assert fill_urlsrc("https://c/x?a=1", {}, "w").endswith("?a=1&WOPISrc=w")
    assert fill_urlsrc("https://c/x", {}, "w") == "https://c/x?WOPISrc=w"
    assert fill_urlsrc("https://c/x?<ui=UI_LLCC&>", {}, "w") == "https://c/x?WOPISrc=w"


@pytest.mark.parametrize(
    "document",
    [
        b"not xml",
        b"<other/>",
        b"<wopi-discovery><net-zone/></wopi-discovery>",
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><wopi-discovery>&a;</wopi-discovery>',
        b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><wopi-discovery>&e;</wopi-discovery>',
    ],
)
def test_unusable_or_unsafe_discovery(document: bytes) -> None:
    with pytest.raises(DiscoveryError):
        parse_discovery(document)


def test_without_proof_key() -> None:
    client = WopiClientStandIn(publish_proof_keys=False)
    assert parse_discovery(client.discovery_xml().encode()).proof_keys is None


def test_bad_proof_key_is_reported() -> None:
    document = (
        '<wopi-discovery><net-zone name="x"><app name="Word"><action name="view" ext="docx" '
        'urlsrc="https://o/v?"/></app></net-zone><proof-key value="bm90IGEga2V5"/></wopi-discovery>'
    )
    with pytest.raises(DiscoveryError):
        parse_discovery(document.encode())
