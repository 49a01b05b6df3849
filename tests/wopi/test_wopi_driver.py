"""The WOPI driver as the app registry uses it, discovery health, and the `flask wopi` CLI."""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import TestUser, upload
from tests.wopi.conftest import APP_NAME, WopiCaller, wopi_settings
from tests.wopi.wopi_client import WopiClientStandIn, serve

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def open_app(client: FlaskClient, user: TestUser, file_id: str, mode: str, app_name: str = APP_NAME):  # type: ignore[no-untyped-def]
    return client.post(
        "/app/open", data={"file_id": file_id, "app_name": app_name, "view_mode": mode, "lang": "de"}, headers=user.auth
    )


def test_app_list_shows_discovery_mimetypes(client: FlaskClient) -> None:
    listed = client.get("/app/list").get_json()["mime-types"]
    by_type = {entry["mime_type"]: entry for entry in listed}
    assert APP_NAME in [p["name"] for p in by_type[DOCX]["app_providers"]]
    assert "application/octet-stream" not in by_type


@pytest.mark.parametrize(
    ("content", "mode", "action"),
    [(b"data", "write", "edit"), (b"", "write", "editnew"), (b"data", "read", "view"), (b"data", "view", "view")],
)
def test_open_returns_filled_action_url(
    client: FlaskClient, alice: TestUser, stand_in: WopiClientStandIn, content: bytes, mode: str, action: str
) -> None:
    file_id = upload(client, alice, alice.home_id, "letter.docx", content)
    response = open_app(client, alice, file_id, mode)
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert body["method"] == "POST"
    url = urlsplit(body["app_url"])
    assert f"{url.scheme}://{url.netloc}" == stand_in.base_url
    assert url.path == f"/word/{action}.aspx"
    query = parse_qs(url.query)
    assert query["ui"] == ["de"]
    wopi_src = query["WOPISrc"][0]
    assert wopi_src == f"http://localhost/wopi/files/{file_id.replace('$', '%24').replace('!', '%21')}"
    form = body["form_parameters"]
    assert form["access_token_ttl"].isdigit() and int(form["access_token_ttl"]) > 10**12
    # the launched client can use the token on that WOPISrc
    caller = WopiCaller(client, stand_in, form["access_token"], unquote(wopi_src.rsplit("/", 1)[1]))
    info = caller.check_file_info().get_json()
    assert info["UserCanWrite"] is (mode == "write")


def test_collabora_shape_launch(make_app: Callable[..., Flask], make_user: Callable[..., TestUser]) -> None:
    with serve(WopiClientStandIn(shape="collabora")) as cool:
        app = make_app(**wopi_settings(cool))
        client = app.test_client()
        user = make_user("hank", target=app)
        file_id = upload(client, user, user.home_id, "notes.odt", b"x")
        body = open_app(client, user, file_id, "read").get_json()
        assert body["app_url"].startswith(cool.base_url + "/browser/dist/cool.html?WOPISrc=")


def test_unreachable_client_keeps_last_good_discovery(
    app: Flask, client: FlaskClient, alice: TestUser, stand_in: WopiClientStandIn
) -> None:
    runtime = app.extensions["wopi"]
    stand_in.fail = True
    assert runtime.clients.get(APP_NAME).refresh() is False
    details = client.get("/readyz").get_json()["details"]
    assert details[f"wopi:{APP_NAME}"]["healthy"] is False
    file_id = upload(client, alice, alice.home_id, "still.docx", b"x")
    assert open_app(client, alice, file_id, "write").status_code == 200  # last good discovery
    result = app.test_cli_runner().invoke(args=["wopi", "status"])
    assert result.exit_code == 1 and "UNHEALTHY" in result.output
    stand_in.fail = False
    result = app.test_cli_runner().invoke(args=["wopi", "status"])
    assert result.exit_code == 0 and "healthy" in result.output and "proof keys published" in result.output
    assert client.get("/readyz").get_json()["details"][f"wopi:{APP_NAME}"]["healthy"] is True


def test_restart_while_client_is_down_uses_cached_discovery(
    make_app: Callable[..., Flask], stand_in: WopiClientStandIn, base_settings: dict
) -> None:  # type: ignore[type-arg]
    make_app(**wopi_settings(stand_in))  # a good fetch, cached in the data dir
    stand_in.fail = True
    again = make_app(**wopi_settings(stand_in))
    listed = again.test_client().get("/app/list").get_json()["mime-types"]
    assert DOCX in [entry["mime_type"] for entry in listed]
    assert again.test_client().get("/readyz").get_json()["details"][f"wopi:{APP_NAME}"]["healthy"] is False


def test_refresh_with_new_mimetypes_reregisters(app: Flask, client: FlaskClient, stand_in: WopiClientStandIn) -> None:
    from tests.wopi import wopi_client

    xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert xlsx in [e["mime_type"] for e in client.get("/app/list").get_json()["mime-types"]]
    original = dict(wopi_client.MICROSOFT_APPS)
    try:
        wopi_client.MICROSOFT_APPS.pop("Excel")
        assert app.extensions["wopi"].clients.get(APP_NAME).refresh()
        listed = [e["mime_type"] for e in client.get("/app/list").get_json()["mime-types"]]
        excel_entry = [e for e in client.get("/app/list").get_json()["mime-types"] if e["mime_type"] == xlsx]
        assert all(APP_NAME not in [p["name"] for p in e["app_providers"]] for e in excel_entry)
        assert DOCX in listed
    finally:
        wopi_client.MICROSOFT_APPS.update(original)


def test_test_file_command(app: Flask, client: FlaskClient, alice: TestUser, stand_in: WopiClientStandIn) -> None:
    result = app.test_cli_runner().invoke(args=["wopi", "test-file", "alice"])
    assert result.exit_code == 0, result.output
    wopi_src = re.search(r"WOPISrc: (\S+)", result.output).group(1)  # type: ignore[union-attr]
    token = re.search(r"access_token: (\S+)", result.output).group(1)  # type: ignore[union-attr]
    caller = WopiCaller(client, stand_in, token, unquote(wopi_src.rsplit("/", 1)[1]), sign=False)
    info = caller.check_file_info().get_json()
    assert info["BaseFileName"] == "test.wopitest" and info["UserCanWrite"] is True and info["Size"] == 0
    assert "ProofKeys" in result.output  # the operator learns why that group would fail
    again = app.test_cli_runner().invoke(args=["wopi", "test-file", "alice"])
    assert wopi_src in again.output  # the same file
    assert app.test_cli_runner().invoke(args=["wopi", "test-file", "nobody"]).exit_code != 0
    with_app = app.test_cli_runner().invoke(args=["wopi", "test-file", "alice", "--app", APP_NAME])
    app_token = re.search(r"access_token: (\S+)", with_app.output).group(1)  # type: ignore[union-attr]
    assert "note:" not in with_app.output
    signed = WopiCaller(client, stand_in, app_token, caller.file_id)
    assert signed.check_file_info().status_code == 200
    signed.sign = False
    assert signed.check_file_info().status_code == 500  # that app publishes proof keys


def test_test_file_under_required_proof_keys_says_every_request_fails(
    make_app: Callable[..., Flask], make_user: Callable[..., TestUser], stand_in: WopiClientStandIn
) -> None:
    app = make_app(**wopi_settings(stand_in, proof_keys="required"))
    make_user("carol", target=app)
    result = app.test_cli_runner().invoke(args=["wopi", "test-file", "carol"])
    token = re.search(r"access_token: (\S+)", result.output).group(1)  # type: ignore[union-attr]
    wopi_src = re.search(r"WOPISrc: (\S+)", result.output).group(1)  # type: ignore[union-attr]
    caller = WopiCaller(app.test_client(), stand_in, token, unquote(wopi_src.rsplit("/", 1)[1]), sign=False)
    assert caller.check_file_info().status_code == 500  # what the note warns of
    assert "every request will get 500" in result.output
