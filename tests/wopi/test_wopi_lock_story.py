"""A WOPI lock binds every writer, tried as users and clients would: the file API and the
registry while a WOPI client holds a file, the unlock/save race, Collabora's timestamp check
and save flags, PutRelativeFile targets, and a lock lost while a PutFile body is on its way."""

from __future__ import annotations

import io
import time
from collections.abc import Callable, Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from core.events import LockChanged
from core.tokens import ViewMode
from registry.providers import audience_for
from server.services import services_of
from storage.metadata.schema import pending_blobs
from tests.conftest import TestUser, upload
from tests.wopi.conftest import APP_NAME, PUBLIC_URL, WopiCaller, issue_token
from tests.wopi.wopi_client import WopiClientStandIn, serve

GRACE = 0.5


@pytest.fixture
def collabora() -> Iterator[WopiClientStandIn]:
    with serve(WopiClientStandIn(shape="collabora")) as client:
        yield client


@pytest.fixture
def app(make_app: Callable[..., Flask], stand_in: WopiClientStandIn, collabora: WopiClientStandIn) -> Flask:
    apps = [{"name": APP_NAME, "discovery_url": stand_in.discovery_url},
            {"name": "Collabora", "discovery_url": collabora.discovery_url}]
    return make_app(public_url=PUBLIC_URL, wopi={"apps": apps, "unlock_grace_seconds": GRACE})


@pytest.fixture
def office(app: Flask, client: FlaskClient, stand_in: WopiClientStandIn) -> Callable[[TestUser, str], WopiCaller]:
    def make(user: TestUser, file_id: str) -> WopiCaller:
        return WopiCaller(client, stand_in, issue_token(app, user, file_id), file_id)

    return make


@pytest.fixture
def collabora_caller(app: Flask, client: FlaskClient, collabora: WopiClientStandIn) -> Callable[[TestUser, str], WopiCaller]:
    def make(user: TestUser, file_id: str) -> WopiCaller:
        return WopiCaller(client, collabora, issue_token(app, user, file_id, app_name="Collabora"), file_id)

    return make


def test_a_wopi_lock_refuses_api_writes_with_423_naming_the_holder(
    app: Flask, client: FlaskClient, office: Callable[[TestUser, str], WopiCaller], alice: TestUser
) -> None:
    seen: list[LockChanged] = []
    services_of(app).events.subscribe(LockChanged, seen.append)
    auth = alice.auth
    folder_id = client.post(f"/api/v1/containers/{alice.home_id}/folders", json={"name": "Q4"}, headers=auth).get_json()["id"]
    file_id = upload(client, alice, folder_id, "report.docx", b"v1")
    caller = office(alice, file_id)
    assert caller.lock("L").status_code == 200
    assert caller.put_file(b"v2", lock="L").status_code == 200
    refused = {
        "upload": client.put(f"/api/v1/containers/{folder_id}/files/report.docx", data=b"api", headers=auth),
        "rename": client.patch(f"/api/v1/files/{file_id}", json={"name": "renamed.docx"}, headers=auth),
        "delete": client.delete(f"/api/v1/files/{file_id}", headers=auth),
        "restore": client.post(f"/api/v1/files/{file_id}/versions/1/restore", headers=auth),
        "delete folder": client.delete(f"/api/v1/files/{folder_id}", headers=auth),
    }
    for what, answer in refused.items():
        assert answer.status_code == 423, (what, answer.get_data(as_text=True))
        body = answer.get_json()
        assert body["code"] == "LOCKED"
        assert {key: body["lock"][key] for key in ("app", "user", "kind")} == {"app": APP_NAME, "user": "alice", "kind": "wopi"}
        assert body["lock"]["expires_at"].endswith("Z")
        assert "being edited in Office by alice" in body["message"], what
    # Nothing changed, and the file says who holds it.
    info = client.get(f"/api/v1/files/{file_id}", headers=auth).get_json()
    assert (info["name"], info["version"], info["lock"]["app"]) == ("report.docx", 2, APP_NAME)
    listing = client.get(f"/api/v1/containers/{folder_id}", headers=auth).get_json()
    assert listing["children"][0]["lock"]["user"] == "alice"
    assert caller.unlock("L").status_code == 200
    assert client.put(f"/api/v1/containers/{folder_id}/files/report.docx", data=b"api", headers=auth).status_code == 200
    assert client.get(f"/api/v1/files/{file_id}", headers=auth).get_json()["lock"] is None
    assert [(event.change, event.kind, event.user_id) for event in seen] == [
        ("locked", "wopi", alice.id), ("unlocked", "wopi", alice.id)]


def test_another_app_opens_a_locked_file_read_only_and_says_who_edits_it(
    app: Flask, client: FlaskClient, office: Callable[[TestUser, str], WopiCaller],
    collabora_caller: Callable[[TestUser, str], WopiCaller], alice: TestUser,
) -> None:
    file_id = upload(client, alice, alice.home_id, "plan.docx", b"v1")
    assert collabora_caller(alice, file_id).lock("C").status_code == 200
    opened = client.post("/app/open", data={"file_id": file_id, "app_name": APP_NAME}, headers=alice.auth).get_json()
    assert opened["message"] == "being edited in Collabora by alice"
    assert opened["locked_by"]["app"] == "Collabora" and opened["locked_by"]["user"] == "alice"
    assert "/word/view.aspx" in opened["app_url"]
    grant = services_of(app).tokens.verify(opened["form_parameters"]["access_token"], audience=audience_for(APP_NAME))
    assert grant.view_mode is ViewMode.READ
    # In the app that holds it, the file opens for co-editing.
    same_app = client.post("/app/open", data={"file_id": file_id, "app_name": "Collabora"}, headers=alice.auth).get_json()
    assert "locked_by" not in same_app and "message" not in same_app
    # A client holding a write token from before the lock opens it read-only too.
    late = office(alice, file_id)
    info = late.check_file_info().get_json()
    assert (info["UserCanWrite"], info["ReadOnly"]) == (False, True)
    locked = late.lock("O")
    assert locked.status_code == 409 and locked.headers["X-WOPI-Lock"] == "C"


def test_a_save_racing_its_own_unlock_is_accepted_for_a_grace_period(
    client: FlaskClient, office: Callable[[TestUser, str], WopiCaller],
    collabora_caller: Callable[[TestUser, str], WopiCaller], alice: TestUser,
) -> None:
    file_id = upload(client, alice, alice.home_id, "close.docx", b"before")
    caller = office(alice, file_id)
    caller.lock("session")
    caller.unlock("session")
    assert caller.put_file(b"exit save", lock="session").status_code == 200  # the race: Unlock came first
    assert caller.get_file().data == b"exit save"
    for refused in (caller.put_file(b"no lock"), collabora_caller(alice, file_id).put_file(b"other app", lock="session")):
        assert refused.status_code == 409 and refused.headers["X-WOPI-Lock"] == ""
    time.sleep(GRACE + 0.1)
    late = caller.put_file(b"too late", lock="session")
    assert late.status_code == 409 and late.headers["X-WOPI-Lock"] == ""
    assert caller.get_file().data == b"exit save"


def test_collabora_timestamp_detects_changes_made_elsewhere_and_save_flags_are_kept(
    client: FlaskClient, collabora_caller: Callable[[TestUser, str], WopiCaller], alice: TestUser
) -> None:
    file_id = upload(client, alice, alice.home_id, "sheet.docx", b"v1")
    cool = collabora_caller(alice, file_id)
    seen = cool.check_file_info().get_json()["LastModifiedTime"]
    assert cool.lock("C").status_code == 200

    def put(data: bytes, timestamp: str, **flags: str) -> tuple[int, dict[str, object]]:
        path = cool.path("/contents")
        headers = {"X-WOPI-Override": "PUT", "X-WOPI-Lock": "C", "X-COOL-WOPI-Timestamp": timestamp,
                   **{f"X-COOL-WOPI-{name}": value for name, value in flags.items()}}
        answer = client.post(path, data=data, headers=cool._headers(path, headers))
        return answer.status_code, answer.get_json()

    status, body = put(b"v2", seen, IsAutosave="true", IsExitSave="false", IsModifiedByUser="true")
    assert status == 200
    following = str(body["LastModifiedTime"])
    assert following != seen
    assert put(b"stale", seen) == (409, {"COOLStatusCode": 1010})
    # A rename keeps the file's modified time: the next save still matches.
    assert cool.post("RENAME_FILE", {"X-WOPI-RequestedName": "budget", "X-WOPI-Lock": "C"}).status_code == 200
    assert cool.check_file_info().get_json()["LastModifiedTime"] == following
    status, _body = put(b"v3", following, IsAutosave="false", IsExitSave="true", IsModifiedByUser="false")
    assert status == 200
    # Saved by someone else meanwhile (the lock lapsed, the API wrote): 1010, nothing stored.
    latest = cool.check_file_info().get_json()["LastModifiedTime"]
    assert cool.unlock("C").status_code == 200
    assert client.put(f"/api/v1/containers/{alice.home_id}/files/budget.docx", data=b"api", headers=alice.auth).status_code == 200
    assert cool.lock("C").status_code == 200
    assert put(b"overwrites the upload", latest) == (409, {"COOLStatusCode": 1010})
    versions = client.get(f"/api/v1/files/{file_id}/versions", headers=alice.auth).get_json()["versions"]
    assert [(v["version"], v["save_kind"], v["modified_by_user"]) for v in versions] == [
        (4, None, None), (3, "exit-save", False), (2, "autosave", True), (1, None, None)]


def test_put_relative_never_replaces_a_locked_target(
    client: FlaskClient, office: Callable[[TestUser, str], WopiCaller], alice: TestUser
) -> None:
    source = office(alice, upload(client, alice, alice.home_id, "draft.docx", b"draft"))
    target_id = upload(client, alice, alice.home_id, "final.docx", b"final")
    assert office(alice, target_id).lock("T").status_code == 200
    answer = source.post("PUT_RELATIVE", {"X-WOPI-RelativeTarget": "final.docx", "X-WOPI-OverwriteRelativeTarget": "true"},
                         b"overwrite")
    assert answer.status_code == 409 and answer.headers["X-WOPI-Lock"] == "T"
    assert office(alice, target_id).get_file().data == b"final"


class UnlockingBody(io.BytesIO):
    """A PutFile body that, half-way, has another client take the file from the saver."""

    def __init__(self, content: bytes, take_over: Callable[[], None]) -> None:
        super().__init__(content)
        self.take_over: Callable[[], None] | None = take_over

    def read(self, size: int | None = -1) -> bytes:
        if self.take_over is not None and self.tell() >= len(self.getvalue()) // 2:
            take_over, self.take_over = self.take_over, None
            take_over()
        return super().read(min(size, 8192) if size and size > 0 else 8192)


def test_a_lock_lost_while_the_put_file_body_streams_stores_nothing(
    app: Flask, client: FlaskClient, stand_in: WopiClientStandIn, office: Callable[[TestUser, str], WopiCaller],
    alice: TestUser,
) -> None:
    file_id = upload(client, alice, alice.home_id, "big.docx", b"v1")
    saver = office(alice, file_id)
    assert saver.lock("A").status_code == 200
    # The other client talks to Docbridge over a client of its own, while the save is on its way.
    other = WopiCaller(app.test_client(), stand_in, issue_token(app, alice, file_id), file_id)

    def take_over() -> None:
        assert other.unlock("A").status_code == 200
        assert other.lock("B").status_code == 200

    body = UnlockingBody(b"x" * 200_000, take_over)
    path = saver.path("/contents")
    answer = client.post(path, input_stream=body, content_length=len(body.getvalue()),
                         headers=saver._headers(path, {"X-WOPI-Override": "PUT", "X-WOPI-Lock": "A"}))
    assert body.take_over is None, "the lock changed before the body was read"
    assert answer.status_code == 409 and answer.headers["X-WOPI-Lock"] == "B"
    assert saver.get_file().data == b"v1"
    versions = client.get(f"/api/v1/files/{file_id}/versions", headers=alice.auth).get_json()["versions"]
    assert [version["version"] for version in versions] == [1]
    found = services_of(app)
    with found.engine.connect() as connection:
        assert connection.execute(select(pending_blobs)).all() == []
    assert len(list(found.blobs.keys())) == 1
