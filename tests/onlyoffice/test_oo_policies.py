"""Secure view in the ONLYOFFICE driver beyond the config's switches (those are in
tests/test_secure_view.py and test_oo_config_builder.py): no copy of the document by "save
copy as" or "convert and edit", no changes.zip to the browser, and no secure view at all
without the Document Server's JWT (the download URL would then be the only key)."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from onlyoffice.views import EXTENSION_KEY
from server.services import services_of
from tests.conftest import ADMIN_PASSWORD, TestUser, basic_auth, upload

ONLYOFFICE = {"document_server_url": "http://127.0.0.1:9/", "jwt_secret": "s" * 32}


def person(app: Flask) -> TestUser:
    made = services_of(app).users.create("gina", "secret", display_name="Gina Grey")
    return TestUser(made.id, "gina", "secret", str(made.home_id), basic_auth("gina", "secret"))


def secure_everything(client: FlaskClient) -> None:
    made = client.post("/api/v1/admin/policies", json={"name": "all", "secure_view": True, "watermark": "{user_id}"},
                       headers=basic_auth("admin", ADMIN_PASSWORD))
    assert made.status_code == 201


def access_token(client: FlaskClient, who: TestUser, file_id: str) -> str:
    answer = client.post("/app/open", data={"file_id": file_id, "app_name": "OnlyOffice"}, headers=who.auth)
    assert answer.status_code == 200, answer.get_json()
    return str(answer.get_json()["form_parameters"]["access_token"])


def test_no_copies_and_no_changes_for_the_browser(make_app: Callable[..., Flask]) -> None:
    app = make_app(onlyoffice=ONLYOFFICE)
    client = app.test_client()
    gina = person(app)
    file_id = upload(client, gina, gina.home_id, "plan.docx", b"PK plan")
    app.extensions[EXTENSION_KEY].store.save_history(file_id, 1, "key-1", {"changes": []}, io.BytesIO(b"PK changes"))
    token = access_token(client, gina, file_id)

    def history() -> dict[str, Any]:
        answer = client.post("/onlyoffice/history-data", json={"access_token": token, "version": 1})
        assert answer.status_code == 200, answer.get_json()
        return dict(answer.get_json())

    assert "changesUrl" in history()
    secure_everything(client)
    assert "changesUrl" not in history() and history()["url"]  # the DS still gets the version
    refused = client.post("/onlyoffice/save-as", json={"access_token": token, "url": "http://127.0.0.1:9/x.docx",
                                                       "title": "copy.docx"})
    assert refused.status_code == 403 and refused.get_json()["message"] == "downloading is not allowed for this file"
    odt = upload(client, gina, gina.home_id, "notes.odt", b"PK odt")
    converted = client.post("/onlyoffice/convert", data={"access_token": access_token(client, gina, odt)})
    assert converted.status_code == 403
    assert [child["name"] for child in client.get(f"/api/v1/containers/{gina.home_id}", headers=gina.auth)
            .get_json()["children"]] == ["notes.odt", "plan.docx"]


def test_secure_view_needs_the_document_servers_jwt(make_app: Callable[..., Flask]) -> None:
    app = make_app(onlyoffice={**ONLYOFFICE, "jwt": False})
    client = app.test_client()
    gina = person(app)
    file_id = upload(client, gina, gina.home_id, "plan.docx", b"PK plan")
    assert client.post("/onlyoffice/editor", data={"access_token": access_token(client, gina, file_id)}).status_code == 200
    secure_everything(client)
    page = client.post("/onlyoffice/editor", data={"access_token": access_token(client, gina, file_id)})
    assert page.status_code == 403
    assert "secure view needs the Document Server&#39;s JWT" in page.get_data(as_text=True)
