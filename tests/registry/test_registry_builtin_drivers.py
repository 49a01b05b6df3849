"""The registry with the built-in ONLYOFFICE driver registered by its extension at start:
the admin's default_app naming it passes the start-up check, and a new document opens."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask

from tests.conftest import basic_auth
from tests.registry.helpers import DOCX

ONLYOFFICE = {"document_server_url": "http://127.0.0.1:9/", "jwt_secret": "s" * 32}


def test_onlyoffice_as_default_app(make_app: Callable[..., Flask]) -> None:
    app = make_app(
        onlyoffice=ONLYOFFICE,
        app_registry={
            "mimetypes": [{"mime_type": DOCX, "extension": "docx", "default_app": "OnlyOffice", "allow_creation": True}]
        },
    )
    client = app.test_client()
    [first, *_] = client.get("/app/list").get_json()["mime-types"]
    assert (
        first["mime_type"] == DOCX and first["default_application"] == "OnlyOffice" and first["allow_creation"] is True
    )

    from server.services import services_of

    user = services_of(app).users.create("gina", "secret")
    auth = basic_auth("gina", "secret")
    created = client.post(
        "/app/new", data={"parent_container_id": str(user.home_id), "filename": "Memo.docx"}, headers=auth
    )
    assert created.status_code == 200
    opened = client.post("/app/open", data={"file_id": created.get_json()["file_id"]}, headers=auth)
    assert opened.status_code == 200, opened.get_data(as_text=True)
    body = opened.get_json()
    assert body["method"] == "POST" and body["app_url"].startswith("http://docbridge.test/onlyoffice/")
    assert set(body["form_parameters"]) >= {"access_token", "access_token_ttl"}
