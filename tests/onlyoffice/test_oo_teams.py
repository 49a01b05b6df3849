"""Colleagues in ONLYOFFICE: a share's role reaches the editor config, co-editors through a
group share join one session and each save is authored by whoever changed the document,
named guests show as such, and a revoked share ends what its tokens may do."""

from __future__ import annotations

import json
from typing import Any

import pytest

from server.services import services_of
from tests.conftest import TestUser
from tests.onlyoffice.conftest import CONFIG_PATTERN, Docbridge
from tests.onlyoffice.ds_standin import DocumentServerStandIn

ORIGINAL = b"PK original"


def _share(docbridge: Docbridge, owner: TestUser, file_id: str, **body: Any) -> dict[str, Any]:
    made = docbridge.client.post(f"/api/v1/files/{file_id}/shares", json=body, headers=owner.auth)
    assert made.status_code == 201, made.get_data(as_text=True)
    return dict(made.get_json())


@pytest.mark.parametrize(("role", "mode", "granted"), [
    ("editor", "edit", {"edit", "review", "comment", "fillForms"}),
    ("reviewer", "edit", {"review", "comment"}),
    ("commenter", "edit", {"comment"}),
    ("form_filler", "edit", {"fillForms"}),
    ("viewer", "view", set()),
])
def test_a_share_s_role_reaches_the_editor_config(docbridge: Docbridge, ds: DocumentServerStandIn, role: str,
                                                  mode: str, granted: set[str]) -> None:
    alice, bob = docbridge.user("alice"), docbridge.user("bob")
    file_id = docbridge.upload(alice, "Contract.docx", ORIGINAL)
    _share(docbridge, alice, file_id, user="bob", role=role)
    config = docbridge.open_config(bob, file_id)
    permissions = config["document"]["permissions"]
    assert config["editorConfig"]["mode"] == mode
    assert {name for name in ("edit", "review", "comment", "fillForms") if permissions[name]} == granted
    assert permissions["download"] is True
    session = ds.open(config)  # the signed token and the page agree (the DS checks it: -23 otherwise)
    assert session.content == ORIGINAL


def test_a_commenter_s_comments_are_saved_and_authored_by_them(docbridge: Docbridge, ds: DocumentServerStandIn) -> None:
    alice, bob = docbridge.user("alice"), docbridge.user("bob")
    file_id = docbridge.upload(alice, "Contract.docx", ORIGINAL)
    _share(docbridge, alice, file_id, user="bob", role="commenter")
    session = ds.open(docbridge.open_config(bob, file_id))
    ds.edit(session.key, bob.id, b"PK original with a comment by bob")
    saved = ds.close(session.key, bob.id)
    assert saved is not None and saved.answers == [(200, {"error": 0})]
    versions = docbridge.versions(alice, file_id)
    assert [(item["version"], item["author_id"]) for item in versions] == [(1, alice.id), (2, bob.id)]


def test_colleagues_in_a_group_co_edit_one_session_and_each_save_is_theirs(
    docbridge: Docbridge, ds: DocumentServerStandIn
) -> None:
    alice, bob = docbridge.user("alice"), docbridge.user("bob")
    found = services_of(docbridge.app)
    found.groups.create("engineers")
    found.groups.add_member("engineers", bob.id)
    folder = docbridge.client.post(f"/api/v1/containers/{alice.home_id}/folders", json={"name": "Team"},
                                   headers=alice.auth).get_json()["id"]
    file_id = docbridge.upload(alice, "Roadmap.docx", ORIGINAL, parent=folder)
    made = docbridge.client.post(f"/api/v1/containers/{folder}/shares", json={"group": "engineers", "role": "editor"},
                                 headers=alice.auth)
    assert made.status_code == 201

    alices = docbridge.open_config(alice, file_id)
    bobs = docbridge.open_config(bob, file_id)
    assert bobs["document"]["key"] == alices["document"]["key"]
    assert bobs["editorConfig"]["user"] == {"id": bob.id, "name": "bob"}
    session = ds.open(alices)
    ds.open(bobs)
    assert len(ds.downloads) == 1

    ds.edit(session.key, alice.id, b"PK alice's part")
    forcesave = docbridge.client.post("/api/v1/admin/onlyoffice/command",
                                      json={"command": "forcesave", "file_id": file_id},
                                      headers={"Authorization": "Basic YWRtaW46YWRtaW4tc2VjcmV0"})
    assert forcesave.status_code == 200
    from tests.onlyoffice.ds_standin import wait_for

    wait_for(lambda: any(r.body["status"] == 6 and r.answers for r in ds.callbacks))
    ds.edit(session.key, bob.id, b"PK alice's part and bob's part")
    ds.close(session.key, alice.id)
    final = ds.close(session.key, bob.id)
    assert final is not None and final.answers == [(200, {"error": 0})]
    versions = docbridge.versions(alice, file_id)
    assert [(item["version"], item["author_id"]) for item in versions] == [(1, alice.id), (2, alice.id), (3, bob.id)]
    assert docbridge.content(bob, file_id) == b"PK alice's part and bob's part"


def test_a_named_guest_shows_as_a_guest_to_co_editors(docbridge: Docbridge, ds: DocumentServerStandIn) -> None:
    alice = docbridge.user("alice")
    file_id = docbridge.upload(alice, "Minutes.docx", ORIGINAL)
    link = docbridge.client.post(f"/api/v1/files/{file_id}/links", json={"role": "editor"},
                                 headers=alice.auth).get_json()
    visitor = docbridge.app.test_client()
    page = visitor.get(f"/s/{link['token']}").get_data(as_text=True)
    data = json.loads(page.split('id="page-data">', 1)[1].split("</script>", 1)[0])
    assert data["guest_name"] == ""
    refused = visitor.post(f"/s/{link['token']}/name", json={"name": "Ann"})
    assert refused.status_code == 403
    named = visitor.post(f"/s/{link['token']}/name", json={"name": "  Ann   Lee "},
                         headers={"X-CSRF-Token": data["csrf_token"]})
    assert named.get_json() == {"name": "Ann Lee"}
    bad = visitor.post(f"/s/{link['token']}/name", json={"name": ""}, headers={"X-CSRF-Token": data["csrf_token"]})
    assert bad.status_code == 400

    launch = visitor.post("/app/open", query_string={"file_id": file_id, "app_name": "OnlyOffice", "view_mode": "write"},
                          headers={"Public-Token": link["token"]})
    assert launch.status_code == 200, launch.get_data(as_text=True)
    editor = visitor.post("/onlyoffice/editor", data=launch.get_json()["form_parameters"])
    config = json.loads(CONFIG_PATTERN.search(editor.get_data(as_text=True)).group(1))  # type: ignore[union-attr]
    assert config["editorConfig"]["user"]["name"] == "Ann Lee (guest)"
    # Another visitor of the same link, without a name, stays "Guest".
    other = docbridge.app.test_client().post(
        "/app/open", query_string={"file_id": file_id, "app_name": "OnlyOffice"}, headers={"Public-Token": link["token"]})
    other_page = docbridge.app.test_client().post("/onlyoffice/editor", data=other.get_json()["form_parameters"])
    other_config = json.loads(CONFIG_PATTERN.search(other_page.get_data(as_text=True)).group(1))  # type: ignore[union-attr]
    assert other_config["editorConfig"]["user"]["name"] == "Guest"


def test_a_revoked_share_ends_the_editor_and_its_saves(docbridge: Docbridge, ds: DocumentServerStandIn) -> None:
    alice, bob = docbridge.user("alice"), docbridge.user("bob")
    file_id = docbridge.upload(alice, "Draft.docx", ORIGINAL)
    made = _share(docbridge, alice, file_id, user="bob", role="editor")
    page, form = docbridge.editor_page(bob, file_id)
    config = json.loads(CONFIG_PATTERN.search(page).group(1))  # type: ignore[union-attr]
    session = ds.open(config)
    ds.edit(session.key, bob.id, b"PK bob's edit after losing access")
    assert docbridge.client.delete(f"/api/v1/files/{file_id}/shares/{made['id']}", headers=alice.auth).status_code == 204

    again = docbridge.client.post("/onlyoffice/editor", data=form)
    assert again.status_code == 404
    refused = ds.close(session.key, bob.id)
    assert refused is not None and refused.answers[-1] == (200, {"error": 1})
    assert [item["version"] for item in docbridge.versions(alice, file_id)] == [1]
