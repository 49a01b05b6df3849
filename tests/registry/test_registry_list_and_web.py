"""GET /app/list, POST /app/open-with-web and its /external page, the OCS capabilities,
and 405 on other methods, through the HTTP client."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from defusedxml import ElementTree
from flask import Flask
from flask.testing import FlaskClient

from core.config import MimetypeSettings
from registry.blank_files import blank_path
from registry.providers import AppProvider
from server.services import services_of
from tests.conftest import TestUser, upload
from tests.registry.helpers import DOCX, ODT, PDF, TXT, XLSX, Apps, RecordingDriver, assert_error, make_folder

ODT_BYTES = (blank_path("odt") or pytest.fail("no blank odt")).read_bytes()


# --- /app/list ------------------------------------------------------------------------------


def test_list_needs_no_authentication(client: FlaskClient, apps: Apps) -> None:
    response = client.get("/app/list")
    assert response.status_code == 200 and response.mimetype == "application/json"
    body = response.get_json()
    assert list(body) == ["mime-types"]
    listed = [entry["mime_type"] for entry in body["mime-types"]]
    # Built-in list order (pdf, odt, docx, xlsx, txt), mimetypes nobody serves left out.
    assert listed == [PDF, ODT, DOCX, XLSX, TXT]
    odt = body["mime-types"][1]
    assert odt == {
        "mime_type": ODT,
        "ext": "odt",
        "name": "OpenDocument",
        "description": "OpenDocument text document",
        "allow_creation": True,
        "default_application": "PdfViewer",
        "app_providers": [
            {"name": "PdfViewer", "product_name": "Viewer"},
            {"name": "FakeOffice", "icon": "https://office.example.test/i.png"},
        ],
    }
    assert "allow_creation" not in body["mime-types"][0]


def test_list_is_empty_without_apps(client: FlaskClient) -> None:
    assert client.get("/app/list").get_json() == {"mime-types": []}


def test_list_with_an_admin_list_and_provider_declared_types(make_app: Any) -> None:
    app = make_app(
        app_registry={
            "mimetypes": [
                {"mime_type": TXT, "extension": "txt", "name": "Text", "allow_creation": True},
                {"mime_type": ODT, "extension": "odt", "icon": "https://icons.test/odt.svg"},
            ]
        }
    )
    catalog = services_of(app).catalog
    catalog.register(AppProvider("Draw", ("image/svg+xml", ODT, "application/octet-stream")), RecordingDriver())
    catalog.register(AppProvider("Editor", (TXT, "application/x-tex", "image/svg+xml")), RecordingDriver())
    body = app.test_client().get("/app/list").get_json()
    assert [e["mime_type"] for e in body["mime-types"]] == [TXT, ODT, "image/svg+xml", "application/x-tex"]
    assert body["mime-types"][2] == {
        "mime_type": "image/svg+xml",
        "default_application": "Draw",
        "app_providers": [{"name": "Draw"}, {"name": "Editor"}],
    }
    text = app.test_client().get("/app/list").get_data(as_text=True)
    assert "octet-stream" not in text and "address" not in text


def test_list_after_a_driver_re_registers(app: Flask, client: FlaskClient) -> None:
    catalog = services_of(app).catalog
    catalog.register(AppProvider("Wopi", (ODT, DOCX)), RecordingDriver())
    catalog.register(AppProvider("Wopi", (DOCX,)), RecordingDriver())
    assert [e["mime_type"] for e in client.get("/app/list").get_json()["mime-types"]] == [DOCX]


@pytest.mark.parametrize(
    ("method", "route"),
    [
        ("POST", "/app/list"),
        ("DELETE", "/app/list"),
        ("GET", "/app/open"),
        ("PUT", "/app/open"),
        ("GET", "/app/open-with-web"),
        ("PATCH", "/app/open-with-web"),
        ("GET", "/app/new"),
        ("DELETE", "/app/new"),
        ("OPTIONS", "/app/new"),
        ("OPTIONS", "/app/list"),
        ("HEAD", "/app/open"),
    ],
)
def test_other_methods(client: FlaskClient, method: str, route: str) -> None:
    response = client.open(route, method=method)
    assert response.status_code == 405
    assert response.mimetype == "application/json"
    if method != "HEAD":
        assert response.get_json()["code"] == "METHOD_NOT_ALLOWED"
    assert response.headers["Allow"] == ("GET" if route == "/app/list" else "POST")


# --- /app/open-with-web ------------------------------------------------------------------------


@pytest.fixture
def odt(client: FlaskClient, alice: TestUser, apps: Apps) -> str:
    return upload(client, alice, alice.home_id, "plan.odt", ODT_BYTES)


def test_open_with_web_uri(client: FlaskClient, alice: TestUser, odt: str) -> None:
    response = client.post(
        "/app/open-with-web", query_string={"file_id": odt, "app_name": "FakeOffice"}, headers=alice.auth
    )
    assert response.status_code == 200 and response.mimetype == "application/json"
    uri = response.get_json()["uri"]
    assert list(response.get_json()) == ["uri"]
    encoded = odt.replace("$", "%24").replace("!", "%21")
    assert (
        uri == f"http://docbridge.test/external?app=FakeOffice&contextRouteName=files-spaces-personal&fileId={encoded}"
    )


def test_open_with_web_names_the_resolved_app(client: FlaskClient, alice: TestUser, odt: str) -> None:
    uri = client.post("/app/open-with-web", data={"file_id": odt, "view_mode": "read"}, headers=alice.auth).get_json()[
        "uri"
    ]
    assert parse_qs(urlsplit(uri).query) == {
        "app": ["PdfViewer"],
        "contextRouteName": ["files-spaces-personal"],
        "fileId": [odt],
    }


@pytest.mark.parametrize(
    ("params", "status", "code", "message"),
    [
        ({"lang": "xx"}, 400, "INVALID_PARAMETER", "lang parameter does not contain a valid ISO 639-1 language code"),
        ({}, 400, "INVALID_PARAMETER", "missing file ID"),
        ({"file_id": "nope"}, 400, "INVALID_PARAMETER", "invalid file ID"),
        ({"file_id": "docbridge$x!y"}, 404, "RESOURCE_NOT_FOUND", "file does not exist"),
        ({"file_id": "ODT", "view_mode": "all"}, 400, "INVALID_PARAMETER", "invalid view mode"),
        ({"file_id": "ODT", "app_name": "Nope"}, 404, "RESOURCE_NOT_FOUND", "error: not found: app 'Nope' not found"),
        ({"file_id": "PNG"}, 404, "RESOURCE_NOT_FOUND", "no app providers found"),
        ({"file_id": "HOME"}, 400, "INVALID_PARAMETER", "the given file id does not point to a file"),
    ],
)
def test_open_with_web_errors_are_those_of_open(
    client: FlaskClient, alice: TestUser, odt: str, params: dict[str, str], status: int, code: str, message: str
) -> None:
    png = upload(client, alice, alice.home_id, "p.png", b"png")
    names = {"ODT": odt, "PNG": png, "HOME": alice.home_id}
    params = {key: names.get(value, value) for key, value in params.items()}
    assert_error(client.post("/app/open-with-web", query_string=params, headers=alice.auth), status, code, message)


def test_open_with_web_unreachable_app(client: FlaskClient, alice: TestUser, apps: Apps, odt: str) -> None:
    apps.viewer.fail = True
    assert_error(
        client.post("/app/open-with-web", query_string={"file_id": odt}, headers=alice.auth),
        500,
        "SERVER_ERROR",
        "Error contacting the requested application, please use a different one or try again later",
    )


# --- /external -------------------------------------------------------------------------------------


def test_external_page_sends_strangers_to_the_login(client: FlaskClient, odt: str) -> None:
    response = client.get(f"/external?app=FakeOffice&contextRouteName=files-spaces-personal&fileId={odt}")
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert location.path == "/login"
    assert parse_qs(location.query)["next"] == [
        f"/external?app=FakeOffice&contextRouteName=files-spaces-personal&fileId={odt}"
    ]


# --- capabilities ------------------------------------------------------------------------------------

EXPECTED = {
    "enabled": True,
    "version": "1.1.0",
    "apps_url": "/app/list",
    "open_url": "/app/open",
    "open_web_url": "/app/open-with-web",
    "new_url": "/app/new",
    "new_file_url": "/app/new",
}


@pytest.mark.parametrize(("version", "statuscode"), [("v1", 100), ("v2", 200)])
def test_capabilities_json(client: FlaskClient, version: str, statuscode: int) -> None:
    response = client.get(f"/ocs/{version}.php/cloud/capabilities?format=json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    ocs = response.get_json()["ocs"]
    assert ocs["meta"]["statuscode"] == statuscode and ocs["meta"]["status"] == "ok"
    assert ocs["data"]["capabilities"]["files"]["app_providers"] == [EXPECTED]


def test_capabilities_xml(client: FlaskClient) -> None:
    response = client.get("/ocs/v1.php/cloud/capabilities")
    assert response.status_code == 200 and response.mimetype == "text/xml"
    root = ElementTree.fromstring(response.get_data())
    [element] = root.findall("data/capabilities/files/app_providers/element")
    assert element.findtext("new_url") == "/app/new" and element.findtext("enabled") == "1"


def test_admin_mimetypes_replace_the_built_in_list(make_app: Any) -> None:
    app = make_app(app_registry={"mimetypes": [{"mime_type": PDF, "extension": "pdf"}]})
    services_of(app).catalog.register(AppProvider("FakeOffice", (ODT, PDF)), RecordingDriver())
    entries = app.test_client().get("/app/list").get_json()["mime-types"]
    # ODT is not in the admin's list: listed after it, bare, because a provider declared it.
    assert entries[0]["mime_type"] == PDF and entries[0]["ext"] == "pdf"
    assert entries[1] == {
        "mime_type": ODT,
        "default_application": "FakeOffice",
        "app_providers": [{"name": "FakeOffice"}],
    }
    assert services_of(app).catalog.configured_mimetypes == (MimetypeSettings(PDF, "pdf"),)


def test_folder_ids_in_open_with_web(client: FlaskClient, alice: TestUser, apps: Apps) -> None:
    folder = make_folder(client, alice.auth, alice.home_id, "F")
    assert_error(
        client.post("/app/open-with-web", query_string={"file_id": folder}, headers=alice.auth),
        400,
        "INVALID_PARAMETER",
        "the given file id does not point to a file",
    )
