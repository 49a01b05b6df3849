"""The /api/v1 file API as a script or the web UI uses it, on SQLite and on PostgreSQL."""

from __future__ import annotations

import hashlib

import pytest
from flask.testing import FlaskClient

from tests.conftest import TestUser, upload


@pytest.fixture
def database_url_for_app(database_url: str) -> str:
    return database_url


def test_me_and_empty_home(client: FlaskClient, alice: TestUser) -> None:
    me = client.get("/api/v1/me", headers=alice.auth).get_json()
    assert me["home_id"] == alice.home_id and me["name"] == "alice"
    home = client.get(f"/api/v1/containers/{alice.home_id}", headers=alice.auth).get_json()
    assert home["children"] == [] and home["type"] == "folder" and home["path"] == []


def test_folders_files_and_listing(client: FlaskClient, alice: TestUser) -> None:
    created = client.post(f"/api/v1/containers/{alice.home_id}/folders", json={"name": "Reports"}, headers=alice.auth)
    assert created.status_code == 201
    folder_id = created.get_json()["id"]
    file_id = upload(client, alice, folder_id, "q1.txt", b"first quarter")
    listing = client.get(f"/api/v1/containers/{folder_id}", headers=alice.auth).get_json()
    assert [child["name"] for child in listing["children"]] == ["q1.txt"]
    assert [item["id"] for item in listing["path"]] == [alice.home_id]
    meta = client.get(f"/api/v1/files/{file_id}", headers=alice.auth).get_json()
    assert meta == {
        **meta,
        "name": "q1.txt",
        "size": 13,
        "mimetype": "text/plain",
        "version": 1,
        "sha256": hashlib.sha256(b"first quarter").hexdigest(),
        "parent_id": folder_id,
        "type": "file",
    }
    again = client.post(f"/api/v1/containers/{alice.home_id}/folders", json={"name": "Reports"}, headers=alice.auth)
    assert again.status_code == 403 and again.get_json()["code"] == "RESOURCE_ALREADY_EXISTS"


def test_upload_new_then_new_version(client: FlaskClient, alice: TestUser) -> None:
    first = client.put(f"/api/v1/containers/{alice.home_id}/files/a.docx", data=b"v1", headers=alice.auth)
    assert first.status_code == 201 and first.get_json()["version"] == 1
    second = client.put(f"/api/v1/containers/{alice.home_id}/files/a.docx", data=b"v2", headers=alice.auth)
    assert second.status_code == 200
    assert second.get_json() == {"file_id": first.get_json()["file_id"], "version": 2}


def test_content_is_streamed_with_length_etag_and_range(client: FlaskClient, alice: TestUser) -> None:
    file_id = upload(client, alice, alice.home_id, "data.bin", bytes(range(256)) * 4)
    whole = client.get(f"/api/v1/files/{file_id}/content", headers=alice.auth)
    assert whole.status_code == 200 and whole.data == bytes(range(256)) * 4
    assert whole.headers["Content-Length"] == "1024"
    etag = whole.headers["ETag"]
    assert etag.startswith('"v1-')
    part = client.get(f"/api/v1/files/{file_id}/content", headers={**alice.auth, "Range": "bytes=10-19"})
    assert part.status_code == 206 and part.data == bytes(range(10, 20))
    cached = client.get(f"/api/v1/files/{file_id}/content", headers={**alice.auth, "If-None-Match": etag})
    assert cached.status_code == 304


def test_if_match_guards_against_lost_updates(client: FlaskClient, alice: TestUser) -> None:
    file_id = upload(client, alice, alice.home_id, "shared.txt", b"one")
    etag = client.get(f"/api/v1/files/{file_id}/content", headers=alice.auth).headers["ETag"]
    upload(client, alice, alice.home_id, "shared.txt", b"two")
    stale = client.put(
        f"/api/v1/containers/{alice.home_id}/files/shared.txt", data=b"three", headers={**alice.auth, "If-Match": etag}
    )
    assert stale.status_code == 409 and stale.get_json()["code"] == "CONFLICT"
    assert client.get(f"/api/v1/files/{file_id}/content", headers=alice.auth).data == b"two"


def test_versions_list_download_and_restore(client: FlaskClient, alice: TestUser) -> None:
    file_id = upload(client, alice, alice.home_id, "notes.md", b"draft")
    upload(client, alice, alice.home_id, "notes.md", b"final")
    versions = client.get(f"/api/v1/files/{file_id}/versions", headers=alice.auth).get_json()["versions"]
    assert [(item["version"], item["current"], item["author"]) for item in versions] == [(2, True, "alice"), (1, False, "alice")]
    old = client.get(f"/api/v1/files/{file_id}/versions/1/content", headers=alice.auth)
    assert old.data == b"draft"
    restored = client.post(f"/api/v1/files/{file_id}/versions/1/restore", headers=alice.auth)
    assert restored.status_code == 200 and restored.get_json()["version"] == 3
    assert client.get(f"/api/v1/files/{file_id}/content", headers=alice.auth).data == b"draft"
    numbers = [item["version"] for item in client.get(f"/api/v1/files/{file_id}/versions", headers=alice.auth).get_json()["versions"]]
    assert numbers == [3, 2, 1]
    assert client.get(f"/api/v1/files/{file_id}/versions/9/content", headers=alice.auth).status_code == 404


def test_rename_keeps_the_id_and_delete_removes(client: FlaskClient, alice: TestUser) -> None:
    file_id = upload(client, alice, alice.home_id, "old.txt", b"x")
    upload(client, alice, alice.home_id, "taken.txt", b"y")
    renamed = client.patch(f"/api/v1/files/{file_id}", json={"name": "new.md"}, headers=alice.auth)
    assert renamed.status_code == 200
    assert renamed.get_json()["id"] == file_id and renamed.get_json()["mimetype"] == "text/markdown"
    clash = client.patch(f"/api/v1/files/{file_id}", json={"name": "taken.txt"}, headers=alice.auth)
    assert clash.status_code == 403 and clash.get_json()["code"] == "RESOURCE_ALREADY_EXISTS"
    assert client.delete(f"/api/v1/files/{file_id}", headers=alice.auth).status_code == 204
    assert client.get(f"/api/v1/files/{file_id}", headers=alice.auth).status_code == 404
    assert client.delete(f"/api/v1/files/{alice.home_id}", headers=alice.auth).status_code == 400


@pytest.mark.parametrize(
    "name",
    ["a\\b", ".", "..", "tab\tname", "nul\x00name", "x" * 256, "é" * 128],
    ids=["backslash", "dot", "dotdot", "control", "nul", "long", "long-utf8"],
)
def test_bad_names_are_refused_clearly(client: FlaskClient, alice: TestUser, name: str) -> None:
    response = client.post(f"/api/v1/containers/{alice.home_id}/folders", json={"name": name}, headers=alice.auth)
    assert response.status_code == 400
    assert response.get_json()["code"] == "INVALID_PARAMETER"
    assert "name" in response.get_json()["message"]
    listing = client.get(f"/api/v1/containers/{alice.home_id}", headers=alice.auth).get_json()
    assert listing["children"] == []


def test_slash_in_uploaded_name_is_refused(client: FlaskClient, alice: TestUser) -> None:
    response = client.put(f"/api/v1/containers/{alice.home_id}/files/sub/evil.txt", data=b"x", headers=alice.auth)
    assert response.status_code == 400


def test_other_users_files_are_not_found(client: FlaskClient, alice: TestUser, bob: TestUser) -> None:
    file_id = upload(client, alice, alice.home_id, "private.txt", b"secret")
    for method, path in [
        ("get", f"/api/v1/files/{file_id}"),
        ("get", f"/api/v1/files/{file_id}/content"),
        ("get", f"/api/v1/files/{file_id}/versions"),
        ("patch", f"/api/v1/files/{file_id}"),
        ("delete", f"/api/v1/files/{file_id}"),
        ("get", f"/api/v1/containers/{alice.home_id}"),
    ]:
        response = getattr(client, method)(path, headers=bob.auth, json={"name": "x"} if method == "patch" else None)
        assert response.status_code == 404, path
        assert response.get_json()["code"] == "RESOURCE_NOT_FOUND"
    uploaded = client.put(f"/api/v1/containers/{alice.home_id}/files/drop.txt", data=b"x", headers=bob.auth)
    assert uploaded.status_code == 404


def test_malformed_ids_are_bad_requests(client: FlaskClient, alice: TestUser) -> None:
    response = client.get("/api/v1/files/not-an-id", headers=alice.auth)
    assert response.status_code == 400 and response.get_json() == {"code": "INVALID_PARAMETER", "message": "invalid id"}


def test_links_on_files_and_folders(client: FlaskClient, alice: TestUser) -> None:
    folder_id = client.post(f"/api/v1/containers/{alice.home_id}/folders", json={"name": "Team"}, headers=alice.auth).get_json()["id"]
    file_id = upload(client, alice, folder_id, "plan.txt", b"plan")
    link = client.post(f"/api/v1/files/{folder_id}/links", json={"role": "editor"}, headers=alice.auth).get_json()
    assert link["url"] == f"http://docbridge.test/s/{link['token']}"
    headers = {"Public-Token": link["token"]}
    listing = client.get(f"/api/v1/containers/{folder_id}", headers=headers).get_json()
    assert [child["name"] for child in listing["children"]] == ["plan.txt"]
    assert client.put(f"/api/v1/containers/{folder_id}/files/plan.txt", data=b"edited", headers=headers).status_code == 200
    versions = client.get(f"/api/v1/files/{file_id}/versions", headers=alice.auth).get_json()["versions"]
    assert versions[0]["author"] == "Guest" and versions[0]["author_id"] is None
    assert client.delete(f"/api/v1/files/{folder_id}", headers=headers).status_code == 403
    listed = client.get(f"/api/v1/files/{folder_id}/links", headers=alice.auth).get_json()["links"]
    assert [item["id"] for item in listed] == [link["id"]]
    assert client.delete(f"/api/v1/links/{link['id']}", headers=alice.auth).status_code == 204
    assert client.get(f"/api/v1/containers/{folder_id}", headers=headers).status_code == 401


def test_viewer_link_cannot_write(client: FlaskClient, alice: TestUser) -> None:
    file_id = upload(client, alice, alice.home_id, "ro.txt", b"read me")
    token = client.post(f"/api/v1/files/{file_id}/links", json={"role": "viewer"}, headers=alice.auth).get_json()["token"]
    response = client.post(f"/api/v1/files/{file_id}/versions/1/restore", headers={"Public-Token": token})
    assert response.status_code == 403 and response.get_json()["code"] == "PERMISSION_DENIED"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"role": "owner"}, "role must be"),
        ({"role": "viewer", "expires_at": "tomorrow"}, "ISO 8601"),
        ({"role": "viewer", "expires_at": "2001-01-01T00:00:00Z"}, "future"),
        ({"role": "uploader"}, "needs a folder"),
    ],
)
def test_bad_link_requests(client: FlaskClient, alice: TestUser, body: dict[str, str], message: str) -> None:
    file_id = upload(client, alice, alice.home_id, "f.txt", b"x")
    response = client.post(f"/api/v1/files/{file_id}/links", json=body, headers=alice.auth)
    assert response.status_code == 400 and message in response.get_json()["message"]


def test_openapi_document_lists_the_endpoints(client: FlaskClient) -> None:
    document = client.get("/api/v1/openapi.json").get_json()
    assert document["openapi"].startswith("3.")
    assert {"/me", "/containers/{id}", "/files/{id}/versions/{version}/restore", "/files/{id}/links",
            "/admin/policies", "/admin/policies/{id}"} <= set(document["paths"])


def test_uploader_link_adds_files_and_never_replaces_or_reveals(client: FlaskClient, alice: TestUser) -> None:
    folder_id = client.post(f"/api/v1/containers/{alice.home_id}/folders", json={"name": "Inbox"}, headers=alice.auth).get_json()["id"]
    original = upload(client, alice, folder_id, "report.pdf", b"alice's report")
    token = client.post(f"/api/v1/files/{folder_id}/links", json={"role": "uploader"}, headers=alice.auth).get_json()["token"]
    headers = {"Public-Token": token}
    dropped = client.put(f"/api/v1/containers/{folder_id}/files/report.pdf", data=b"a stranger's file", headers=headers)
    assert dropped.status_code == 201 and dropped.get_json()["file_id"] != original
    assert client.get(f"/api/v1/files/{original}/content", headers=alice.auth).data == b"alice's report"
    names = [child["name"] for child in client.get(f"/api/v1/containers/{folder_id}", headers=alice.auth).get_json()["children"]]
    assert names == ["report (2).pdf", "report.pdf"]
    assert client.get(f"/api/v1/containers/{folder_id}", headers=headers).status_code == 403
    assert client.get(f"/api/v1/files/{original}/content", headers=headers).status_code == 403
