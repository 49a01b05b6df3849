"""Secure view and watermarks, every rule kind on every path a file's bytes could take.

Bob reaches Alice's report in one way per case (a share, his group, a folder, a public link
of some kind) and one rule made through the admin API (or none: a no-download link is
secure view by itself) puts him under secure view with a watermark. Then each path is
probed as a user would: the API's content and version downloads, the file's JSON,
`/app/open` in ONLYOFFICE (the signed config) and in Collabora (CheckFileInfo, an unsigned
GetFile with the browser's token), and copying the report as a template. The control case
(no rule) shows every path open.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient

from server.services import services_of
from tests.conftest import ADMIN_PASSWORD, TestUser, basic_auth, upload
from tests.wopi.wopi_client import WopiClientStandIn, serve

CONFIG_PATTERN = re.compile(r'<script type="application/json" id="docbridge-config">(.*?)</script>', re.S)
ADMIN = basic_auth("admin", ADMIN_PASSWORD)
REFUSED = {"code": "PERMISSION_DENIED", "message": "downloading is not allowed for this file"}
WATERMARK = "Confidential · {user_display_name} · {file_name}"


@pytest.fixture
def collabora() -> Iterator[WopiClientStandIn]:
    # No proof keys: the host cannot tell the client's requests from the browser's.
    with serve(WopiClientStandIn(shape="collabora", publish_proof_keys=False)) as stand_in:
        yield stand_in


@pytest.fixture
def app(make_app: Callable[..., Flask], collabora: WopiClientStandIn) -> Flask:
    return make_app(
        onlyoffice={"document_server_url": "http://127.0.0.1:9/", "jwt_secret": "s" * 32},
        wopi={"apps": [{"name": "Collabora", "discovery_url": collabora.discovery_url}]},
    )


@dataclass
class Case:
    """How Bob comes to the report: his headers, and his home to copy into (None for a
    link visitor, who has none)."""

    headers: dict[str, str]
    home_id: str | None


@dataclass
class Setup:
    client: FlaskClient
    alice: TestUser
    bob: TestUser
    folder_id: str
    file_id: str

    def share(self, node_id: str, role: str) -> None:
        made = self.client.post(f"/api/v1/files/{node_id}/shares", json={"user": "bob", "role": role},
                                headers=self.alice.auth)
        assert made.status_code == 201, made.get_json()

    def link(self, **options: Any) -> dict[str, str]:
        made = self.client.post(f"/api/v1/files/{self.file_id}/links", json={"role": "editor", **options},
                                headers=self.alice.auth)
        assert made.status_code == 201, made.get_json()
        headers = {"Public-Token": made.get_json()["token"]}
        if "password" in options:
            headers["Authorization"] = "Basic " + base64.b64encode(f"public:{options['password']}".encode()).decode()
        return headers

    def rule(self, **given: Any) -> None:
        made = self.client.post("/api/v1/admin/policies", json={"name": "the rule", "secure_view": True,
                                                                "watermark": WATERMARK, **given}, headers=ADMIN)
        assert made.status_code == 201, made.get_json()


def bob_via(kind: str, setup: Setup) -> Case:
    bob = Case(setup.bob.auth, setup.bob.home_id)
    if kind == "none":
        setup.share(setup.file_id, "viewer")
    elif kind == "group":
        services_of(setup.client.application).groups.create("contractors")
        services_of(setup.client.application).groups.add_member("contractors", setup.bob.id)
        setup.share(setup.file_id, "editor")
        setup.rule(groups=["contractors"])
    elif kind == "share_role":
        setup.share(setup.file_id, "viewer")
        setup.rule(share_roles=["viewer"])
    elif kind == "folder":
        setup.share(setup.folder_id, "editor")
        setup.rule(folders=[setup.folder_id])
    elif kind == "link_any":
        bob = Case(setup.link(), None)
        setup.rule(links="any")
    elif kind == "link_password":
        bob = Case(setup.link(password="open sesame"), None)
        setup.rule(links="password")
    elif kind == "link_no_download":
        bob = Case(setup.link(no_download=True), None)
    return bob


def probe(setup: Setup, bob: Case) -> dict[str, Any]:
    """What Bob gets on every path."""
    client, file_id = setup.client, setup.file_id
    seen: dict[str, Any] = {}
    content = client.get(f"/api/v1/files/{file_id}/content", headers=bob.headers)
    seen["content"] = content.status_code if content.status_code == 200 else (content.status_code, content.get_json())
    version = client.get(f"/api/v1/files/{file_id}/versions/1/content", headers=bob.headers)
    seen["version"] = version.status_code
    seen["can_download"] = client.get(f"/api/v1/files/{file_id}", headers=bob.headers).get_json()["can_download"]

    opened = client.post("/app/open", data={"file_id": file_id, "app_name": "OnlyOffice"}, headers=bob.headers)
    assert opened.status_code == 200, opened.get_json()
    token = opened.get_json()["form_parameters"]["access_token"]
    seen["mode"] = services_of(client.application).tokens.verify(token, audience="app:OnlyOffice").view_mode.value
    page = client.post("/onlyoffice/editor", data={"access_token": token})
    found = CONFIG_PATTERN.search(page.get_data(as_text=True))
    assert found, page.get_data(as_text=True)
    config = json.loads(found.group(1))
    permissions = config["document"]["permissions"]
    seen["onlyoffice"] = {name: permissions[name] for name in ("download", "print", "copy")}
    options = config["document"].get("options", {})
    seen["onlyoffice_watermark"] = options["watermark_on_draw"]["paragraphs"][0]["runs"][0]["text"] if options else ""

    opened = client.post("/app/open", data={"file_id": file_id, "app_name": "Collabora"}, headers=bob.headers)
    assert opened.status_code == 200, opened.get_json()
    token = opened.get_json()["form_parameters"]["access_token"]
    wopi_src = parse_qs(urlsplit(opened.get_json()["app_url"]).query)["WOPISrc"][0]
    path = urlsplit(wopi_src).path
    info = client.get(path, query_string={"access_token": token}).get_json()
    flags = ("DisablePrint", "DisableExport", "DisableCopy", "HideExportOption", "HidePrintOption")
    seen["collabora"] = {name: info.get(name, False) for name in flags}
    seen["collabora_watermark"] = info.get("WatermarkText", "")
    seen["get_file"] = client.get(f"{path}/contents", query_string={"access_token": token}).status_code

    if bob.home_id is not None:
        copied = client.post("/app/new", data={"parent_container_id": bob.home_id, "filename": "Mine.docx",
                                               "template": file_id}, headers=bob.headers)
        seen["template"] = copied.status_code
    return seen


OPEN = {
    "content": 200, "version": 200, "can_download": True, "mode": "read",
    "onlyoffice": {"download": True, "print": True, "copy": True}, "onlyoffice_watermark": "",
    "collabora": dict.fromkeys(("DisablePrint", "DisableExport", "DisableCopy", "HideExportOption", "HidePrintOption"),
                               False),
    "collabora_watermark": "", "get_file": 200, "template": 200,
}


def secure(name: str, mode: str, watermark: bool = True, home: bool = True) -> dict[str, Any]:
    text = f"Confidential · {name} · Report.docx" if watermark else ""
    expected = {
        "content": (403, REFUSED), "version": 403, "can_download": False, "mode": mode,
        "onlyoffice": {"download": False, "print": False, "copy": False}, "onlyoffice_watermark": text,
        "collabora": dict.fromkeys(OPEN["collabora"], True), "collabora_watermark": text, "get_file": 401,
    }
    if home:
        expected["template"] = 403
    return expected


@pytest.mark.parametrize(("kind", "expected"), [
    ("none", OPEN),
    ("group", secure("Bob Baker", "write")),  # an editor keeps editing, without taking the file away
    ("share_role", secure("Bob Baker", "view")),  # read (view and download) becomes view
    ("folder", secure("Bob Baker", "write")),
    ("link_any", secure("Guest", "write", home=False)),  # editor links
    ("link_password", secure("Guest", "write", home=False)),
    ("link_no_download", secure("Guest", "write", watermark=False, home=False)),
])
def test_every_rule_kind_on_every_path(client: FlaskClient, make_user: Callable[..., TestUser], kind: str,
                                       expected: dict[str, Any], caplog: pytest.LogCaptureFixture) -> None:
    alice = make_user("alice")
    made_bob = services_of(client.application).users.create("bob", "secret", display_name="Bob Baker")
    bob = TestUser(made_bob.id, "bob", "secret", str(made_bob.home_id), basic_auth("bob", "secret"))
    made = client.post(f"/api/v1/containers/{quote(alice.home_id)}/folders", json={"name": "Projects"},
                       headers=alice.auth)
    folder_id = made.get_json()["id"]
    file_id = upload(client, alice, folder_id, "Report.docx", b"PK report one")
    upload(client, alice, folder_id, "Report.docx", b"PK report two")
    setup = Setup(client, alice, bob, folder_id, file_id)
    case = bob_via(kind, setup)
    with caplog.at_level("INFO", logger="docbridge.audit"):
        assert probe(setup, case) == expected
    # Each refusal (content, version, GetFile, the template) is an audit line naming the
    # file, the actor and what imposed secure view.
    refusals = [json.loads(record.getMessage()) for record in caplog.records
                if record.name == "docbridge.audit" and "DownloadRefused" in record.getMessage()]
    assert len(refusals) == (0 if kind == "none" else 4 if case.home_id else 3)
    for refusal in refusals:
        assert refusal["file_id"] == file_id
        assert refusal["actor_id"] == bob.id if case.home_id else refusal["actor_id"].startswith("public-")
        assert refusal["rules"] == ("no-download link" if kind == "link_no_download" else "the rule")
