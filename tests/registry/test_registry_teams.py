"""The registry with teams: a share's role sets what `/app/open` grants, per app; admins limit
who may use and who may edit with each app (``apps.<name>.groups`` / ``edit_groups``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from core.tokens import ViewMode
from registry.providers import AppProvider
from server.services import services_of
from tests.conftest import TestUser, upload
from tests.registry.helpers import DOCX, PDF, RecordingDriver


def _register(app: Flask) -> tuple[RecordingDriver, RecordingDriver]:
    """Two apps for docx: RoleAware enforces comment/review/fill roles, PlainOffice does not."""
    catalog = services_of(app).catalog
    aware, plain = RecordingDriver(), RecordingDriver(app_url="https://plain.example.test/open")
    catalog.register(AppProvider("RoleAware", (DOCX,), priority=2, enforces_limited_roles=True), aware)
    catalog.register(AppProvider("PlainOffice", (DOCX, PDF), priority=1), plain)
    return aware, plain


def _open(client: FlaskClient, user: TestUser, file_id: str, **params: str) -> Any:
    return client.post("/app/open", query_string={"file_id": file_id, **params}, headers=user.auth)


def _shared_docx(client: FlaskClient, owner: TestUser, recipient: TestUser, role: str) -> str:
    file_id = upload(client, owner, owner.home_id, "brief.docx", b"PK")
    made = client.post(f"/api/v1/files/{file_id}/shares", json={"user": recipient.name, "role": role}, headers=owner.auth)
    assert made.status_code == 201
    return file_id


@pytest.mark.parametrize(("role", "aware_mode", "plain_mode"), [
    ("editor", ViewMode.WRITE, ViewMode.WRITE),
    ("reviewer", ViewMode.WRITE, ViewMode.READ),
    ("commenter", ViewMode.WRITE, ViewMode.READ),
    ("form_filler", ViewMode.WRITE, ViewMode.READ),
    ("viewer", ViewMode.READ, ViewMode.READ),
])
def test_the_role_sets_the_mode_per_app(app: Flask, client: FlaskClient, alice: TestUser, bob: TestUser, role: str,
                                        aware_mode: ViewMode, plain_mode: ViewMode) -> None:
    aware, plain = _register(app)
    file_id = _shared_docx(client, alice, bob, role)
    assert _open(client, bob, file_id, app_name="RoleAware").status_code == 200
    assert _open(client, bob, file_id, app_name="PlainOffice").status_code == 200
    assert (aware.requests[-1].view_mode, aware.requests[-1].role.value) == (aware_mode, role)
    assert plain.requests[-1].view_mode is plain_mode
    # A requested mode is lowered to what the role allows, never raised.
    assert _open(client, bob, file_id, app_name="RoleAware", view_mode="view").status_code == 200
    assert aware.requests[-1].view_mode is ViewMode.VIEW


def test_the_owner_opens_as_editor(app: Flask, client: FlaskClient, alice: TestUser) -> None:
    aware, _ = _register(app)
    file_id = upload(client, alice, alice.home_id, "mine.docx", b"PK")
    assert _open(client, alice, file_id).status_code == 200
    assert (aware.requests[-1].view_mode, aware.requests[-1].role.value) == (ViewMode.WRITE, "editor")


@pytest.fixture
def limited_app(make_app: Callable[..., Flask]) -> Flask:
    app = make_app(apps={"PlainOffice": {"groups": ["office-users"]}, "roleaware": {"edit_groups": ["writers"]}})
    _register(app)
    found = services_of(app)
    for name in ("alice", "bob", "carol"):
        found.users.create(name, "secret")
    found.groups.create("office-users")
    found.groups.create("writers")
    found.groups.add_member("office-users", found.users.by_name("alice").id)
    found.groups.add_member("writers", found.users.by_name("alice").id)
    return app


def _user(app: Flask, name: str) -> TestUser:
    from tests.conftest import basic_auth

    user = services_of(app).users.by_name(name)
    return TestUser(user.id, user.name, "secret", str(user.home_id), basic_auth(name, "secret"))


def _listed_apps(client: FlaskClient, headers: dict[str, str]) -> dict[str, list[str]]:
    listing = client.get("/app/list", headers=headers).get_json()["mime-types"]
    return {entry["mime_type"]: [provider["name"] for provider in entry["app_providers"]] for entry in listing
            if entry["mime_type"] in (DOCX, PDF)}


def test_app_list_shows_each_caller_only_the_apps_their_groups_may_use(limited_app: Flask) -> None:
    client = limited_app.test_client()
    alice, bob = _user(limited_app, "alice"), _user(limited_app, "bob")
    assert _listed_apps(client, alice.auth) == {DOCX: ["RoleAware", "PlainOffice"], PDF: ["PlainOffice"]}
    assert _listed_apps(client, bob.auth) == {DOCX: ["RoleAware"]}
    assert _listed_apps(client, {}) == {DOCX: ["RoleAware"]}
    # A bad credential still lists, as for anyone: /app/list needs none.
    assert _listed_apps(client, {"Authorization": "Basic Ym9iOndyb25n"}) == {DOCX: ["RoleAware"]}


def test_app_open_follows_the_contract_for_an_app_the_caller_may_not_use(limited_app: Flask) -> None:
    client = limited_app.test_client()
    bob = _user(limited_app, "bob")
    docx = upload(client, bob, bob.home_id, "b.docx", b"PK")
    pdf = upload(client, bob, bob.home_id, "b.pdf", b"%PDF")
    refused = _open(client, bob, docx, app_name="PlainOffice")
    assert refused.status_code == 404
    assert refused.get_json() == {"code": "RESOURCE_NOT_FOUND", "message": "error: not found: app 'PlainOffice' not found"}
    assert _open(client, bob, pdf).get_json() == {"code": "RESOURCE_NOT_FOUND", "message": "no app providers found"}
    assert _open(client, bob, docx).status_code == 200  # the default skips what bob may not use


def test_members_of_edit_groups_edit_the_others_read(limited_app: Flask) -> None:
    client = limited_app.test_client()
    alice, carol = _user(limited_app, "alice"), _user(limited_app, "carol")
    aware = services_of(limited_app).catalog.resolve(DOCX, "RoleAware").driver
    assert isinstance(aware, RecordingDriver)
    for user, mode in ((alice, ViewMode.WRITE), (carol, ViewMode.READ)):
        file_id = upload(client, user, user.home_id, "own.docx", b"PK")
        assert _open(client, user, file_id, app_name="RoleAware", view_mode="write").status_code == 200
        assert aware.requests[-1].view_mode is mode


def test_app_access_settings_are_checked_at_start(make_app: Callable[..., Flask]) -> None:
    from core.config import ConfigError

    with pytest.raises(ConfigError, match="apps.Office.groups: must be a list"):
        make_app(apps={"Office": {"groups": "everyone"}})
    with pytest.raises(ConfigError, match="apps.Office.nonsense: unknown key"):
        make_app(apps={"Office": {"nonsense": 1}})
