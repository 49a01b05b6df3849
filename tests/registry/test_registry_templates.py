"""`/app/open` with `template_id` (ownCloud Web's "new from template"): an empty file opened
to write gets the template's content as its next version before the editor sees it, in
every app; a file with content, or one opened to read, is left alone; a template under
secure view cannot be copied. (Collabora's TemplateSource: tests/wopi/test_wopi_profiles.py.)"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

from flask import Flask
from flask.testing import FlaskClient

from server.services import services_of
from tests.conftest import ADMIN_PASSWORD, TestUser, basic_auth, upload

ONLYOFFICE = {"document_server_url": "http://127.0.0.1:9/", "jwt_secret": "s" * 32}
CONFIG_PATTERN = re.compile(r'<script type="application/json" id="docbridge-config">(.*?)</script>', re.S)
TEMPLATE = b"PK letterhead template"


def user(app: Flask, name: str) -> TestUser:
    made = services_of(app).users.create(name, "secret")
    return TestUser(made.id, name, "secret", str(made.home_id), basic_auth(name, "secret"))


def open_in_onlyoffice(client: FlaskClient, who: TestUser, file_id: str, **params: str) -> dict[str, Any]:
    answer = client.post("/app/open", data={"file_id": file_id, "app_name": "OnlyOffice", **params}, headers=who.auth)
    assert answer.status_code == 200, answer.get_json()
    page = client.post("/onlyoffice/editor", data=answer.get_json()["form_parameters"])
    found = CONFIG_PATTERN.search(page.get_data(as_text=True))
    assert found, page.get_data(as_text=True)
    return dict(json.loads(found.group(1)))


def versions(client: FlaskClient, who: TestUser, file_id: str) -> list[dict[str, Any]]:
    return list(client.get(f"/api/v1/files/{file_id}/versions", headers=who.auth).get_json()["versions"])


def test_onlyoffice_opens_the_document_made_from_the_template(make_app: Callable[..., Flask]) -> None:
    app = make_app(onlyoffice=ONLYOFFICE)
    client = app.test_client()
    gina = user(app, "gina")
    template = upload(client, gina, gina.home_id, "Letterhead.docx", TEMPLATE)
    new = client.post("/app/new", data={"parent_container_id": gina.home_id, "filename": "Letter.docx"},
                      headers=gina.auth).get_json()["file_id"]
    # /app/new made a blank document; an empty file is what ownCloud Web opens with template_id.
    empty = upload(client, gina, gina.home_id, "Memo.docx", b"")

    config = open_in_onlyoffice(client, gina, empty, template_id=template)
    assert client.get(f"/api/v1/files/{empty}/content", headers=gina.auth).data == TEMPLATE
    newest = versions(client, gina, empty)[0]
    assert (newest["version"], newest["source"], newest["comment"]) == (2, "template", "from the template Letterhead.docx")
    # The Document Server downloads the filled version, as the config says.
    assert config["document"]["permissions"]["edit"] is True
    url_token = parse_qs(urlsplit(config["document"]["url"]).query)["t"][0]
    assert services_of(app).tokens.verify(url_token, audience="onlyoffice:download").claims["v"] == 2

    # A file with content keeps it; so does a file opened to read.
    open_in_onlyoffice(client, gina, new, template_id=template)
    assert len(versions(client, gina, new)) == 1
    other = upload(client, gina, gina.home_id, "Other.docx", b"")
    open_in_onlyoffice(client, gina, other, template_id=template, view_mode="read")
    assert len(versions(client, gina, other)) == 1


def test_every_app_gets_the_filled_file(client: FlaskClient, apps: Any, alice: TestUser) -> None:
    template = upload(client, alice, alice.home_id, "t.odt", b"PK odt template")
    empty = upload(client, alice, alice.home_id, "doc.odt", b"")
    answer = client.post("/app/open", data={"file_id": empty, "app_name": "FakeOffice", "template_id": template},
                         headers=alice.auth)
    assert answer.status_code == 200
    [launched] = apps.office.requests
    assert launched.file.size == len(b"PK odt template") and launched.file.version == 2
    assert str(launched.template_id) == template


def test_a_template_under_secure_view_is_not_copied(make_app: Callable[..., Flask]) -> None:
    app = make_app(onlyoffice=ONLYOFFICE)
    client = app.test_client()
    gina, hugo = user(app, "gina"), user(app, "hugo")
    template = upload(client, gina, gina.home_id, "Secret.docx", TEMPLATE)
    assert client.post(f"/api/v1/files/{template}/shares", json={"user": "hugo", "role": "viewer"},
                       headers=gina.auth).status_code == 201
    made = client.post("/api/v1/admin/policies", json={"name": "viewers", "share_roles": ["viewer"],
                                                       "secure_view": True},
                       headers=basic_auth("admin", ADMIN_PASSWORD))
    assert made.status_code == 201
    empty = upload(client, hugo, hugo.home_id, "Copy.docx", b"")
    refused = client.post("/app/open", data={"file_id": empty, "app_name": "OnlyOffice", "template_id": template},
                          headers=hugo.auth)
    assert refused.status_code == 403 and refused.get_json()["code"] == "PERMISSION_DENIED"
    created = client.post("/app/new", data={"parent_container_id": hugo.home_id, "filename": "Copy2.docx",
                                            "template": template}, headers=hugo.auth)
    assert created.status_code == 403
    assert client.get(f"/api/v1/files/{empty}", headers=hugo.auth).get_json()["size"] == 0
