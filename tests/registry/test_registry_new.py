"""POST /app/new through the HTTP client: every row of the contract's table in its order,
blank templates, `template=<file id>`, names that try to escape, public links."""

from __future__ import annotations

import io
import zipfile
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from registry.blank_files import blank_path
from tests.conftest import TestUser, upload
from tests.registry.helpers import Apps, assert_error, make_folder, make_link

PARENT_NOT_FOUND = (404, "RESOURCE_NOT_FOUND", "the parent container is not accessible or does not exist")
PATH_SEGMENT = (400, "INVALID_PARAMETER", "the filename must not contain a path segment")


def post_new(client: FlaskClient, auth: dict[str, str], **params: str) -> Any:
    return client.post("/app/new", query_string=params, headers=auth)


def content(client: FlaskClient, auth: dict[str, str], file_id: str) -> bytes:
    response = client.get(f"/api/v1/files/{file_id}/content", headers=auth)
    assert response.status_code == 200
    data = response.get_data()
    response.close()
    return data


def children(client: FlaskClient, auth: dict[str, str], folder_id: str) -> list[str]:
    return [
        child["name"] for child in client.get(f"/api/v1/containers/{folder_id}", headers=auth).get_json()["children"]
    ]


# --- the table ----------------------------------------------------------------------------------


def test_row1_missing_parent(client: FlaskClient, alice: TestUser) -> None:
    assert_error(
        post_new(client, alice.auth, filename="a/b.odt"), 400, "INVALID_PARAMETER", "missing parent container ID"
    )


@pytest.mark.parametrize("parent", ["nope", "a$b", "a!b$c", "s$p!o/..", "%24%21"])
def test_row2_malformed_parent(client: FlaskClient, alice: TestUser, parent: str) -> None:
    response = post_new(client, alice.auth, parent_container_id=parent)
    assert_error(response, 400, "INVALID_PARAMETER", "invalid parent container ID")


def test_row3_missing_filename(client: FlaskClient, alice: TestUser) -> None:
    assert_error(
        post_new(client, alice.auth, parent_container_id="s$p!nothing"), 400, "INVALID_PARAMETER", "missing filename"
    )


@pytest.mark.parametrize(
    "filename",
    [
        "a/b.odt",
        "/b.odt",
        "b/",
        ".",
        "..",
        "../escape.docx",
        "..\\escape.docx",
        "x\x00.txt",
        "x\r\n.txt",
        "\x1b[31m.md",
    ],
)
def test_row4_path_segments_and_control_characters(client: FlaskClient, alice: TestUser, filename: str) -> None:
    # Checked before the parent is looked up: an unknown parent does not change the answer.
    assert_error(post_new(client, alice.auth, parent_container_id="s$p!nothing", filename=filename), *PATH_SEGMENT)
    assert_error(post_new(client, alice.auth, parent_container_id=alice.home_id, filename=filename), *PATH_SEGMENT)
    assert children(client, alice.auth, alice.home_id) == []


def test_row5_parent_missing_or_not_visible(client: FlaskClient, alice: TestUser, bob: TestUser) -> None:
    unknown = alice.home_id.rsplit("!", 1)[0] + "!00000000-0000-0000-0000-000000000000"
    assert_error(post_new(client, alice.auth, parent_container_id=unknown, filename="a.odt"), *PARENT_NOT_FOUND)
    # Bob's home, even with a name that exists there: no hint.
    upload(client, bob, bob.home_id, "taken.odt", b"x")
    for name in ("a.odt", "taken.odt"):
        assert_error(post_new(client, alice.auth, parent_container_id=bob.home_id, filename=name), *PARENT_NOT_FOUND)


def test_row5_deleted_parent(client: FlaskClient, alice: TestUser) -> None:
    folder = make_folder(client, alice.auth, alice.home_id, "Old")
    assert client.delete(f"/api/v1/files/{folder}", headers=alice.auth).status_code in (200, 204)
    assert_error(post_new(client, alice.auth, parent_container_id=folder, filename="a.odt"), *PARENT_NOT_FOUND)


def test_row6_parent_is_a_file(client: FlaskClient, alice: TestUser) -> None:
    file_id = upload(client, alice, alice.home_id, "notes.txt", b"x")
    response = post_new(client, alice.auth, parent_container_id=file_id, filename="notes.txt")
    assert_error(response, 400, "INVALID_PARAMETER", "the parent container id does not point to a container")


def test_row7_file_exists(client: FlaskClient, alice: TestUser) -> None:
    upload(client, alice, alice.home_id, "plan.odt", b"old")
    response = post_new(client, alice.auth, parent_container_id=alice.home_id, filename="plan.odt")
    assert_error(response, 403, "RESOURCE_ALREADY_EXISTS", "the file already exists")
    assert content(client, alice.auth, upload_id(client, alice, "plan.odt")) == b"old"


def upload_id(client: FlaskClient, user: TestUser, name: str) -> str:
    listing = client.get(f"/api/v1/containers/{user.home_id}", headers=user.auth).get_json()["children"]
    return str(next(child["id"] for child in listing if child["name"] == name))


def test_row8_may_not_write(client: FlaskClient, alice: TestUser) -> None:
    folder = make_folder(client, alice.auth, alice.home_id, "Shared")
    upload(client, alice, folder, "there.odt", b"x")
    viewer = {"Public-Token": make_link(client, alice.auth, folder, role="viewer")["token"]}
    response = post_new(client, viewer, parent_container_id=folder, filename="new.odt")
    assert_error(response, 403, "PERMISSION_DENIED", "permission denied to create the file")
    # Row 7 comes before row 8.
    response = post_new(client, viewer, parent_container_id=folder, filename="there.odt")
    assert_error(response, 403, "RESOURCE_ALREADY_EXISTS", "the file already exists")


# --- success -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("extension", ["docx", "xlsx", "pptx", "odt", "ods", "odp"])
def test_office_types_start_from_the_blank_template(client: FlaskClient, alice: TestUser, extension: str) -> None:
    response = post_new(client, alice.auth, parent_container_id=alice.home_id, filename=f"New.{extension}")
    assert response.status_code == 200 and response.mimetype == "application/json"
    file_id = response.get_json()["file_id"]
    assert set(response.get_json()) == {"file_id"}
    data = content(client, alice.auth, file_id)
    blank = blank_path(extension)
    assert blank is not None and data == blank.read_bytes()
    assert zipfile.ZipFile(io.BytesIO(data)).testzip() is None
    meta = client.get(f"/api/v1/files/{file_id}", headers=alice.auth).get_json()
    assert meta["name"] == f"New.{extension}" and meta["version"] == 1


@pytest.mark.parametrize("filename", ["notes.txt", "README.md", "data.csv", "noext", "Letter.DOC"])
def test_other_types_start_empty(client: FlaskClient, alice: TestUser, filename: str) -> None:
    response = client.post(
        "/app/new", data={"parent_container_id": alice.home_id, "filename": filename}, headers=alice.auth
    )
    assert response.status_code == 200
    assert content(client, alice.auth, response.get_json()["file_id"]) == b""


def test_upper_case_extension_gets_the_blank(client: FlaskClient, alice: TestUser) -> None:
    file_id = post_new(client, alice.auth, parent_container_id=alice.home_id, filename="LOUD.DOCX").get_json()[
        "file_id"
    ]
    assert content(client, alice.auth, file_id)[:2] == b"PK"


def test_in_a_subfolder_and_unicode_name(client: FlaskClient, alice: TestUser) -> None:
    folder = make_folder(client, alice.auth, alice.home_id, "Berichte")
    response = post_new(client, alice.auth, parent_container_id=folder, filename="Übersicht 2026.xlsx")
    assert response.status_code == 200
    assert children(client, alice.auth, folder) == ["Übersicht 2026.xlsx"]


def test_from_a_template(client: FlaskClient, alice: TestUser) -> None:
    template = upload(client, alice, alice.home_id, "letterhead.ott", b"template bytes")
    response = post_new(client, alice.auth, parent_container_id=alice.home_id, filename="letter.odt", template=template)
    assert response.status_code == 200
    assert content(client, alice.auth, response.get_json()["file_id"]) == b"template bytes"


def test_template_that_is_a_folder(client: FlaskClient, alice: TestUser) -> None:
    folder = make_folder(client, alice.auth, alice.home_id, "Templates")
    response = post_new(client, alice.auth, parent_container_id=alice.home_id, filename="letter.odt", template=folder)
    assert_error(response, 400, "INVALID_PARAMETER", "the template id does not point to a file")
    assert children(client, alice.auth, alice.home_id) == ["Templates"]


def test_template_the_caller_cannot_read(client: FlaskClient, alice: TestUser, bob: TestUser) -> None:
    secret = upload(client, bob, bob.home_id, "bobs.ott", b"bob's secret")
    unknown = secret.rsplit("!", 1)[0] + "!00000000-0000-0000-0000-000000000000"
    for template in (secret, unknown):
        response = post_new(client, alice.auth, parent_container_id=alice.home_id, filename="x.odt", template=template)
        assert_error(response, 404, "RESOURCE_NOT_FOUND", "the template is not accessible or does not exist")
    assert children(client, alice.auth, alice.home_id) == []


def test_template_the_link_does_not_reach(client: FlaskClient, alice: TestUser) -> None:
    # An uploader link may create files but not read one as a template, not even inside its folder.
    folder = make_folder(client, alice.auth, alice.home_id, "Drop")
    inside = upload(client, alice, folder, "t.ott", b"t")
    uploader = {"Public-Token": make_link(client, alice.auth, folder, role="uploader")["token"]}
    response = post_new(client, uploader, parent_container_id=folder, filename="x.odt", template=inside)
    assert_error(response, 404, "RESOURCE_NOT_FOUND", "the template is not accessible or does not exist")


def test_malformed_template_id(client: FlaskClient, alice: TestUser) -> None:
    response = post_new(client, alice.auth, parent_container_id=alice.home_id, filename="x.odt", template="../../x")
    assert_error(response, 400, "INVALID_PARAMETER", "invalid template ID")


@pytest.mark.parametrize(("role", "status"), [("editor", 200), ("uploader", 200), ("viewer", 403)])
def test_public_folder_links(client: FlaskClient, alice: TestUser, role: str, status: int) -> None:
    folder = make_folder(client, alice.auth, alice.home_id, "Shared")
    headers = {"Public-Token": make_link(client, alice.auth, folder, role=role)["token"]}
    response = post_new(client, headers, parent_container_id=folder, filename="from-link.docx")
    assert response.status_code == status
    # A link reaches only its folder.
    assert_error(post_new(client, headers, parent_container_id=alice.home_id, filename="x.docx"), *PARENT_NOT_FOUND)


def test_new_file_opens(app: Flask, client: FlaskClient, alice: TestUser, apps: Apps) -> None:
    file_id = post_new(client, alice.auth, parent_container_id=alice.home_id, filename="fresh.docx").get_json()[
        "file_id"
    ]
    response = client.post("/app/open", query_string={"file_id": file_id, "app_name": "FakeOffice"}, headers=alice.auth)
    assert response.status_code == 200
    assert apps.office.requests[0].file.size == (blank_path("docx") or pytest.fail()).stat().st_size


def test_another_users_file_as_parent_is_not_found(client: FlaskClient, alice: TestUser, bob: TestUser) -> None:
    # Not "does not point to a container": that would tell alice the id exists.
    bobs_file = upload(client, bob, bob.home_id, "private.txt", b"x")
    assert_error(post_new(client, alice.auth, parent_container_id=bobs_file, filename="a.odt"), *PARENT_NOT_FOUND)


def test_name_too_long(client: FlaskClient, alice: TestUser) -> None:
    response = post_new(client, alice.auth, parent_container_id=alice.home_id, filename="x" * 252 + ".docx")
    assert_error(response, 400, "INVALID_PARAMETER", "the name must not be longer than 255 bytes")
