"""Every WOPI operation over HTTP, success and failure, as a WOPI client sends them."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient

from core.tokens import ViewMode
from server.services import services_of
from tests.conftest import TestUser, upload
from tests.wopi.conftest import WopiCaller, issue_token
from tests.wopi.wopi_client import WopiClientStandIn
from wopi.checkfileinfo import SCHEMA_PROPERTIES

Maker = Callable[..., WopiCaller]
LONG_NAME = "longwopitestfilename" * 26 + ".wopitestfoox"  # > 512 characters


# --- CheckFileInfo --------------------------------------------------------------------------


def test_check_file_info(make_caller: Maker, alice: TestUser) -> None:
    caller = make_caller(alice, "report.wopitest", b"hello")
    response = caller.check_file_info()
    assert response.status_code == 200
    info = response.get_json()
    assert set(info) <= SCHEMA_PROPERTIES
    assert info["BaseFileName"] == "report.wopitest"
    assert info["FileExtension"] == ".wopitest"
    assert info["Size"] == 5
    assert info["OwnerId"] == alice.id and info["UserId"] == alice.id
    assert info["UserFriendlyName"] == "Alice"
    assert info["UserCanWrite"] is True and info["UserCanNotWriteRelative"] is False
    assert info["HostEditUrl"].startswith("http://localhost/external?app=Office")
    assert info["LastModifiedTime"].endswith("Z")


def test_read_and_view_tokens(make_caller: Maker, alice: TestUser) -> None:
    read = make_caller(alice, "r.wopitest", b"x", mode=ViewMode.READ)
    info = read.check_file_info().get_json()
    assert info["UserCanWrite"] is False and info["ReadOnly"] is True and info["UserCanNotWriteRelative"] is True
    view = make_caller(alice, "v.wopitest", b"x", mode=ViewMode.VIEW)
    assert view.check_file_info().get_json()["DisablePrint"] is True


@pytest.mark.parametrize("token", ["", "garbage", "a.b.c"])
def test_bad_token_is_401(make_caller: Maker, alice: TestUser, token: str) -> None:
    caller = make_caller(alice, "t.wopitest")
    caller.token = token
    assert caller.check_file_info().status_code == 401
    assert caller.get_file().status_code == 401
    assert caller.lock("L").status_code == 401
    assert caller.put_file(b"x", lock="L").status_code == 401


def test_token_for_another_file_or_app_is_401(
    app: Flask, make_caller: Maker, alice: TestUser, client: FlaskClient
) -> None:
    first = make_caller(alice, "a.wopitest")
    second = make_caller(alice, "b.wopitest")
    first.token = second.token
    assert first.check_file_info().status_code == 401
    first.token = issue_token(app, alice, first.file_id, app_name="NotConfigured")
    assert first.check_file_info().status_code == 401


def test_bearer_header_is_accepted(make_caller: Maker, alice: TestUser, client: FlaskClient) -> None:
    caller = make_caller(alice, "b.wopitest", b"abc")
    caller.sign = False
    token = caller.token
    path = f"/wopi/files/{caller.file_id.replace('$', '%24').replace('!', '%21')}/contents"
    proof = caller.stand_in.proof_headers(token, "http://localhost" + path)
    response = client.get(path, headers={"Authorization": f"Bearer {token}", **proof})
    assert response.status_code == 200 and response.data == b"abc"


def test_unknown_and_malformed_ids(make_caller: Maker, alice: TestUser) -> None:
    caller = make_caller(alice, "gone.wopitest")
    caller.post("DELETE")
    assert caller.check_file_info().status_code == 404
    caller.file_id = "not-an-id"
    assert caller.check_file_info().status_code == 400


def test_unknown_override_is_501(make_caller: Maker, alice: TestUser) -> None:
    caller = make_caller(alice)
    assert caller.post("COBALT").status_code == 501
    assert caller.post("").status_code == 501
    path = caller.path("/contents")
    response = caller.client.post(path, headers=caller._headers(path, {"X-WOPI-Override": "LOCK"}))
    assert response.status_code == 501


# --- GetFile ------------------------------------------------------------------------------


def test_get_file_streams_with_length_and_version(make_caller: Maker, alice: TestUser) -> None:
    body = bytes(range(256)) * 100
    caller = make_caller(alice, "g.wopitest", body)
    response = caller.get_file()
    assert response.status_code == 200
    assert response.data == body
    assert response.headers["Content-Length"] == str(len(body))
    assert response.headers["X-WOPI-ItemVersion"] == caller.check_file_info().get_json()["Version"]


@pytest.mark.parametrize(("limit", "status"), [("25600", 200), ("99999", 200), ("25599", 412), ("0", 412), ("x", 400)])
def test_max_expected_size(make_caller: Maker, alice: TestUser, limit: str, status: int) -> None:
    caller = make_caller(alice, "m.wopitest", b"z" * 25600)
    assert caller.get_file({"X-WOPI-MaxExpectedSize": limit}).status_code == status


# --- locks --------------------------------------------------------------------------------


def test_lock_sequence(make_caller: Maker, alice: TestUser) -> None:
    caller = make_caller(alice, "l.wopitest", b"x")
    version = caller.check_file_info().get_json()["Version"]
    response = caller.lock("A")
    assert response.status_code == 200 and response.headers["X-WOPI-ItemVersion"] == version
    assert caller.lock("A").status_code == 200  # same lock: refresh
    assert caller.post("GET_LOCK").headers["X-WOPI-Lock"] == "A"
    assert caller.post("REFRESH_LOCK", {"X-WOPI-Lock": "A"}).status_code == 200
    assert caller.lock("B", old="A").status_code == 200
    assert caller.post("GET_LOCK").headers["X-WOPI-Lock"] == "B"
    mismatch = caller.unlock("A")
    assert mismatch.status_code == 409 and mismatch.headers["X-WOPI-Lock"] == "B"
    assert mismatch.headers["X-WOPI-LockFailureReason"]
    unlocked = caller.unlock("B")
    assert unlocked.status_code == 200 and unlocked.headers["X-WOPI-ItemVersion"] == version
    assert caller.post("GET_LOCK").headers["X-WOPI-Lock"] == ""


@pytest.mark.parametrize(
    ("request_kind", "headers"),
    [
        ("LOCK", {"X-WOPI-Lock": "wrong"}),
        ("REFRESH_LOCK", {"X-WOPI-Lock": "wrong"}),
        ("UNLOCK", {"X-WOPI-Lock": "wrong"}),
        ("LOCK", {"X-WOPI-Lock": "new", "X-WOPI-OldLock": "wrong"}),
    ],
)
def test_lock_mismatches_answer_the_current_lock(
    make_caller: Maker, alice: TestUser, request_kind: str, headers: dict[str, str]
) -> None:
    caller = make_caller(alice)
    caller.lock("held")
    response = caller.post(request_kind, headers)
    assert response.status_code == 409
    assert response.headers["X-WOPI-Lock"] == "held"


@pytest.mark.parametrize("request_kind", ["UNLOCK", "REFRESH_LOCK"])
def test_unlocked_file_conflicts_with_empty_lock(make_caller: Maker, alice: TestUser, request_kind: str) -> None:
    response = make_caller(alice).post(request_kind, {"X-WOPI-Lock": "L"})
    assert response.status_code == 409
    assert response.headers["X-WOPI-Lock"] == ""


def test_relock_of_unlocked_file_conflicts(make_caller: Maker, alice: TestUser) -> None:
    response = make_caller(alice).lock("new", old="old")
    assert response.status_code == 409 and response.headers["X-WOPI-Lock"] == ""


@pytest.mark.parametrize("lock_id", ["1234567890" * 102 + "1234", '{"S":"0136ad16","E":2,"M":"DE997C5AC4E6","P":"6058AF1E"}'])
def test_long_and_json_lock_ids(make_caller: Maker, alice: TestUser, lock_id: str) -> None:
    caller = make_caller(alice)
    assert caller.lock(lock_id).status_code == 200
    assert caller.post("GET_LOCK").headers["X-WOPI-Lock"] == lock_id
    assert caller.unlock(lock_id).status_code == 200


@pytest.mark.parametrize("lock_id", ["", "x" * 1025])
def test_unusable_lock_ids(make_caller: Maker, alice: TestUser, lock_id: str) -> None:
    assert make_caller(alice).lock(lock_id).status_code == 400


def test_expired_lock_is_no_lock(make_app: Callable[..., Flask], stand_in, alice_factory=None) -> None:  # type: ignore[no-untyped-def]
    from tests.wopi.conftest import wopi_settings

    app = make_app(**wopi_settings(stand_in, lock_seconds=0))
    client = app.test_client()
    user = services_of(app).users.create("carol", "secret")
    from tests.conftest import basic_auth

    test_user = TestUser(user.id, "carol", "secret", str(user.home_id), basic_auth("carol", "secret"))
    file_id = upload(client, test_user, test_user.home_id, "e.wopitest", b"")
    caller = WopiCaller(client, stand_in, issue_token(app, test_user, file_id), file_id)
    assert caller.lock("A").status_code == 200
    assert caller.lock("B").status_code == 200  # A expired at once
    assert caller.post("GET_LOCK").headers["X-WOPI-Lock"] == ""


@pytest.mark.parametrize("mode", [ViewMode.READ, ViewMode.VIEW])
def test_read_and_view_tokens_cannot_change_anything(make_caller: Maker, alice: TestUser, mode: ViewMode) -> None:
    caller = make_caller(alice, "ro.wopitest", b"original", mode=mode)
    assert caller.get_file().status_code == 200
    assert caller.lock("L").status_code == 401
    assert caller.put_file(b"changed", lock="L").status_code == 401
    assert caller.post("RENAME_FILE", {"X-WOPI-RequestedName": "other"}).status_code == 401
    assert caller.post("DELETE").status_code == 401
    assert caller.post("UNLOCK", {"X-WOPI-Lock": "L"}).status_code == 401
    assert caller.post("GET_LOCK").status_code == 200
    assert caller.get_file().data == b"original"


# --- PutFile ------------------------------------------------------------------------------


def test_put_file_with_lock_makes_new_versions(app: Flask, make_caller: Maker, alice: TestUser) -> None:
    caller = make_caller(alice, "p.wopitest", b"v1")
    caller.lock("L")
    first = caller.put_file(b"v2", lock="L")
    second = caller.put_file(b"v3" * 1000, lock="L")
    assert first.status_code == 200 and second.status_code == 200
    assert first.headers["X-WOPI-ItemVersion"] != second.headers["X-WOPI-ItemVersion"]
    assert caller.get_file().data == b"v3" * 1000
    assert caller.check_file_info().get_json()["Version"] == second.headers["X-WOPI-ItemVersion"]
    versions = services_of(app).storage.list_versions(__import__("core.ids").ids.parse_resource_id(caller.file_id))
    assert [v.source for v in versions[:2]] == ["wopi", "wopi"]
    assert versions[0].author_id == alice.id


def test_put_file_conflicts(make_caller: Maker, alice: TestUser) -> None:
    caller = make_caller(alice, "c.wopitest", b"content")
    unlocked = caller.put_file(b"new")
    assert unlocked.status_code == 409 and unlocked.headers["X-WOPI-Lock"] == ""
    caller.lock("L")
    wrong = caller.put_file(b"new", lock="other")
    assert wrong.status_code == 409 and wrong.headers["X-WOPI-Lock"] == "L"
    assert caller.get_file().data == b"content"


def test_put_file_to_empty_unlocked_file(make_caller: Maker, alice: TestUser) -> None:
    caller = make_caller(alice, "new.wopitest", b"")
    assert caller.put_file(b"first content").status_code == 200
    assert caller.get_file().data == b"first content"


def test_put_file_respects_max_upload(make_app: Callable[..., Flask], stand_in) -> None:  # type: ignore[no-untyped-def]
    from tests.conftest import basic_auth
    from tests.wopi.conftest import wopi_settings

    app = make_app(**wopi_settings(stand_in), storage={"max_upload_bytes": 10})
    client = app.test_client()
    user = services_of(app).users.create("dave", "secret")
    test_user = TestUser(user.id, "dave", "secret", str(user.home_id), basic_auth("dave", "secret"))
    file_id = upload(client, test_user, test_user.home_id, "small.wopitest", b"")
    caller = WopiCaller(client, stand_in, issue_token(app, test_user, file_id), file_id)
    assert caller.put_file(b"x" * 11).status_code == 413
    assert caller.put_file(b"x" * 10).status_code == 200


# --- PutRelativeFile ------------------------------------------------------------------------


def put_relative(caller: WopiCaller, data: bytes = b"copy", **headers: str) -> object:
    wire = {key.replace("_", "-"): value for key, value in headers.items()}
    return caller.post("PUT_RELATIVE", wire, data)


def test_put_relative_suggested_extension_and_name(make_caller: Maker, alice: TestUser) -> None:
    caller = make_caller(alice, "report.wopitest", b"x")
    response = put_relative(caller, **{"X_WOPI_SuggestedTarget": ".foox"})
    assert response.status_code == 200  # type: ignore[attr-defined]
    body = response.get_json()  # type: ignore[attr-defined]
    assert body["Name"] == "report.foox"
    assert body["HostViewUrl"].startswith("http://localhost/") and body["HostEditUrl"]
    new = WopiCaller.from_url(caller.client, caller.stand_in, body["Url"])
    assert new.check_file_info().get_json()["BaseFileName"] == "report.foox"
    assert new.get_file().data == b"copy"
    again = put_relative(caller, **{"X_WOPI_SuggestedTarget": ".foox"}).get_json()  # type: ignore[attr-defined]
    assert again["Name"] == "report (2).foox"


def test_put_relative_exact_name_and_conflicts(make_caller: Maker, alice: TestUser) -> None:
    caller = make_caller(alice, "base.wopitest", b"x")
    target = {"X_WOPI_RelativeTarget": "madeup.wopitestfoox"}
    first = put_relative(caller, b"one", **target)
    assert first.get_json()["Name"] == "madeup.wopitestfoox"  # type: ignore[attr-defined]
    taken = put_relative(caller, b"two", **target)
    assert taken.status_code == 409  # type: ignore[attr-defined]
    assert taken.headers["X-WOPI-ValidRelativeTarget"] == "madeup (2).wopitestfoox"  # type: ignore[attr-defined]
    refused = put_relative(caller, b"two", **target, X_WOPI_OverwriteRelativeTarget="false")
    assert refused.status_code == 409  # type: ignore[attr-defined]
    overwritten = put_relative(caller, b"three", **target, X_WOPI_OverwriteRelativeTarget="true")
    assert overwritten.status_code == 200  # type: ignore[attr-defined]
    new = WopiCaller.from_url(caller.client, caller.stand_in, overwritten.get_json()["Url"])  # type: ignore[attr-defined]
    assert new.get_file().data == b"three"
    new.lock("L")
    locked = put_relative(caller, b"four", **target, X_WOPI_OverwriteRelativeTarget="true")
    assert locked.status_code == 409 and locked.headers["X-WOPI-Lock"] == "L"  # type: ignore[attr-defined]
    assert new.get_file().data == b"three"


@pytest.mark.parametrize(
    "headers",
    [{}, {"X_WOPI_SuggestedTarget": ".a", "X_WOPI_RelativeTarget": "b.wopitest"}],
)
def test_put_relative_needs_exactly_one_target(make_caller: Maker, alice: TestUser, headers: dict[str, str]) -> None:
    assert put_relative(make_caller(alice), **headers).status_code == 501  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("madeup+AF8-name.wopitestfoox", "madeup_name.wopitestfoox"),
        ("+ZeVnLIqe-.docx", "日本語.docx"),
        ("Caf+AOk- +ACY- co.odt", "Café & co.odt"),
    ],
)
def test_put_relative_utf7_names(make_caller: Maker, alice: TestUser, header: str, expected: str) -> None:
    response = put_relative(make_caller(alice), **{"X_WOPI_RelativeTarget": header})
    assert response.status_code == 200  # type: ignore[attr-defined]
    assert response.get_json()["Name"] == expected  # type: ignore[attr-defined]


@pytest.mark.parametrize("kind", ["X_WOPI_RelativeTarget", "X_WOPI_SuggestedTarget"])
def test_put_relative_long_or_bad_names_are_400(make_caller: Maker, alice: TestUser, kind: str) -> None:
    caller = make_caller(alice)
    assert put_relative(caller, **{kind: LONG_NAME}).status_code == 400  # type: ignore[attr-defined]
    assert put_relative(caller, **{kind: "a/b.docx"}).status_code == 400  # type: ignore[attr-defined]
    assert put_relative(caller, **{kind: "+AF"}).status_code == 400  # type: ignore[attr-defined]


def test_put_relative_not_allowed_for_read_token(make_caller: Maker, alice: TestUser) -> None:
    caller = make_caller(alice, mode=ViewMode.READ)
    assert put_relative(caller, **{"X_WOPI_SuggestedTarget": ".pdf"}).status_code == 501  # type: ignore[attr-defined]


# --- RenameFile ---------------------------------------------------------------------------


def test_rename_keeps_the_id(make_caller: Maker, alice: TestUser) -> None:
    caller = make_caller(alice, "ValidatorTestFile.docx", b"x")
    response = caller.post("RENAME_FILE", {"X-WOPI-RequestedName": "ValidatorTestFileRenamed"})
    assert response.status_code == 200
    assert response.get_json() == {"Name": "ValidatorTestFileRenamed"}
    info = caller.check_file_info().get_json()  # same WOPISrc, same token
    assert info["BaseFileName"] == "ValidatorTestFileRenamed.docx" and info["FileExtension"] == ".docx"


def test_rename_utf7(make_caller: Maker, alice: TestUser) -> None:
    caller = make_caller(alice, "a.docx", b"x")
    response = caller.post("RENAME_FILE", {"X-WOPI-RequestedName": "madeup+AF8-renamed +ZeVnLIqe-"})
    assert response.get_json() == {"Name": "madeup_renamed 日本語"}
    assert caller.check_file_info().get_json()["BaseFileName"] == "madeup_renamed 日本語.docx"


def test_rename_locked(make_caller: Maker, alice: TestUser) -> None:
    caller = make_caller(alice, "r.docx", b"x")
    caller.lock("L")
    wrong = caller.post("RENAME_FILE", {"X-WOPI-RequestedName": "n", "X-WOPI-Lock": "other"})
    assert wrong.status_code == 409 and wrong.headers["X-WOPI-Lock"] == "L"
    right = caller.post("RENAME_FILE", {"X-WOPI-RequestedName": "n", "X-WOPI-Lock": "L"})
    assert right.status_code == 200


@pytest.mark.parametrize("name", ["a/b", "x" * 600, "+AF"])
def test_rename_invalid_names(make_caller: Maker, alice: TestUser, name: str) -> None:
    response = make_caller(alice, "r.docx", b"x").post("RENAME_FILE", {"X-WOPI-RequestedName": name})
    assert response.status_code == 400


def test_rename_to_taken_name(make_caller: Maker, alice: TestUser) -> None:
    make_caller(alice, "taken.docx", b"x")
    response = make_caller(alice, "r.docx", b"x").post("RENAME_FILE", {"X-WOPI-RequestedName": "taken"})
    assert response.status_code == 400 and response.headers["X-WOPI-InvalidFileNameError"]


def test_rename_deleted_is_404(make_caller: Maker, alice: TestUser) -> None:
    caller = make_caller(alice, "d.docx", b"x")
    assert caller.post("DELETE").status_code == 200
    assert caller.post("RENAME_FILE", {"X-WOPI-RequestedName": "n"}).status_code == 404


# --- DeleteFile, PutUserInfo ----------------------------------------------------------------


def test_delete(make_caller: Maker, alice: TestUser) -> None:
    caller = make_caller(alice, "del.docx", b"x")
    caller.lock("L")
    locked = caller.post("DELETE")
    assert locked.status_code == 409 and locked.headers["X-WOPI-Lock"] == "L"
    caller.unlock("L")
    assert caller.post("DELETE").status_code == 200
    assert caller.check_file_info().status_code == 404
    assert caller.post("DELETE").status_code == 404


def test_put_user_info(make_caller: Maker, alice: TestUser) -> None:
    caller = make_caller(alice, "u.docx", b"x")
    assert "UserInfo" not in caller.check_file_info().get_json()
    assert caller.post("PUT_USER_INFO", data='{"theme":"dark","é":1}'.encode()).status_code == 200
    other_file = make_caller(alice, "u2.docx", b"x")
    assert other_file.check_file_info().get_json()["UserInfo"] == '{"theme":"dark","é":1}'
    assert caller.post("PUT_USER_INFO", data=b"y" * 1025).status_code == 400
    reader = make_caller(alice, "u3.docx", b"x", mode=ViewMode.VIEW)
    assert reader.post("PUT_USER_INFO", data=b"viewer").status_code == 200


@pytest.mark.parametrize(("on_folder", "relative_status"), [(True, 200), (False, 501)])
def test_public_link_guest(
    app: Flask, client: FlaskClient, alice: TestUser, stand_in: WopiClientStandIn, on_folder: bool, relative_status: int
) -> None:
    from core.ids import parse_resource_id
    from registry.providers import audience_for
    from storage.types import LinkRole
    from tests.wopi.conftest import APP_NAME

    found = services_of(app)
    folder = client.post(f"/api/v1/containers/{alice.home_id}/folders", json={"name": "shared"}, headers=alice.auth)
    folder_id = folder.get_json()["id"]
    file_id = upload(client, alice, folder_id, "guest.docx", b"x")
    link = found.links.create(parse_resource_id(folder_id if on_folder else file_id), LinkRole.EDITOR, alice.id)
    token = found.tokens.issue(
        file_id=parse_resource_id(file_id), user_id=f"public-{link.id}", view_mode=ViewMode.WRITE,
        audience=audience_for(APP_NAME), link_id=link.id, claims={"name": "Guest"},
    ).token
    caller = WopiCaller(client, stand_in, token, file_id)
    info = caller.check_file_info().get_json()
    assert info["IsAnonymousUser"] is True and info["UserFriendlyName"] == "Guest"
    assert info["UserCanNotWriteRelative"] is (not on_folder)
    assert caller.post("PUT_RELATIVE", {"X-WOPI-SuggestedTarget": ".odt"}, b"copy").status_code == relative_status
    caller.lock("guest")
    assert caller.put_file(b"guest edit", lock="guest").status_code == 200
    versions = found.storage.list_versions(parse_resource_id(file_id))
    assert versions[0].author_name == "Guest" and versions[0].author_id is None
    found.links.revoke(link.id)
    assert caller.check_file_info().status_code == 401

