"""Sharing with named users and groups through /api/v1, as the web UI and scripts use it,
on SQLite and on PostgreSQL: groups, shares of files and folders, what reaches whom, who may
share on, and every bad input with its answer."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from server.services import services_of
from tests.conftest import TestUser, upload


@pytest.fixture
def database_url_for_app(database_url: str) -> str:
    return database_url


@pytest.fixture
def admin(make_user: Callable[..., TestUser]) -> TestUser:
    return make_user("root", admin=True)


@pytest.fixture
def carol(make_user: Callable[..., TestUser]) -> TestUser:
    return make_user("carol")


def share(client: FlaskClient, sharer: TestUser, node_id: str, *, kind: str = "files", **body: Any) -> Any:
    return client.post(f"/api/v1/{kind}/{node_id}/shares", json=body, headers=sharer.auth)


def folder(client: FlaskClient, user: TestUser, parent: str, name: str) -> str:
    created = client.post(f"/api/v1/containers/{parent}/folders", json={"name": name}, headers=user.auth)
    assert created.status_code == 201, created.get_data(as_text=True)
    return str(created.get_json()["id"])


def error_of(response: Any) -> tuple[int, str]:
    return response.status_code, response.get_json()["code"]


# --- groups --------------------------------------------------------------------------------------


def test_admins_manage_groups_over_the_api(client: FlaskClient, admin: TestUser, alice: TestUser, bob: TestUser) -> None:
    created = client.post("/api/v1/groups", json={"name": "engineers", "display_name": "Engineering"}, headers=admin.auth)
    assert created.status_code == 201
    assert created.get_json() == {"name": "engineers", "display_name": "Engineering", "source": "local", "members": 0}
    for user in ("alice", "bob"):
        assert client.post(f"/api/v1/groups/engineers/members/{user}", headers=admin.auth).status_code == 204
    listed = client.get("/api/v1/groups", headers=admin.auth).get_json()["groups"]
    assert listed == [{"name": "engineers", "display_name": "Engineering", "source": "local", "members": 2}]
    assert client.get("/api/v1/groups/engineers/members", headers=admin.auth).get_json() == {"members": ["alice", "bob"]}
    assert client.delete("/api/v1/groups/engineers/members/bob", headers=admin.auth).status_code == 204
    assert client.get("/api/v1/groups/engineers/members", headers=admin.auth).get_json() == {"members": ["alice"]}
    assert client.delete("/api/v1/groups/engineers", headers=admin.auth).status_code == 204
    assert client.get("/api/v1/groups", headers=admin.auth).get_json() == {"groups": []}


def test_group_bad_input(client: FlaskClient, admin: TestUser, alice: TestUser) -> None:
    assert error_of(client.get("/api/v1/groups", headers=alice.auth)) == (403, "PERMISSION_DENIED")
    assert error_of(client.post("/api/v1/groups", json={"name": "x"}, headers=alice.auth)) == (403, "PERMISSION_DENIED")
    assert error_of(client.post("/api/v1/groups", json={"name": "a/b"}, headers=admin.auth)) == (400, "INVALID_PARAMETER")
    assert client.post("/api/v1/groups", json={"name": "sales"}, headers=admin.auth).status_code == 201
    assert error_of(client.post("/api/v1/groups", json={"name": "sales"}, headers=admin.auth))[0] == 403
    assert error_of(client.post("/api/v1/groups/nobody/members/alice", headers=admin.auth)) == (404, "RESOURCE_NOT_FOUND")
    assert error_of(client.post("/api/v1/groups/sales/members/ghost", headers=admin.auth)) == (404, "RESOURCE_NOT_FOUND")
    assert error_of(client.delete("/api/v1/groups/sales/members/alice", headers=admin.auth)) == (404, "RESOURCE_NOT_FOUND")


def test_the_group_cli(app: Flask, alice: TestUser) -> None:
    runner = app.test_cli_runner()
    assert runner.invoke(args=["group", "create", "design", "--display-name", "Design team"]).exit_code == 0
    assert "alice is a member of design" in runner.invoke(args=["group", "add-member", "design", "alice"]).output
    assert runner.invoke(args=["group", "list"]).output.splitlines() == ["design\t1 member(s)\tlocal\tDesign team"]
    assert runner.invoke(args=["group", "remove-member", "design", "alice"]).exit_code == 0
    failed = runner.invoke(args=["group", "add-member", "nothing", "alice"])
    assert failed.exit_code != 0 and "no group 'nothing'" in failed.output
    assert runner.invoke(args=["group", "delete", "design"]).exit_code == 0
    assert runner.invoke(args=["group", "list"]).output == ""


# --- shares --------------------------------------------------------------------------------------


def test_a_file_shared_with_a_user_reaches_them_with_its_role(client: FlaskClient, alice: TestUser, bob: TestUser) -> None:
    file_id = upload(client, alice, alice.home_id, "plan.docx", b"PK plan")
    assert error_of(client.get(f"/api/v1/files/{file_id}", headers=bob.auth)) == (404, "RESOURCE_NOT_FOUND")

    made = share(client, alice, file_id, user="bob", role="viewer")
    assert made.status_code == 201
    body = made.get_json()
    assert {key: body[key] for key in ("role", "can_share", "user")} == {"role": "viewer", "can_share": False, "user": "bob"}
    assert "group" not in body and body["id"]

    assert client.get(f"/api/v1/files/{file_id}/content", headers=bob.auth).data == b"PK plan"
    seen = client.get(f"/api/v1/files/{file_id}", headers=bob.auth).get_json()
    assert seen["role"] == "viewer" and seen["shared_by"] == {"name": "alice", "display_name": "alice"}
    assert seen["permissions"] == {"read": True, "write": False, "share": False, "share_up_to": None}
    refused = client.put(f"/api/v1/containers/{alice.home_id}/files/plan.docx", data=b"x", headers=bob.auth)
    assert refused.status_code == 404  # bob cannot see alice's home, so cannot write there

    items = client.get("/api/v1/shared-with-me", headers=bob.auth).get_json()["items"]
    assert [(item["id"], item["role"], item["sharer"]["name"], item["via_group"]) for item in items] == [
        (file_id, "viewer", "alice", None)]
    assert client.get("/api/v1/shared-with-me", headers=alice.auth).get_json() == {"items": []}
    listed = client.get(f"/api/v1/files/{file_id}/shares", headers=alice.auth).get_json()["shares"]
    assert [(item["user"], item["role"]) for item in listed] == [("bob", "viewer")]
    owner_view = client.get(f"/api/v1/containers/{alice.home_id}", headers=alice.auth).get_json()
    assert [(child["name"], child["shared"]) for child in owner_view["children"]] == [("plan.docx", True)]
    assert owner_view["role"] == "owner"


def test_a_folder_share_reaches_everything_below_and_editors_change_it(
    client: FlaskClient, alice: TestUser, bob: TestUser
) -> None:
    projects = folder(client, alice, alice.home_id, "Projects")
    drafts = folder(client, alice, projects, "Drafts")
    file_id = upload(client, alice, drafts, "budget.xlsx", b"PK v1")
    assert share(client, alice, projects, kind="containers", user="bob", role="editor").status_code == 201

    listing = client.get(f"/api/v1/containers/{drafts}", headers=bob.auth).get_json()
    assert [item["id"] for item in listing["path"]] == [projects]  # nothing above the shared folder
    assert listing["role"] == "editor" and listing["permissions"]["write"] is True
    saved = client.put(f"/api/v1/containers/{drafts}/files/budget.xlsx", data=b"PK v2 by bob", headers=bob.auth)
    assert saved.status_code == 200 and saved.get_json()["version"] == 2
    versions = client.get(f"/api/v1/files/{file_id}/versions", headers=alice.auth).get_json()["versions"]
    assert versions[0]["author"] == "bob" and versions[0]["author_id"] == bob.id
    created = upload(client, bob, drafts, "notes.txt", b"from bob")
    assert client.get(f"/api/v1/files/{created}/content", headers=alice.auth).data == b"from bob"
    assert client.delete(f"/api/v1/files/{created}", headers=bob.auth).status_code == 204

    # Only the owner renames or deletes what is shared itself.
    assert error_of(client.patch(f"/api/v1/files/{projects}", json={"name": "Mine"}, headers=bob.auth)) == (
        403, "PERMISSION_DENIED")
    assert error_of(client.delete(f"/api/v1/files/{projects}", headers=bob.auth)) == (403, "PERMISSION_DENIED")
    assert client.patch(f"/api/v1/files/{drafts}", json={"name": "Draft copies"}, headers=bob.auth).status_code == 200


def test_the_most_generous_share_wins_and_groups_reach_their_members(
    client: FlaskClient, app: Flask, admin: TestUser, alice: TestUser, bob: TestUser
) -> None:
    services_of(app).groups.create("reviewers")
    client.post("/api/v1/groups/reviewers/members/bob", headers=admin.auth)
    projects = folder(client, alice, alice.home_id, "Projects")
    file_id = upload(client, alice, projects, "spec.docx", b"PK spec")
    share(client, alice, file_id, user="bob", role="viewer")
    via_group = share(client, alice, projects, kind="containers", group="reviewers", role="reviewer")
    assert via_group.status_code == 201 and via_group.get_json()["group"] == "reviewers"

    seen = client.get(f"/api/v1/files/{file_id}", headers=bob.auth).get_json()
    assert seen["role"] == "reviewer" and seen["permissions"]["write"] is False
    items = {item["id"]: item for item in client.get("/api/v1/shared-with-me", headers=bob.auth).get_json()["items"]}
    assert items[projects]["via_group"] == "reviewers" and items[projects]["role"] == "reviewer"
    assert items[file_id]["role"] == "reviewer"

    client.delete("/api/v1/groups/reviewers/members/bob", headers=admin.auth)
    assert client.get(f"/api/v1/files/{file_id}", headers=bob.auth).get_json()["role"] == "viewer"


def test_recipients_share_on_only_up_to_what_they_may(
    client: FlaskClient, alice: TestUser, bob: TestUser, carol: TestUser
) -> None:
    file_id = upload(client, alice, alice.home_id, "deck.pptx", b"PK deck")
    bobs = share(client, alice, file_id, user="bob", role="commenter", can_share=True).get_json()
    assert client.get(f"/api/v1/files/{file_id}", headers=bob.auth).get_json()["permissions"]["share_up_to"] == "commenter"

    assert error_of(share(client, bob, file_id, user="carol", role="editor")) == (403, "PERMISSION_DENIED")
    carols = share(client, bob, file_id, user="carol", role="viewer")
    assert carols.status_code == 201
    assert client.get(f"/api/v1/files/{file_id}/content", headers=carol.auth).data == b"PK deck"
    # carol may not share on; bob changes only what he made, and not above his own role
    assert error_of(share(client, carol, file_id, user="alice", role="viewer"))[0] in (400, 403)
    carol_share = carols.get_json()["id"]
    assert error_of(client.patch(f"/api/v1/files/{file_id}/shares/{carol_share}", json={"role": "editor"},
                                 headers=bob.auth)) == (403, "PERMISSION_DENIED")
    assert client.patch(f"/api/v1/files/{file_id}/shares/{carol_share}", json={"role": "commenter"},
                        headers=bob.auth).get_json()["role"] == "commenter"
    assert error_of(client.delete(f"/api/v1/files/{file_id}/shares/{bobs['id']}", headers=bob.auth)) == (
        404, "RESOURCE_NOT_FOUND")
    # the owner changes and revokes every share of the file
    assert client.patch(f"/api/v1/files/{file_id}/shares/{bobs['id']}", json={"can_share": False},
                        headers=alice.auth).get_json()["can_share"] is False
    assert error_of(share(client, bob, file_id, user="carol", role="viewer")) == (403, "PERMISSION_DENIED")


def test_revoking_a_share_ends_the_recipients_access(client: FlaskClient, alice: TestUser, bob: TestUser) -> None:
    file_id = upload(client, alice, alice.home_id, "secret.docx", b"PK")
    made = share(client, alice, file_id, user="bob", role="editor").get_json()
    assert client.get(f"/api/v1/files/{file_id}", headers=bob.auth).status_code == 200
    assert client.delete(f"/api/v1/files/{file_id}/shares/{made['id']}", headers=alice.auth).status_code == 204
    assert error_of(client.get(f"/api/v1/files/{file_id}", headers=bob.auth)) == (404, "RESOURCE_NOT_FOUND")
    assert client.get("/api/v1/shared-with-me", headers=bob.auth).get_json() == {"items": []}


@pytest.mark.parametrize(("body", "expected"), [
    ({"user": "ghost", "role": "viewer"}, (404, "RESOURCE_NOT_FOUND")),
    ({"group": "ghosts", "role": "viewer"}, (404, "RESOURCE_NOT_FOUND")),
    ({"user": "alice", "role": "viewer"}, (400, "INVALID_PARAMETER")),
    ({"user": "bob", "role": "owner"}, (400, "INVALID_PARAMETER")),
    ({"user": "bob", "group": "x", "role": "viewer"}, (400, "INVALID_PARAMETER")),
    ({"role": "viewer"}, (400, "INVALID_PARAMETER")),
    ({"user": "bob", "role": "viewer", "can_share": "yes"}, (400, "INVALID_PARAMETER")),
])
def test_bad_share_requests(client: FlaskClient, alice: TestUser, bob: TestUser, body: dict[str, Any],
                            expected: tuple[int, str]) -> None:
    file_id = upload(client, alice, alice.home_id, "a.docx", b"PK")
    assert error_of(share(client, alice, file_id, **body)) == expected


def test_shares_of_what_the_caller_cannot_see_are_not_found(client: FlaskClient, alice: TestUser, bob: TestUser) -> None:
    file_id = upload(client, alice, alice.home_id, "a.docx", b"PK")
    made = share(client, alice, file_id, user="bob", role="viewer").get_json()
    stranger_file = upload(client, bob, bob.home_id, "b.docx", b"PK")
    assert error_of(share(client, bob, alice.home_id, kind="containers", user="bob", role="viewer")) == (
        404, "RESOURCE_NOT_FOUND")
    assert error_of(client.get(f"/api/v1/files/{stranger_file}/shares", headers=alice.auth)) == (404, "RESOURCE_NOT_FOUND")
    assert error_of(client.patch(f"/api/v1/files/{stranger_file}/shares/{made['id']}", json={"role": "editor"},
                                 headers=bob.auth)) == (404, "RESOURCE_NOT_FOUND")
    assert error_of(share(client, alice, file_id, user="bob", role="editor")) == (409, "CONFLICT")


def test_people_search_for_the_share_dialog(client: FlaskClient, make_app: Callable[..., Flask],
                                            make_user: Callable[..., TestUser], alice: TestUser) -> None:
    services_of(client.application).users.create("dora", "pw", display_name="Dora Explorer", email="dora@example.org")
    services_of(client.application).groups.create("dorado", "Dorado team")
    found = client.get("/api/v1/users?q=dor", headers=alice.auth).get_json()
    assert found == {"users": [{"name": "dora", "display_name": "Dora Explorer"}],
                     "groups": [{"name": "dorado", "display_name": "Dorado team"}]}
    assert client.get("/api/v1/users?q=EXPLOR", headers=alice.auth).get_json()["users"][0]["name"] == "dora"
    assert client.get("/api/v1/users?q=%25", headers=alice.auth).get_json() == {"users": [], "groups": []}
    assert error_of(client.get("/api/v1/users?q=", headers=alice.auth)) == (400, "INVALID_PARAMETER")
    assert client.get("/api/v1/users?q=dor").status_code == 401


def test_people_search_shows_email_when_allowed(make_app: Callable[..., Flask]) -> None:
    app = make_app(sharing={"show_email": True})
    found = services_of(app)
    found.users.create("erin", "pw", email="erin@example.org")
    found.users.create("frank", "pw")
    from tests.conftest import basic_auth

    answer = app.test_client().get("/api/v1/users?q=erin", headers=basic_auth("frank", "pw")).get_json()
    assert answer["users"] == [{"name": "erin", "display_name": "erin", "email": "erin@example.org"}]


def test_share_changes_opens_and_downloads_are_audited_with_the_actor(
    client: FlaskClient, alice: TestUser, bob: TestUser, caplog: pytest.LogCaptureFixture
) -> None:
    file_id = upload(client, alice, alice.home_id, "a.docx", b"PK")
    with caplog.at_level(logging.INFO, logger="docbridge.audit"):
        made = share(client, alice, file_id, user="bob", role="viewer").get_json()
        client.patch(f"/api/v1/files/{file_id}/shares/{made['id']}", json={"role": "editor"}, headers=alice.auth)
        client.get(f"/api/v1/files/{file_id}/content", headers=bob.auth)
        client.delete(f"/api/v1/files/{file_id}/shares/{made['id']}", headers=alice.auth)
    lines = [record.getMessage() for record in caplog.records if record.name == "docbridge.audit"]
    kinds = [line.split('"event": "')[1].split('"')[0] for line in lines]
    assert kinds == ["ShareGranted", "ShareChanged", "FileDownloaded", "ShareRevoked"]
    assert f'"actor_id": "{alice.id}"' in lines[0] and '"grantee": "user:bob"' in lines[0]
    assert f'"actor_id": "{bob.id}"' in lines[2]
