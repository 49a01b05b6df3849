"""POST /app/open through the HTTP client: every row of the contract's table, in its order,
with every authentication mechanism, view modes lowered and never raised, public links."""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from core.ids import parse_resource_id
from core.tokens import ViewMode
from registry.blank_files import blank_path
from server.services import services_of
from tests.conftest import TestUser, basic_auth, upload
from tests.registry.helpers import ODT, Apps, assert_error, make_folder, make_link
from tests.support.oidc import LocalIssuer, local_issuer

ODT_BYTES = (blank_path("odt") or pytest.fail("no blank odt")).read_bytes()
NOT_FOUND = (404, "RESOURCE_NOT_FOUND", "file does not exist")


@pytest.fixture
def odt(client: FlaskClient, alice: TestUser, apps: Apps) -> str:
    return upload(client, alice, alice.home_id, "plan.odt", ODT_BYTES)


def post_open(client: FlaskClient, auth: dict[str, str], route: str = "/app/open", **params: str) -> Any:
    return client.post(route, query_string=params, headers=auth)


# --- the table, row by row ----------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["xx", "DE", "english"])
def test_row_lang_is_checked_first(client: FlaskClient, alice: TestUser, apps: Apps, lang: str) -> None:
    # Before file_id: even a request without a file gets the lang error.
    response = post_open(client, alice.auth, lang=lang)
    assert_error(response, 400, "INVALID_PARAMETER", "lang parameter does not contain a valid ISO 639-1 language code")


def test_row_missing_file_id(client: FlaskClient, alice: TestUser, apps: Apps) -> None:
    assert_error(post_open(client, alice.auth), 400, "INVALID_PARAMETER", "missing file ID")
    assert_error(post_open(client, alice.auth, file_id=""), 400, "INVALID_PARAMETER", "missing file ID")


@pytest.mark.parametrize(
    "file_id",
    ["not-an-id", "a$b", "a!b$c", "$!", "s$p!o!x", "s$p!../../etc/passwd", "ZmlsZTppZAo=", "s$p!o\x00", "s$ p!o"],
)
def test_row_malformed_file_id(client: FlaskClient, alice: TestUser, apps: Apps, file_id: str) -> None:
    assert_error(post_open(client, alice.auth, file_id=file_id), 400, "INVALID_PARAMETER", "invalid file ID")


def test_row_file_missing(client: FlaskClient, alice: TestUser, apps: Apps, odt: str) -> None:
    unknown = str(parse_resource_id(odt)).rsplit("!", 1)[0] + "!00000000-0000-0000-0000-000000000000"
    assert_error(post_open(client, alice.auth, file_id=unknown), *NOT_FOUND)
    other_storage = "elsewhere$" + odt.split("$", 1)[1]
    assert_error(post_open(client, alice.auth, file_id=other_storage), *NOT_FOUND)


def test_row_deleted_file(client: FlaskClient, alice: TestUser, apps: Apps, odt: str) -> None:
    assert client.delete(f"/api/v1/files/{odt}", headers=alice.auth).status_code in (200, 204)
    assert_error(post_open(client, alice.auth, file_id=odt), *NOT_FOUND)


def test_row_another_users_file_is_not_found(client: FlaskClient, bob: TestUser, apps: Apps, odt: str) -> None:
    # The same answer as for an id that names nothing: no hint that the file exists.
    for params in ({}, {"view_mode": "bogus"}, {"app_name": "NoSuchApp"}, {"view_mode": "write"}):
        assert_error(post_open(client, bob.auth, file_id=odt, **params), *NOT_FOUND)


def test_row_folder(client: FlaskClient, alice: TestUser, apps: Apps) -> None:
    folder = make_folder(client, alice.auth, alice.home_id, "Reports")
    for file_id in (folder, alice.home_id):
        response = post_open(client, alice.auth, file_id=file_id, view_mode="bogus")
        assert_error(response, 400, "INVALID_PARAMETER", "the given file id does not point to a file")


@pytest.mark.parametrize("view_mode", ["edit", "WRITE", "VIEW_MODE_READ_WRITE", "preview"])
def test_row_invalid_view_mode(client: FlaskClient, alice: TestUser, apps: Apps, odt: str, view_mode: str) -> None:
    response = post_open(client, alice.auth, file_id=odt, view_mode=view_mode, app_name="NoSuchApp")
    assert_error(response, 400, "INVALID_PARAMETER", "invalid view mode")


@pytest.mark.parametrize("app_name", ["NoSuchApp", "fakeoffice", "FakeOffice "])
def test_row_unknown_app(client: FlaskClient, alice: TestUser, apps: Apps, odt: str, app_name: str) -> None:
    response = post_open(client, alice.auth, file_id=odt, app_name=app_name)
    assert_error(response, 404, "RESOURCE_NOT_FOUND", f"error: not found: app '{app_name}' not found")


def test_row_app_exists_but_not_for_this_mimetype(client: FlaskClient, alice: TestUser, apps: Apps) -> None:
    pdf = upload(client, alice, alice.home_id, "paper.pdf", b"%PDF-1.4\n")
    response = post_open(client, alice.auth, file_id=pdf, app_name="FakeOffice")
    assert_error(response, 404, "RESOURCE_NOT_FOUND", "error: not found: app 'FakeOffice' not found")


def test_row_no_app_for_the_mimetype(client: FlaskClient, alice: TestUser, apps: Apps) -> None:
    for name in ("photo.png", "archive.bin", "noextension"):
        file_id = upload(client, alice, alice.home_id, name, b"\x89PNG")
        assert_error(
            post_open(client, alice.auth, file_id=file_id), 404, "RESOURCE_NOT_FOUND", "no app providers found"
        )


def test_row_public_link_role_may_not_open(client: FlaskClient, alice: TestUser, apps: Apps) -> None:
    folder = make_folder(client, alice.auth, alice.home_id, "Drop")
    inside = upload(client, alice, folder, "in.odt", ODT_BYTES)
    link = make_link(client, alice.auth, folder, role="uploader")
    headers = {"Public-Token": link["token"]}
    assert_error(
        post_open(client, headers, file_id=inside),
        403,
        "PERMISSION_DENIED",
        "permission denied to open the application",
    )
    # The app is resolved before the role is looked at.
    assert_error(
        post_open(client, headers, file_id=inside, app_name="NoSuchApp"),
        404,
        "RESOURCE_NOT_FOUND",
        "error: not found: app 'NoSuchApp' not found",
    )


def test_row_app_unreachable(client: FlaskClient, alice: TestUser, apps: Apps, odt: str) -> None:
    apps.office.fail = True
    response = post_open(client, alice.auth, file_id=odt, app_name="FakeOffice")
    assert_error(
        response,
        500,
        "SERVER_ERROR",
        "Error contacting the requested application, please use a different one or try again later",
    )


# --- success ---------------------------------------------------------------------------------------


def _grant(app: Flask, token: str, app_name: str, file_id: str) -> Any:
    return services_of(app).tokens.verify(token, audience=f"app:{app_name}", file_id=parse_resource_id(file_id))


def test_success_form_post(app: Flask, client: FlaskClient, alice: TestUser, apps: Apps, odt: str) -> None:
    response = post_open(client, alice.auth, file_id=odt, app_name="FakeOffice", lang="de")
    assert response.status_code == 200 and response.mimetype == "application/json"
    body = response.get_json()
    assert set(body) == {"app_url", "method", "form_parameters"}
    assert body["app_url"] == "https://office.example.test/open" and body["method"] == "POST"
    form = body["form_parameters"]
    assert isinstance(form["access_token"], str) and isinstance(form["access_token_ttl"], str)
    grant = _grant(app, form["access_token"], "FakeOffice", odt)
    assert grant.user_id == alice.id and grant.view_mode is ViewMode.WRITE
    assert grant.claims == {"name": "alice", "role": "editor"}
    assert form["access_token_ttl"] == str(grant.expires_at * 1000)  # absolute, in ms
    [launched] = apps.office.requests
    assert str(launched.file.id) == odt and launched.lang == "de" and launched.user_display_name == "alice"


def test_success_get_app(client: FlaskClient, alice: TestUser, apps: Apps, odt: str) -> None:
    body = post_open(client, alice.auth, file_id=odt, app_name="PdfViewer").get_json()
    assert set(body) == {"app_url", "method", "headers"} and body["method"] == "GET"


def test_token_is_for_that_app_only(app: Flask, client: FlaskClient, alice: TestUser, apps: Apps, odt: str) -> None:
    token = post_open(client, alice.auth, file_id=odt, app_name="FakeOffice").get_json()["form_parameters"][
        "access_token"
    ]
    from core.errors import InvalidToken

    with pytest.raises(InvalidToken):
        _grant(app, token, "PdfViewer", odt)


def test_app_without_name_is_first_by_priority(client: FlaskClient, alice: TestUser, apps: Apps, odt: str) -> None:
    # odt: PdfViewer (priority 1) before FakeOffice (priority 0).
    assert post_open(client, alice.auth, file_id=odt).get_json()["method"] == "GET"
    assert len(apps.viewer.requests) == 1 and not apps.office.requests


def test_parameters_from_the_form_body(app: Flask, client: FlaskClient, alice: TestUser, apps: Apps, odt: str) -> None:
    response = client.post(
        "/app/open", data={"file_id": odt, "app_name": "FakeOffice", "view_mode": "read"}, headers=alice.auth
    )
    assert response.status_code == 200
    assert (
        _grant(app, response.get_json()["form_parameters"]["access_token"], "FakeOffice", odt).view_mode
        is ViewMode.READ
    )


@pytest.mark.parametrize(
    ("requested", "expected"),
    [(None, ViewMode.WRITE), ("write", ViewMode.WRITE), ("read", ViewMode.READ), ("view", ViewMode.VIEW)],
)
def test_owner_view_modes(
    app: Flask, client: FlaskClient, alice: TestUser, apps: Apps, odt: str, requested: str | None, expected: ViewMode
) -> None:
    params = {"file_id": odt, "app_name": "FakeOffice", **({"view_mode": requested} if requested else {})}
    response = post_open(client, alice.auth, **params)
    assert apps.office.requests[-1].view_mode is expected
    assert _grant(app, response.get_json()["form_parameters"]["access_token"], "FakeOffice", odt).view_mode is expected


@pytest.mark.parametrize(
    ("role", "requested", "expected"),
    [
        ("viewer", None, ViewMode.VIEW),
        ("viewer", "write", ViewMode.VIEW),  # never raised
        ("viewer", "read", ViewMode.VIEW),
        ("editor", None, ViewMode.WRITE),
        ("editor", "write", ViewMode.WRITE),
        ("editor", "read", ViewMode.READ),  # lowered on request
        ("editor", "view", ViewMode.VIEW),
    ],
)
def test_public_link_view_modes(
    app: Flask,
    client: FlaskClient,
    alice: TestUser,
    apps: Apps,
    odt: str,
    role: str,
    requested: str | None,
    expected: ViewMode,
) -> None:
    link = make_link(client, alice.auth, odt, role=role)
    params = {"file_id": odt, "app_name": "FakeOffice", **({"view_mode": requested} if requested else {})}
    response = post_open(client, {"Public-Token": link["token"]}, **params)
    assert response.status_code == 200, response.get_data(as_text=True)
    grant = _grant(app, response.get_json()["form_parameters"]["access_token"], "FakeOffice", odt)
    assert grant.view_mode is expected and grant.link_id == link["id"]


def test_public_link_to_a_folder_opens_files_inside_only(
    client: FlaskClient, alice: TestUser, apps: Apps, odt: str
) -> None:
    folder = make_folder(client, alice.auth, alice.home_id, "Shared")
    inside = upload(client, alice, folder, "in.odt", ODT_BYTES)
    headers = {"Public-Token": make_link(client, alice.auth, folder, role="editor")["token"]}
    assert post_open(client, headers, file_id=inside, app_name="FakeOffice").status_code == 200
    assert_error(post_open(client, headers, file_id=odt, app_name="FakeOffice"), *NOT_FOUND)


def test_password_protected_public_link(client: FlaskClient, alice: TestUser, apps: Apps, odt: str) -> None:
    link = make_link(client, alice.auth, odt, role="viewer", password="pw")
    headers = {"Public-Token": link["token"]}
    assert post_open(client, headers, file_id=odt).status_code == 401
    assert post_open(client, {**headers, **basic_auth("public", "nope")}, file_id=odt).status_code == 401
    assert post_open(client, {**headers, **basic_auth("public", "pw")}, file_id=odt).status_code == 200


# --- authentication -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {},
        basic_auth("alice", "wrong"),
        {"Authorization": "Basic !!!"},
        {"X-Access-Token": "dbt_not-a-token"},
        {"Public-Token": "no-such-link"},
        {"Authorization": "Bearer abc"},  # no OIDC issuer configured
        {"Authorization": "Digest abc"},
    ],
    ids=[
        "none",
        "wrong-password",
        "malformed-basic",
        "bad-access-token",
        "bad-public-token",
        "bearer-without-oidc",
        "other-scheme",
    ],
)
@pytest.mark.parametrize("route", ["/app/open", "/app/open-with-web", "/app/new"])
def test_unauthenticated(client: FlaskClient, apps: Apps, odt: str, headers: dict[str, str], route: str) -> None:
    response = client.post(route, query_string={"file_id": odt}, headers=headers)
    assert response.status_code == 401
    assert response.mimetype == "application/json"
    assert response.get_json()["code"] == "UNAUTHENTICATED"


def test_x_access_token(app: Flask, client: FlaskClient, alice: TestUser, apps: Apps, odt: str) -> None:
    token = services_of(app).users.issue_token(alice.id, "test")
    response = post_open(client, {"X-Access-Token": token}, file_id=odt, app_name="FakeOffice")
    assert response.status_code == 200
    assert _grant(app, response.get_json()["form_parameters"]["access_token"], "FakeOffice", odt).user_id == alice.id


@pytest.fixture
def issuer() -> Iterator[LocalIssuer]:
    with local_issuer() as running:
        yield running


def test_oidc_bearer(make_app: Callable[..., Flask], issuer: LocalIssuer, apps: Apps) -> None:
    oidc_app = make_app(oidc={"issuer": issuer.url, "audience": "docbridge"})
    from registry.providers import AppProvider
    from tests.registry.helpers import RecordingDriver

    driver = RecordingDriver()
    services_of(oidc_app).catalog.register(AppProvider("FakeOffice", (ODT,)), driver)
    client = oidc_app.test_client()
    bearer = {"Authorization": f"Bearer {issuer.token(subject='sub-7', preferred_username='dana', name='Dana Scully')}"}
    home = client.get("/api/v1/me", headers=bearer).get_json()["home_id"]
    created = client.post(
        "/app/new", query_string={"parent_container_id": home, "filename": "memo.odt"}, headers=bearer
    )
    assert created.status_code == 200
    file_id = created.get_json()["file_id"]
    opened = client.post("/app/open", query_string={"file_id": file_id}, headers=bearer)
    assert opened.status_code == 200
    assert driver.requests[0].user_display_name == "Dana Scully"
    web = client.post("/app/open-with-web", query_string={"file_id": file_id}, headers=bearer)
    assert web.status_code == 200
    expired = {"Authorization": f"Bearer {issuer.token(subject='sub-7', lifetime=-120)}"}
    assert client.post("/app/open", query_string={"file_id": file_id}, headers=expired).status_code == 401


def test_basic_auth_switched_off(make_app: Callable[..., Flask]) -> None:
    closed = make_app(basic_auth=False)
    services_of(closed).users.create("carol", "secret")
    client = closed.test_client()
    assert (
        client.post("/app/open", query_string={"file_id": "a$b!c"}, headers=basic_auth("carol", "secret")).status_code
        == 401
    )


def test_base64_credentials_are_not_logged_in_errors(client: FlaskClient, odt: str) -> None:
    header = "Basic " + base64.b64encode(b"alice:secret").decode()
    response = client.post("/app/open", query_string={"file_id": odt}, headers={"Authorization": header})
    assert "secret" not in response.get_data(as_text=True)
