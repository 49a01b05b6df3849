"""The app registry contract (docs/app-registry.md), checked from outside: the real app on a
loopback port, spoken to with `requests`, so status lines, headers, encodings and bodies are
what a client sees. Each row of the `/app/new` and `/app/open` tables is tripped together with
a later row, which proves the order of the checks."""

from __future__ import annotations

import io
import time
import zipfile
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import quote

import defusedxml.ElementTree as ElementTree
import jwt
import pytest
import requests
from flask import Flask

from registry.providers import AppProvider
from server.services import services_of
from tests.conftest import TestUser, basic_auth
from tests.registry.helpers import DOCX, ODT, PDF, TXT, XLSX, Apps, RecordingDriver
from tests.registry.provider import SECRET_HEADER, stand_in_provider
from tests.support.oidc import local_issuer

PUBLIC_BASE = "http://docbridge.test"
LANG_MESSAGE = "lang parameter does not contain a valid ISO 639-1 language code"
UNREACHABLE = "Error contacting the requested application, please use a different one or try again later"
CODES = {
    "INVALID_PARAMETER": 400,
    "UNAUTHENTICATED": 401,
    "PERMISSION_DENIED": 403,
    "RESOURCE_ALREADY_EXISTS": 403,
    "RESOURCE_NOT_FOUND": 404,
    "TOO_EARLY": 425,
    "SERVER_ERROR": 500,
    "NOT_IMPLEMENTED": 501,
}
UNKNOWN_OPAQUE = "00000000-0000-0000-0000-000000000000"


# --- a client's view ----------------------------------------------------------------------------


class Peer:
    """A client of the running server: base URL plus `requests`."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.session = requests.Session()
        self.session.trust_env = False

    def post(self, route: str, auth: dict[str, str], **kwargs: Any) -> requests.Response:
        return self.session.post(self.base + route, headers=auth, timeout=30, **kwargs)

    def upload(self, user: TestUser, parent_id: str, name: str, content: bytes) -> str:
        response = self.session.put(
            f"{self.base}/api/v1/containers/{parent_id}/files/{name}", data=content, headers=user.auth, timeout=30
        )
        assert response.status_code in (200, 201), response.text
        return str(response.json()["file_id"])

    def folder(self, user: TestUser, parent_id: str, name: str) -> str:
        response = self.session.post(
            f"{self.base}/api/v1/containers/{parent_id}/folders", json={"name": name}, headers=user.auth, timeout=30
        )
        assert response.status_code == 201, response.text
        return str(response.json()["id"])

    def link(self, user: TestUser, node_id: str, **body: Any) -> dict[str, Any]:
        response = self.session.post(
            f"{self.base}/api/v1/files/{node_id}/links", json=body, headers=user.auth, timeout=30
        )
        assert response.status_code == 201, response.text
        return dict(response.json())

    def content(self, user: TestUser, file_id: str) -> bytes:
        response = self.session.get(f"{self.base}/api/v1/files/{file_id}/content", headers=user.auth, timeout=30)
        assert response.status_code == 200, response.text
        return response.content

    def stat(self, user: TestUser, file_id: str) -> requests.Response:
        return self.session.get(f"{self.base}/api/v1/files/{file_id}", headers=user.auth, timeout=30)


def assert_error(response: requests.Response, code: str, message: str | None = None) -> None:
    """The contract's error: the code's status, JSON, exactly `code` and `message`."""
    assert response.status_code == CODES[code], (response.status_code, response.text)
    assert response.headers["Content-Type"].split(";")[0] == "application/json"
    body = response.json()
    assert set(body) == {"code", "message"} and body["code"] == code, body
    assert isinstance(body["message"], str) and body["message"]
    if message is not None:
        assert body["message"] == message


def unknown_like(file_id: str) -> str:
    """A well-formed id in the same space that names nothing."""
    return file_id.rsplit("!", 1)[0] + "!" + UNKNOWN_OPAQUE


def odt_bytes() -> bytes:
    from registry.blank_files import blank_path

    path = blank_path("odt")
    assert path is not None
    return path.read_bytes()


@pytest.fixture
def peer(app: Flask, apps: Apps, live_server: Callable[[Flask], str]) -> Peer:
    return Peer(live_server(app))


@pytest.fixture
def odt(peer: Peer, alice: TestUser) -> str:
    return peer.upload(alice, alice.home_id, "plan.odt", odt_bytes())


# --- conventions ---------------------------------------------------------------------------------


@pytest.mark.parametrize("route", ["/app/open", "/app/open-with-web", "/app/new"])
@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH", "OPTIONS"])
def test_other_methods_on_post_routes(peer: Peer, alice: TestUser, odt: str, route: str, method: str) -> None:
    response = peer.session.request(method, peer.base + route, params={"file_id": odt}, headers=alice.auth, timeout=30)
    assert response.status_code == 405
    assert response.headers["Content-Type"].split(";")[0] == "application/json"
    assert set(response.json()) == {"code", "message"}
    assert "POST" in response.headers["Allow"]


@pytest.mark.parametrize("route", ["/app/open", "/app/open-with-web", "/app/new", "/app/list"])
@pytest.mark.parametrize("method", ["HEAD", "PROPFIND", "TRACE"])
def test_unusual_methods_are_405_too(peer: Peer, alice: TestUser, route: str, method: str) -> None:
    if route == "/app/list" and method == "HEAD":
        assert peer.session.head(peer.base + route, timeout=30).status_code == 200
        return
    response = peer.session.request(method, peer.base + route, headers=alice.auth, timeout=30)
    assert response.status_code == 405
    assert response.headers["Content-Type"].split(";")[0] == "application/json"
    if method != "HEAD":
        assert set(response.json()) == {"code", "message"}


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH", "OPTIONS"])
def test_other_methods_on_list(peer: Peer, method: str) -> None:
    response = peer.session.request(method, peer.base + "/app/list", timeout=30)
    assert response.status_code == 405
    assert response.headers["Content-Type"].split(";")[0] == "application/json"
    assert set(response.json()) == {"code", "message"}
    assert "GET" in response.headers["Allow"]


@pytest.mark.parametrize("route", ["/app/open", "/app/open-with-web", "/app/new"])
@pytest.mark.parametrize(
    "headers",
    [
        {},
        basic_auth("alice", "wrong"),
        {"X-Access-Token": "not-a-token"},
        {"Public-Token": "no-such-link"},
        {"Authorization": "Bearer not.a.jwt"},
    ],
    ids=["none", "bad-basic", "bad-access-token", "bad-public-token", "bad-bearer"],
)
def test_unauthenticated_before_any_parameter(peer: Peer, alice: TestUser, route: str, headers: dict[str, str]) -> None:
    # Even a request that would fail its first row gets the 401 first.
    assert_error(peer.post(route, headers, params={"lang": "xx"}), "UNAUTHENTICATED")


def test_list_needs_no_authentication(peer: Peer) -> None:
    response = peer.session.get(peer.base + "/app/list", timeout=30)
    assert response.status_code == 200
    assert response.headers["Content-Type"].split(";")[0] == "application/json"
    assert "mime-types" in response.json()


def test_every_authentication_opens(app: Flask, peer: Peer, alice: TestUser, odt: str) -> None:
    access_token = services_of(app).users.issue_token(alice.id, "blackbox")
    plain = peer.link(alice, odt, role="viewer")
    guarded = peer.link(alice, odt, role="viewer", password="pw")
    for headers in (
        alice.auth,
        {"X-Access-Token": access_token},
        {"Public-Token": plain["token"]},
        {"Public-Token": guarded["token"], **basic_auth("public", "pw")},
    ):
        response = peer.post("/app/open", headers, params={"file_id": odt, "app_name": "FakeOffice"})
        assert response.status_code == 200, (headers, response.text)
    assert_error(peer.post("/app/open", {"Public-Token": guarded["token"]}, params={"file_id": odt}), "UNAUTHENTICATED")
    wrong = {"Public-Token": guarded["token"], **basic_auth("public", "nope")}
    assert_error(peer.post("/app/open", wrong, params={"file_id": odt}), "UNAUTHENTICATED")


def test_oidc_bearer(make_app: Callable[..., Flask], live_server: Callable[[Flask], str]) -> None:
    with local_issuer() as issuer:
        oidc_app = make_app(oidc={"issuer": issuer.url, "audience": "docbridge"})
        services_of(oidc_app).catalog.register(AppProvider("FakeOffice", (ODT,)), RecordingDriver())
        peer = Peer(live_server(oidc_app))
        bearer = {"Authorization": f"Bearer {issuer.token(subject='sub-1', preferred_username='eve', name='Eve')}"}
        home = peer.session.get(peer.base + "/api/v1/me", headers=bearer, timeout=30).json()["home_id"]
        created = peer.post("/app/new", bearer, params={"parent_container_id": home, "filename": "a.odt"})
        assert created.status_code == 200, created.text
        opened = peer.post("/app/open", bearer, params={"file_id": created.json()["file_id"]})
        assert opened.status_code == 200, opened.text
        expired = {"Authorization": f"Bearer {issuer.token(subject='sub-1', lifetime=-120)}"}
        assert_error(peer.post("/app/open", expired, params={"file_id": created.json()["file_id"]}), "UNAUTHENTICATED")


# --- POST /app/new, row by row ----------------------------------------------------------------------


def new(peer: Peer, auth: dict[str, str], **params: str) -> requests.Response:
    return peer.post("/app/new", auth, params=params)


def test_new_row1_missing_parent_beats_everything(peer: Peer, alice: TestUser) -> None:
    assert_error(new(peer, alice.auth), "INVALID_PARAMETER", "missing parent container ID")
    assert_error(new(peer, alice.auth, filename="a/b.odt"), "INVALID_PARAMETER", "missing parent container ID")
    assert_error(new(peer, alice.auth, parent_container_id=""), "INVALID_PARAMETER", "missing parent container ID")


@pytest.mark.parametrize("parent", ["nonsense", "a$b!c!d", "$!", "s$p!o\x01"])
def test_new_row2_malformed_parent_before_missing_filename(peer: Peer, alice: TestUser, parent: str) -> None:
    response = new(peer, alice.auth, parent_container_id=parent)
    assert_error(response, "INVALID_PARAMETER", "invalid parent container ID")


def test_new_row3_missing_filename_before_unknown_parent(peer: Peer, alice: TestUser) -> None:
    unknown = unknown_like(alice.home_id)
    assert_error(new(peer, alice.auth, parent_container_id=unknown), "INVALID_PARAMETER", "missing filename")
    assert_error(
        new(peer, alice.auth, parent_container_id=unknown, filename=""), "INVALID_PARAMETER", "missing filename"
    )


@pytest.mark.parametrize("filename", ["a/b.odt", "/b.odt", "b/", ".", "..", "a\x00b.txt", "a\tb.txt", "..\\x.txt"])
def test_new_row4_path_segment_before_unknown_parent(peer: Peer, alice: TestUser, filename: str) -> None:
    response = new(peer, alice.auth, parent_container_id=unknown_like(alice.home_id), filename=filename)
    assert_error(response, "INVALID_PARAMETER", "the filename must not contain a path segment")


def test_new_row5_parent_not_visible_before_folder_and_exists(peer: Peer, alice: TestUser, bob: TestUser) -> None:
    message = "the parent container is not accessible or does not exist"
    peer.upload(alice, alice.home_id, "taken.txt", b"x")
    # bob cannot see alice's home: 404 though the name is taken there.
    assert_error(
        new(peer, bob.auth, parent_container_id=alice.home_id, filename="taken.txt"), "RESOURCE_NOT_FOUND", message
    )
    unknown = unknown_like(alice.home_id)
    assert_error(new(peer, alice.auth, parent_container_id=unknown, filename="n.txt"), "RESOURCE_NOT_FOUND", message)


def test_new_row6_parent_is_a_file_before_exists(peer: Peer, alice: TestUser, odt: str) -> None:
    response = new(peer, alice.auth, parent_container_id=odt, filename="plan.odt")
    assert_error(response, "INVALID_PARAMETER", "the parent container id does not point to a container")


def test_new_row7_exists_before_permission(peer: Peer, alice: TestUser) -> None:
    folder = peer.folder(alice, alice.home_id, "Shared")
    peer.upload(alice, folder, "taken.odt", odt_bytes())
    viewer = {"Public-Token": peer.link(alice, folder, role="viewer")["token"]}
    assert_error(
        new(peer, viewer, parent_container_id=folder, filename="taken.odt"),
        "RESOURCE_ALREADY_EXISTS",
        "the file already exists",
    )
    assert_error(
        new(peer, alice.auth, parent_container_id=folder, filename="taken.odt"),
        "RESOURCE_ALREADY_EXISTS",
        "the file already exists",
    )
    # row 8
    assert_error(
        new(peer, viewer, parent_container_id=folder, filename="fresh.odt"),
        "PERMISSION_DENIED",
        "permission denied to create the file",
    )


def test_new_by_editor_link(peer: Peer, alice: TestUser) -> None:
    folder = peer.folder(alice, alice.home_id, "Team")
    editor = {"Public-Token": peer.link(alice, folder, role="editor")["token"]}
    response = new(peer, editor, parent_container_id=folder, filename="fresh.odt")
    assert response.status_code == 200, response.text
    assert peer.stat(alice, response.json()["file_id"]).json()["parent_id"] == folder


def _id_shape(file_id: str) -> None:
    storage, dollar, rest = file_id.partition("$")
    space, bang, opaque = rest.partition("!")
    assert dollar and bang and storage and space and opaque, file_id


@pytest.mark.parametrize(
    ("name", "member"),
    [
        ("a.odt", "content.xml"),
        ("a.ods", "content.xml"),
        ("a.odp", "content.xml"),
        ("a.docx", "word/document.xml"),
        ("a.xlsx", "xl/workbook.xml"),
        ("a.pptx", "ppt/presentation.xml"),
    ],
)
def test_new_office_files_start_from_a_valid_blank(peer: Peer, alice: TestUser, name: str, member: str) -> None:
    response = new(peer, alice.auth, parent_container_id=alice.home_id, filename=name)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].split(";")[0] == "application/json"
    body = response.json()
    assert set(body) == {"file_id"}
    _id_shape(body["file_id"])
    content = peer.content(alice, body["file_id"])
    assert content
    with zipfile.ZipFile(io.BytesIO(content)) as package:
        assert package.testzip() is None
        assert member in package.namelist()
        if name.endswith((".odt", ".ods", ".odp")):
            assert package.namelist()[0] == "mimetype"
            assert package.read("mimetype").decode().startswith("application/vnd.oasis.opendocument.")
        else:
            assert "[Content_Types].xml" in package.namelist()


@pytest.mark.parametrize("name", ["notes.txt", "readme.md", "noextension"])
def test_new_text_files_are_empty(peer: Peer, alice: TestUser, name: str) -> None:
    response = new(peer, alice.auth, parent_container_id=alice.home_id, filename=name)
    assert response.status_code == 200, response.text
    assert peer.content(alice, response.json()["file_id"]) == b""


def test_new_from_template(peer: Peer, alice: TestUser) -> None:
    template = peer.upload(alice, alice.home_id, "letter.ott", b"template bytes")
    response = new(peer, alice.auth, parent_container_id=alice.home_id, filename="letter.odt", template=template)
    assert response.status_code == 200, response.text
    assert peer.content(alice, response.json()["file_id"]) == b"template bytes"


def test_new_with_a_template_nobody_may_read(peer: Peer, alice: TestUser, bob: TestUser) -> None:
    secret = peer.upload(alice, alice.home_id, "secret.ott", b"alice's")
    response = new(peer, bob.auth, parent_container_id=bob.home_id, filename="x.odt", template=secret)
    assert_error(response, "RESOURCE_NOT_FOUND")
    response = new(peer, bob.auth, parent_container_id=bob.home_id, filename="x.odt", template="garbage")
    assert_error(response, "INVALID_PARAMETER")


def test_new_from_form_body_and_encodings(peer: Peer, alice: TestUser) -> None:
    # Form body, url-encoded by requests ($ -> %24, ! -> %21).
    form = peer.post("/app/new", alice.auth, data={"parent_container_id": alice.home_id, "filename": "form.txt"})
    assert form.status_code == 200, form.text
    # Raw $ and ! in the query string.
    raw = peer.session.post(
        f"{peer.base}/app/new?parent_container_id={alice.home_id}&filename=raw.txt", headers=alice.auth, timeout=30
    )
    assert raw.status_code == 200, raw.text
    encoded = quote(alice.home_id, safe="")
    assert "%24" in encoded and "%21" in encoded
    explicit = peer.session.post(
        f"{peer.base}/app/new?parent_container_id={encoded}&filename=enc%20oded.txt", headers=alice.auth, timeout=30
    )
    assert explicit.status_code == 200, explicit.text
    assert peer.stat(alice, explicit.json()["file_id"]).json()["name"] == "enc oded.txt"


# --- POST /app/open and /app/open-with-web, row by row ----------------------------------------------

OPEN_ROUTES = ["/app/open", "/app/open-with-web"]


def open_(peer: Peer, auth: dict[str, str], route: str = "/app/open", **params: str) -> requests.Response:
    return peer.post(route, auth, params=params)


@pytest.mark.parametrize("route", OPEN_ROUTES)
@pytest.mark.parametrize("lang", ["xx", "DE", "english", "De_de", "-de", "_", "e"])
def test_open_row_lang_first(peer: Peer, alice: TestUser, route: str, lang: str) -> None:
    assert_error(open_(peer, alice.auth, route, lang=lang), "INVALID_PARAMETER", LANG_MESSAGE)
    assert_error(open_(peer, alice.auth, route, lang=lang, file_id="garbage"), "INVALID_PARAMETER", LANG_MESSAGE)


@pytest.mark.parametrize("lang", ["de", "pt_BR", "pt-BR", "de-DE", "en"])
def test_open_good_lang(peer: Peer, alice: TestUser, apps: Apps, odt: str, lang: str) -> None:
    response = open_(peer, alice.auth, file_id=odt, app_name="FakeOffice", lang=lang)
    assert response.status_code == 200, response.text
    assert apps.office.requests[-1].lang == lang


@pytest.mark.parametrize("route", OPEN_ROUTES)
def test_open_row_missing_file_id(peer: Peer, alice: TestUser, route: str) -> None:
    assert_error(open_(peer, alice.auth, route, view_mode="bogus"), "INVALID_PARAMETER", "missing file ID")
    assert_error(open_(peer, alice.auth, route, file_id="", lang="de"), "INVALID_PARAMETER", "missing file ID")


@pytest.mark.parametrize("route", OPEN_ROUTES)
@pytest.mark.parametrize("file_id", ["garbage", "a$b", "a!b$c", "s$p!o!x", "ZmlsZTppZAo="])
def test_open_row_malformed_file_id(peer: Peer, alice: TestUser, route: str, file_id: str) -> None:
    response = open_(peer, alice.auth, route, file_id=file_id, view_mode="bogus", app_name="Nope")
    assert_error(response, "INVALID_PARAMETER", "invalid file ID")


@pytest.mark.parametrize("route", OPEN_ROUTES)
def test_open_row_not_found_before_folder_view_mode_and_app(
    peer: Peer, alice: TestUser, bob: TestUser, odt: str, route: str
) -> None:
    for auth, file_id in ((alice.auth, unknown_like(odt)), (bob.auth, odt), (bob.auth, alice.home_id)):
        response = open_(peer, auth, route, file_id=file_id, view_mode="bogus", app_name="Nope")
        assert_error(response, "RESOURCE_NOT_FOUND", "file does not exist")


@pytest.mark.parametrize("route", OPEN_ROUTES)
def test_open_row_folder_before_view_mode(peer: Peer, alice: TestUser, route: str) -> None:
    folder = peer.folder(alice, alice.home_id, "Docs")
    response = open_(peer, alice.auth, route, file_id=folder, view_mode="bogus", app_name="Nope")
    assert_error(response, "INVALID_PARAMETER", "the given file id does not point to a file")


@pytest.mark.parametrize("route", OPEN_ROUTES)
@pytest.mark.parametrize("view_mode", ["edit", "WRITE", "VIEW_MODE_READ_WRITE", " view"])
def test_open_row_view_mode_before_app(peer: Peer, alice: TestUser, odt: str, route: str, view_mode: str) -> None:
    response = open_(peer, alice.auth, route, file_id=odt, view_mode=view_mode, app_name="Nope")
    assert_error(response, "INVALID_PARAMETER", "invalid view mode")


@pytest.mark.parametrize("route", OPEN_ROUTES)
def test_open_row_unknown_app(peer: Peer, alice: TestUser, odt: str, route: str) -> None:
    for name in ("Nope", "fakeoffice"):
        response = open_(peer, alice.auth, route, file_id=odt, app_name=name)
        assert_error(response, "RESOURCE_NOT_FOUND", f"error: not found: app '{name}' not found")
    pdf = peer.upload(alice, alice.home_id, "p.pdf", b"%PDF-1.4\n")
    response = open_(peer, alice.auth, route, file_id=pdf, app_name="FakeOffice")
    assert_error(response, "RESOURCE_NOT_FOUND", "error: not found: app 'FakeOffice' not found")


@pytest.mark.parametrize("route", OPEN_ROUTES)
def test_open_row_no_app_for_the_mimetype(peer: Peer, alice: TestUser, route: str) -> None:
    png = peer.upload(alice, alice.home_id, "p.png", b"\x89PNG\r\n")
    assert_error(open_(peer, alice.auth, route, file_id=png), "RESOURCE_NOT_FOUND", "no app providers found")


@pytest.mark.parametrize("route", OPEN_ROUTES)
def test_open_row_link_role_after_app(peer: Peer, alice: TestUser, route: str) -> None:
    folder = peer.folder(alice, alice.home_id, "Drop")
    inside = peer.upload(alice, folder, "in.odt", odt_bytes())
    png = peer.upload(alice, folder, "in.png", b"\x89PNG")
    uploader = {"Public-Token": peer.link(alice, folder, role="uploader")["token"]}
    message = "permission denied to open the application"
    assert_error(open_(peer, uploader, route, file_id=inside), "PERMISSION_DENIED", message)
    assert_error(open_(peer, uploader, route, file_id=inside, view_mode="view"), "PERMISSION_DENIED", message)
    assert_error(
        open_(peer, uploader, route, file_id=inside, app_name="Nope"),
        "RESOURCE_NOT_FOUND",
        "error: not found: app 'Nope' not found",
    )
    assert_error(open_(peer, uploader, route, file_id=png), "RESOURCE_NOT_FOUND", "no app providers found")


@pytest.mark.parametrize("route", OPEN_ROUTES)
def test_open_row_app_unreachable(app: Flask, peer: Peer, alice: TestUser, odt: str, route: str) -> None:
    services_of(app).catalog.register(AppProvider("Broken", (ODT,)), RecordingDriver(fail=True))
    assert_error(open_(peer, alice.auth, route, file_id=odt, app_name="Broken"), "SERVER_ERROR", UNREACHABLE)


# --- success ------------------------------------------------------------------------------------------


def test_open_form_post_shape_and_ttl(peer: Peer, alice: TestUser, odt: str) -> None:
    before_ms = int(time.time() * 1000)
    response = open_(peer, alice.auth, file_id=odt, app_name="FakeOffice")
    assert response.status_code == 200
    assert response.headers["Content-Type"].split(";")[0] == "application/json"
    body = response.json()
    assert set(body) == {"app_url", "method", "form_parameters"}
    assert body["method"] == "POST" and body["app_url"] == "https://office.example.test/open"
    form = body["form_parameters"]
    assert set(form) == {"access_token", "access_token_ttl"}
    ttl = form["access_token_ttl"]
    assert isinstance(ttl, str) and ttl.isdigit()
    expiry_ms = int(jwt.decode(form["access_token"], options={"verify_signature": False})["exp"]) * 1000
    assert abs(int(ttl) - expiry_ms) <= 2000  # absolute expiry, not a duration
    assert int(ttl) > before_ms


def test_open_get_app_shape(peer: Peer, alice: TestUser, odt: str) -> None:
    body = open_(peer, alice.auth, file_id=odt, app_name="PdfViewer").json()
    assert set(body) == {"app_url", "method", "headers"} and body["method"] == "GET"
    assert body["headers"] and all(isinstance(v, str) and v for v in body["headers"].values())


def test_open_default_app(peer: Peer, alice: TestUser, apps: Apps, odt: str) -> None:
    # odt: PdfViewer (priority 1) before FakeOffice; docx: FakeOffice alone.
    assert open_(peer, alice.auth, file_id=odt).json()["method"] == "GET"
    docx = new(peer, alice.auth, parent_container_id=alice.home_id, filename="w.docx").json()["file_id"]
    assert open_(peer, alice.auth, file_id=docx).json()["method"] == "POST"
    assert len(apps.viewer.requests) == 1 and len(apps.office.requests) == 1


def test_open_from_form_body_and_raw_ids(peer: Peer, alice: TestUser, apps: Apps, odt: str) -> None:
    form = peer.post("/app/open", alice.auth, data={"file_id": odt, "app_name": "FakeOffice", "view_mode": "read"})
    assert form.status_code == 200, form.text
    assert apps.office.requests[-1].view_mode.value == "read"
    raw = peer.session.post(f"{peer.base}/app/open?file_id={odt}&app_name=FakeOffice", headers=alice.auth, timeout=30)
    assert raw.status_code == 200, raw.text
    # Query and body together: each parameter from wherever it came.
    mixed = peer.session.post(
        f"{peer.base}/app/open?file_id={quote(odt, safe='')}",
        data={"app_name": "FakeOffice", "view_mode": "view"},
        headers=alice.auth,
        timeout=30,
    )
    assert mixed.status_code == 200, mixed.text
    assert apps.office.requests[-1].view_mode.value == "view"
    encoded = quote(odt, safe="")
    web = peer.session.post(f"{peer.base}/app/open-with-web?file_id={encoded}", headers=alice.auth, timeout=30)
    assert web.status_code == 200, web.text


@pytest.mark.parametrize(
    ("requested", "expected"), [(None, "write"), ("write", "write"), ("read", "read"), ("view", "view")]
)
def test_owner_view_modes(
    peer: Peer, alice: TestUser, apps: Apps, odt: str, requested: str | None, expected: str
) -> None:
    params = {"file_id": odt, "app_name": "FakeOffice", **({"view_mode": requested} if requested else {})}
    assert open_(peer, alice.auth, **params).status_code == 200
    assert apps.office.requests[-1].view_mode.value == expected


@pytest.mark.parametrize(
    ("role", "requested", "expected"),
    [
        ("viewer", None, "view"),
        ("viewer", "write", "view"),
        ("viewer", "read", "view"),
        ("viewer", "view", "view"),
        ("editor", None, "write"),
        ("editor", "write", "write"),
        ("editor", "read", "read"),
        ("editor", "view", "view"),
    ],
)
def test_public_link_view_modes(
    peer: Peer, alice: TestUser, apps: Apps, odt: str, role: str, requested: str | None, expected: str
) -> None:
    headers = {"Public-Token": peer.link(alice, odt, role=role)["token"]}
    params = {"file_id": odt, "app_name": "FakeOffice", **({"view_mode": requested} if requested else {})}
    response = open_(peer, headers, **params)
    assert response.status_code == 200, response.text
    assert apps.office.requests[-1].view_mode.value == expected


@pytest.mark.parametrize("app_name", ["FakeOffice", "PdfViewer", ""])
def test_open_with_web_uri(peer: Peer, alice: TestUser, odt: str, app_name: str) -> None:
    params = {"file_id": odt, **({"app_name": app_name} if app_name else {})}
    response = open_(peer, alice.auth, "/app/open-with-web", **params)
    assert response.status_code == 200
    assert response.headers["Content-Type"].split(";")[0] == "application/json"
    body = response.json()
    assert set(body) == {"uri"}
    chosen = app_name or "PdfViewer"
    expected = (
        f"{PUBLIC_BASE}/external?app={chosen}&contextRouteName=files-spaces-personal&fileId={quote(odt, safe='')}"
    )
    assert body["uri"] == expected
    assert "%24" in body["uri"] and "%21" in body["uri"]


def test_open_with_web_uri_for_a_link(peer: Peer, alice: TestUser, odt: str) -> None:
    headers = {"Public-Token": peer.link(alice, odt, role="viewer")["token"]}
    response = open_(peer, headers, "/app/open-with-web", file_id=odt, app_name="FakeOffice", view_mode="write")
    assert response.json()["uri"].endswith(f"fileId={quote(odt, safe='')}")


# --- GET /app/list ----------------------------------------------------------------------------------

SECRET = "provider-secret"
YAML_LIST: list[dict[str, Any]] = [
    {
        "mime_type": DOCX,
        "extension": "docx",
        "name": "Word",
        "description": "Word document",
        "icon": "https://icons.test/docx.png",
        "allow_creation": True,
    },
    {"mime_type": PDF, "extension": "pdf", "name": "PDF", "allow_creation": False},
    {"mime_type": "image/png", "extension": "png", "name": "PNG"},  # nobody serves it
    {"mime_type": ODT, "extension": "odt"},
]


@pytest.fixture
def listing(
    make_app: Callable[..., Flask], live_server: Callable[[Flask], str]
) -> Iterator[tuple[dict[str, Any], str]]:
    with stand_in_provider(SECRET) as provider:
        listed_app = make_app(
            app_registry={"mimetypes": YAML_LIST, "provider_secret": SECRET, "provider_origins": [provider.url]}
        )
        catalog = services_of(listed_app).catalog
        catalog.register(
            AppProvider("FakeOffice", (ODT, DOCX, XLSX, TXT), icon="https://office.test/i.png"), RecordingDriver()
        )
        catalog.register(AppProvider("PdfViewer", (PDF, ODT), priority=1, product_name="Viewer"), RecordingDriver())
        catalog.register(AppProvider("Alpha", ("application/x-zeta", "application/x-alpha", DOCX)), RecordingDriver())
        base = live_server(listed_app)
        registration = {
            "name": "Draw",
            "mimetypes": ["image/svg+xml", DOCX],
            "launch_url": f"{provider.url}/launch",
            "priority": 0,
        }
        registered = requests.post(
            f"{base}/api/v1/app-providers", json=registration, headers={SECRET_HEADER: SECRET}, timeout=30
        )
        assert registered.status_code == 200, registered.text
        response = requests.get(f"{base}/app/list", timeout=30)
        assert response.status_code == 200
        assert response.headers["Content-Type"].split(";")[0] == "application/json"
        yield response.json(), provider.url


def _no_empty_or_false(value: Any) -> None:
    if isinstance(value, dict):
        for item in value.values():
            assert item not in ("", False, None, [], {}), value
            _no_empty_or_false(item)
    elif isinstance(value, list):
        for item in value:
            _no_empty_or_false(item)


def test_list_keys_and_omissions(listing: tuple[dict[str, Any], str]) -> None:
    body, provider_url = listing
    assert set(body) == {"mime-types"}
    _no_empty_or_false(body)
    assert provider_url not in str(body) and "127.0.0.1" not in str(body)
    allowed = {
        "mime_type",
        "ext",
        "name",
        "description",
        "icon",
        "allow_creation",
        "default_application",
        "app_providers",
    }
    provider_keys = {"name", "icon", "description", "product_name", "capability", "target_ext"}
    for entry in body["mime-types"]:
        assert set(entry) <= allowed and {"mime_type", "app_providers", "default_application"} <= set(entry)
        assert entry["app_providers"]
        assert entry["default_application"] in [p["name"] for p in entry["app_providers"]]
        assert entry.get("allow_creation", True) is True
        for provider in entry["app_providers"]:
            assert set(provider) <= provider_keys and "name" in provider
    by_type = {entry["mime_type"]: entry for entry in body["mime-types"]}
    assert by_type[DOCX] == {
        "mime_type": DOCX,
        "ext": "docx",
        "name": "Word",
        "description": "Word document",
        "icon": "https://icons.test/docx.png",
        "allow_creation": True,
        "default_application": "Alpha",
        "app_providers": [
            {"name": "Alpha"},
            {"name": "Draw"},
            {"name": "FakeOffice", "icon": "https://office.test/i.png"},
        ],
    }
    assert by_type[PDF] == {
        "mime_type": PDF,
        "ext": "pdf",
        "name": "PDF",
        "default_application": "PdfViewer",
        "app_providers": [{"name": "PdfViewer", "product_name": "Viewer"}],
    }
    assert "image/png" not in by_type
    assert by_type["application/x-zeta"] == {
        "mime_type": "application/x-zeta",
        "default_application": "Alpha",
        "app_providers": [{"name": "Alpha"}],
    }


def test_list_order(listing: tuple[dict[str, Any], str]) -> None:
    body, _ = listing
    order = [entry["mime_type"] for entry in body["mime-types"]]
    assert order == [DOCX, PDF, ODT, XLSX, TXT, "application/x-zeta", "application/x-alpha", "image/svg+xml"]
    odt_entry = body["mime-types"][2]
    assert [p["name"] for p in odt_entry["app_providers"]] == ["PdfViewer", "FakeOffice"]
    assert odt_entry["default_application"] == "PdfViewer"


# --- capabilities ------------------------------------------------------------------------------------

CAPABILITY = {
    "enabled": True,
    "version": "1.1.0",
    "apps_url": "/app/list",
    "open_url": "/app/open",
    "open_web_url": "/app/open-with-web",
    "new_url": "/app/new",
    "new_file_url": "/app/new",
}


@pytest.mark.parametrize(("version", "statuscode"), [("v1", 100), ("v2", 200)])
def test_capabilities_json(peer: Peer, version: str, statuscode: int) -> None:
    response = peer.session.get(
        f"{peer.base}/ocs/{version}.php/cloud/capabilities", params={"format": "json"}, timeout=30
    )
    assert response.status_code == 200
    assert response.headers["Content-Type"].split(";")[0] == "application/json"
    ocs = response.json()["ocs"]
    assert ocs["meta"]["statuscode"] == statuscode
    assert ocs["data"]["capabilities"]["files"]["app_providers"] == [CAPABILITY]


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_capabilities_without_format_are_xml(peer: Peer, version: str) -> None:
    response = peer.session.get(f"{peer.base}/ocs/{version}.php/cloud/capabilities", timeout=30)
    assert response.status_code == 200
    assert response.headers["Content-Type"].split(";")[0] in ("text/xml", "application/xml")
    root = ElementTree.fromstring(response.content)
    providers = root.find("./data/capabilities/files/app_providers/element")
    assert providers is not None
    assert providers.findtext("new_url") == "/app/new" and providers.findtext("enabled") == "1"


# --- edges a client can produce --------------------------------------------------------------------


def test_list_ignores_bad_credentials(peer: Peer) -> None:
    response = peer.session.get(peer.base + "/app/list", headers=basic_auth("nobody", "wrong"), timeout=30)
    assert response.status_code == 200 and "mime-types" in response.json()


@pytest.mark.parametrize("raw", ["%FF%FE", "%ZZ", "s%24p%21o%00", "%24%21"])
def test_odd_encodings_are_invalid_ids(peer: Peer, alice: TestUser, raw: str) -> None:
    response = peer.session.post(f"{peer.base}/app/open?file_id={raw}", headers=alice.auth, timeout=30)
    assert_error(response, "INVALID_PARAMETER", "invalid file ID")


def test_encoded_slash_in_filename_is_a_path_segment(peer: Peer, alice: TestUser) -> None:
    encoded = quote(alice.home_id, safe="")
    response = peer.session.post(
        f"{peer.base}/app/new?parent_container_id={encoded}&filename=a%2Fb.txt", headers=alice.auth, timeout=30
    )
    assert_error(response, "INVALID_PARAMETER", "the filename must not contain a path segment")


def test_deleted_file_and_folder(peer: Peer, alice: TestUser, odt: str) -> None:
    folder = peer.folder(alice, alice.home_id, "Gone")
    for node in (odt, folder):
        deleted = peer.session.delete(f"{peer.base}/api/v1/files/{node}", headers=alice.auth, timeout=30)
        assert deleted.status_code in (200, 204)
    for route in OPEN_ROUTES:
        assert_error(open_(peer, alice.auth, route, file_id=odt), "RESOURCE_NOT_FOUND", "file does not exist")
    assert_error(
        new(peer, alice.auth, parent_container_id=folder, filename="x.odt"),
        "RESOURCE_NOT_FOUND",
        "the parent container is not accessible or does not exist",
    )


def test_external_provider_form_post_carries_the_expiry(
    make_app: Callable[..., Flask], live_server: Callable[[Flask], str], make_user: Callable[..., TestUser]
) -> None:
    with stand_in_provider(SECRET) as provider:
        external_app = make_app(app_registry={"provider_secret": SECRET, "provider_origins": [provider.url]})
        user = make_user("carol", target=external_app)
        peer = Peer(live_server(external_app))
        registration = {"name": "Draw", "mimetypes": [ODT], "launch_url": f"{provider.url}/launch"}
        registered = peer.session.post(
            f"{peer.base}/api/v1/app-providers", json=registration, headers={SECRET_HEADER: SECRET}, timeout=30
        )
        assert registered.status_code == 200, registered.text
        file_id = peer.upload(user, user.home_id, "d.odt", odt_bytes())
        before_ms = int(time.time() * 1000)
        body = open_(peer, user.auth, file_id=file_id, app_name="Draw").json()
    assert body["method"] == "POST" and body["app_url"].startswith(provider.url)
    form = body["form_parameters"]
    expiry_ms = int(jwt.decode(form["access_token"], options={"verify_signature": False})["exp"]) * 1000
    assert abs(int(form["access_token_ttl"]) - expiry_ms) <= 2000 and int(form["access_token_ttl"]) > before_ms


def test_default_app_from_the_yaml_wins_over_priority(
    make_app: Callable[..., Flask], live_server: Callable[[Flask], str], make_user: Callable[..., TestUser]
) -> None:
    configured = make_app(
        onlyoffice={"document_server_url": "http://127.0.0.1:9", "jwt_secret": "s" * 32},
        app_registry={"mimetypes": [{"mime_type": DOCX, "extension": "docx", "default_app": "OnlyOffice"}]},
    )
    alpha = RecordingDriver()
    services_of(configured).catalog.register(AppProvider("Alpha", (DOCX,), priority=5), alpha)
    user = make_user("dave", target=configured)
    peer = Peer(live_server(configured))
    # OnlyOffice declares more types; the YAML's one comes first.
    entry = peer.session.get(peer.base + "/app/list", timeout=30).json()["mime-types"][0]
    assert entry["mime_type"] == DOCX
    assert entry["default_application"] == "OnlyOffice"
    assert [p["name"] for p in entry["app_providers"]] == ["Alpha", "OnlyOffice"]
    file_id = new(peer, user.auth, parent_container_id=user.home_id, filename="w.docx").json()["file_id"]
    opened = open_(peer, user.auth, file_id=file_id)
    assert opened.status_code == 200, opened.text
    assert not alpha.requests
    web = open_(peer, user.auth, "/app/open-with-web", file_id=file_id).json()["uri"]
    assert web == (
        f"{PUBLIC_BASE}/external?app=OnlyOffice&contextRouteName=files-spaces-personal&fileId={quote(file_id, safe='')}"
    )


def test_new_long_name_before_unknown_parent(peer: Peer, alice: TestUser) -> None:
    response = new(peer, alice.auth, parent_container_id=unknown_like(alice.home_id), filename="x" * 252 + ".odt")
    assert_error(response, "INVALID_PARAMETER", "the name must not be longer than 255 bytes")


def test_new_template_is_checked_after_permission(peer: Peer, alice: TestUser) -> None:
    folder = peer.folder(alice, alice.home_id, "Read only")
    viewer = {"Public-Token": peer.link(alice, folder, role="viewer")["token"]}
    response = new(peer, viewer, parent_container_id=folder, filename="n.odt", template="garbage")
    assert_error(response, "PERMISSION_DENIED", "permission denied to create the file")
    response = new(peer, alice.auth, parent_container_id=folder, filename="n.odt", template="garbage")
    assert_error(response, "INVALID_PARAMETER", "invalid template ID")


@pytest.mark.parametrize("route", OPEN_ROUTES)
def test_open_template_id_between_view_mode_and_app(
    peer: Peer, alice: TestUser, bob: TestUser, odt: str, route: str
) -> None:
    response = open_(peer, alice.auth, route, file_id=odt, view_mode="bogus", template_id="garbage")
    assert_error(response, "INVALID_PARAMETER", "invalid view mode")
    response = open_(peer, alice.auth, route, file_id=odt, template_id="garbage", app_name="Nope")
    assert_error(response, "INVALID_PARAMETER", "invalid template ID")
    hidden = peer.upload(bob, bob.home_id, "t.ott", b"bob's")
    response = open_(peer, alice.auth, route, file_id=odt, template_id=hidden, app_name="Nope")
    assert_error(response, "RESOURCE_NOT_FOUND", "the template is not accessible or does not exist")
    template = peer.upload(alice, alice.home_id, "t.ott", b"alice's")
    assert open_(peer, alice.auth, route, file_id=odt, template_id=template, app_name="FakeOffice").status_code == 200


def test_a_parameter_in_both_body_and_query_is_taken_from_the_body(peer: Peer, alice: TestUser) -> None:
    response = peer.post(
        "/app/new",
        alice.auth,
        params={"parent_container_id": alice.home_id, "filename": "from-query.txt"},
        data={"filename": "from-body.txt"},
    )
    assert response.status_code == 200, response.text
    listing = peer.session.get(f"{peer.base}/api/v1/containers/{alice.home_id}", headers=alice.auth, timeout=30).json()
    assert [child["name"] for child in listing["children"]] == ["from-body.txt"]
