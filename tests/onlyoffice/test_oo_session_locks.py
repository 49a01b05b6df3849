"""An ONLYOFFICE editing session holds the file's one lock, against WOPI clients and the
file API, and a save that cannot go into the file is kept as a conflict copy beside it.

Docbridge runs with the ONLYOFFICE driver (a Document Server stand-in) and a WOPI client
(the stand-in's discovery) at once, as a site offering both does."""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask

from core.events import ConflictCopySaved
from core.ids import parse_resource_id
from core.tokens import ViewMode
from server.services import services_of
from tests.conftest import TestUser
from tests.onlyoffice.conftest import CONFIG_PATTERN, DS_SECRET, Docbridge
from tests.onlyoffice.ds_standin import DocumentServerStandIn
from tests.support.net import free_port, serve_wsgi
from tests.wopi.conftest import WopiCaller, issue_token
from tests.wopi.wopi_client import WopiClientStandIn, serve

ORIGINAL = b"PK-original"
EDITED = b"PK-edited in ONLYOFFICE"
WOPI_APP = "Office"


@dataclass
class Site:
    docbridge: Docbridge
    ds: DocumentServerStandIn
    wopi_client: WopiClientStandIn

    @property
    def client(self) -> Any:
        return self.docbridge.client

    def wopi(self, user: TestUser, file_id: str) -> WopiCaller:
        app = self.docbridge.app
        return WopiCaller(self.client, self.wopi_client, issue_token(app, user, file_id, app_name=WOPI_APP), file_id,
                          sign=False)

    def editor(self, user: TestUser, file_id: str) -> tuple[dict[str, Any], str, dict[str, str]]:
        """Open the editor page as the browser does: the config, the page, the launch form."""
        page, form = self.docbridge.editor_page(user, file_id)
        found = CONFIG_PATTERN.search(page)
        assert found, page
        return json.loads(found.group(1)), page, form


def site_settings(ds: DocumentServerStandIn, wopi_client: WopiClientStandIn, base: str, **onlyoffice: Any) -> dict[str, Any]:
    return {
        "public_url": base,
        "onlyoffice": {"document_server_url": ds.base, "jwt_secret": DS_SECRET, "docbridge_url_for_document_server": base,
                       "timeout_seconds": 10, **onlyoffice},
        "wopi": {"apps": [{"name": WOPI_APP, "discovery_url": wopi_client.discovery_url}], "proof_keys": "off"},
    }


@pytest.fixture
def make_site(make_app: Callable[..., Flask], ds: DocumentServerStandIn) -> Iterator[Callable[..., Site]]:
    with ExitStack() as stack:
        wopi_client = stack.enter_context(serve(WopiClientStandIn()))

        def make(**onlyoffice: Any) -> Site:
            port = free_port()
            base = f"http://127.0.0.1:{port}"
            app = make_app(**site_settings(ds, wopi_client, base, **onlyoffice))
            stack.enter_context(serve_wsgi(app, port))
            return Site(Docbridge(app, base, app.test_client()), ds, wopi_client)

        yield make


@pytest.fixture
def site(make_site: Callable[..., Site]) -> Site:
    return make_site()


def test_a_session_holds_the_file_against_wopi_clients_and_the_api(site: Site) -> None:
    docbridge, ds = site.docbridge, site.ds
    alice = docbridge.user("alice")
    file_id = docbridge.upload(alice, "Report.docx", ORIGINAL)
    config, _page, _form = site.editor(alice, file_id)
    assert config["editorConfig"]["mode"] == "edit"
    session = ds.open(config)
    key = session.key

    # A WOPI client is told who holds the file; it never sees the session's key.
    wopi = site.wopi(alice, file_id)
    for answer in (wopi.lock("W"), wopi.lock(key), wopi.post("GET_LOCK")):
        assert answer.status_code == 409
        assert answer.headers["X-WOPI-Lock"] == ""
        assert answer.headers["X-WOPI-LockedByOtherInterface"] == "true"
        assert answer.headers["X-WOPI-LockFailureReason"] == "the file is being edited in OnlyOffice by alice"
    info = wopi.check_file_info().get_json()
    assert info["UserCanWrite"] is False
    assert wopi.put_file(b"wopi save", lock="W").status_code == 409
    opened = site.client.post("/app/open", data={"file_id": file_id, "app_name": WOPI_APP}, headers=alice.auth).get_json()
    assert opened["message"] == "being edited in OnlyOffice by alice" and "/word/view.aspx" in opened["app_url"]

    # The file API too: 423 with the lock.
    auth = alice.auth
    for answer in (
        site.client.put(f"/api/v1/containers/{alice.home_id}/files/Report.docx", data=b"api", headers=auth),
        site.client.patch(f"/api/v1/files/{file_id}", json={"name": "Other.docx"}, headers=auth),
        site.client.delete(f"/api/v1/files/{file_id}", headers=auth),
        site.client.post(f"/api/v1/files/{file_id}/versions/1/restore", headers=auth),
    ):
        assert answer.status_code == 423
        assert answer.get_json()["lock"]["kind"] == "session" and answer.get_json()["lock"]["app"] == "OnlyOffice"
    assert site.client.get(f"/api/v1/files/{file_id}", headers=auth).get_json()["lock"]["user"] == "alice"

    # Co-editors in the same session share its lock.
    link = site.client.post(f"/api/v1/files/{file_id}/links", json={"role": "editor"}, headers=auth).get_json()
    launch = site.client.post("/app/open", data={"file_id": file_id, "app_name": "OnlyOffice"},
                              headers={"Public-Token": link["token"]}).get_json()
    assert "locked_by" not in launch
    guest_page = site.client.post(urlsplit(launch["app_url"]).path, data=launch["form_parameters"]).get_data(as_text=True)
    guest_config = json.loads(CONFIG_PATTERN.search(guest_page).group(1))  # type: ignore[union-attr]
    assert guest_config["document"]["key"] == key and guest_config["editorConfig"]["mode"] == "edit"
    ds.open(guest_config)

    # The final save ends the session and its lock: WOPI and the API may write again.
    ds.edit(key, alice.id, EDITED)
    ds.close(key, guest_config["editorConfig"]["user"]["id"])
    saved = ds.close(key, alice.id)
    assert saved is not None and saved.body["status"] == 2 and saved.answers == [(200, {"error": 0})]
    assert docbridge.content(alice, file_id) == EDITED
    assert site.client.get(f"/api/v1/files/{file_id}", headers=auth).get_json()["lock"] is None
    assert wopi.lock("W").status_code == 200
    assert wopi.unlock("W").status_code == 200
    assert site.client.put(f"/api/v1/containers/{alice.home_id}/files/Report.docx", data=b"api", headers=auth).status_code == 200
    versions = docbridge.versions(alice, file_id)
    assert [v["save_kind"] for v in versions] == [None, "exit-save", None]


def test_closing_without_changes_releases_the_lock(site: Site) -> None:
    alice = site.docbridge.user("alice")
    file_id = site.docbridge.upload(alice, "Notes.docx", ORIGINAL)
    config, _page, _form = site.editor(alice, file_id)
    session = site.ds.open(config)
    assert site.wopi(alice, file_id).lock("W").status_code == 409
    closed = site.ds.close(session.key, alice.id)
    assert closed is not None and closed.body["status"] == 4
    assert site.wopi(alice, file_id).lock("W").status_code == 200


def test_a_file_a_wopi_client_holds_opens_in_view_mode_and_says_why(site: Site) -> None:
    alice = site.docbridge.user("alice")
    file_id = site.docbridge.upload(alice, "Report.docx", ORIGINAL)
    assert site.wopi(alice, file_id).lock("W").status_code == 200
    launch = site.client.post("/app/open", data={"file_id": file_id, "app_name": "OnlyOffice"}, headers=alice.auth)
    assert launch.get_json()["message"] == "being edited in Office by alice"
    config, page, _form = site.editor(alice, file_id)
    assert config["editorConfig"]["mode"] == "view" and config["document"]["permissions"]["edit"] is False
    # A write token from before the lock: the page itself opens read-only and says why.
    token = services_of(site.docbridge.app).tokens.issue(
        file_id=parse_resource_id(file_id), user_id=alice.id, view_mode=ViewMode.WRITE, audience="app:OnlyOffice",
        claims={"name": "alice"}).token
    page = site.client.post("/onlyoffice/editor", data={"access_token": token}).get_data(as_text=True)
    assert "Read-only: Report.docx is being edited in Office by alice." in page
    assert json.loads(CONFIG_PATTERN.search(page).group(1))["editorConfig"]["mode"] == "view"  # type: ignore[union-attr]


def test_the_editor_page_renews_the_session_lock_until_another_writer_has_the_file(site: Site) -> None:
    alice = site.docbridge.user("alice")
    file_id = site.docbridge.upload(alice, "Report.docx", ORIGINAL)
    config, page, form = site.editor(alice, file_id)
    page_data = json.loads(page.split('id="docbridge-page">', 1)[1].split("</script>", 1)[0])
    assert page_data["heartbeatSeconds"] == 900 // 4
    key = config["document"]["key"]
    before = site.client.get(f"/api/v1/files/{file_id}", headers=alice.auth).get_json()["lock"]["expires_at"]
    time.sleep(0.01)
    beat = site.client.post("/onlyoffice/heartbeat", json={"access_token": form["access_token"], "key": key})
    assert beat.status_code == 200 and beat.get_json()["expires_at"] > before
    # An admin releases the lock; a WOPI client takes the file: the page is told.
    assert site.docbridge.app.test_cli_runner().invoke(args=["lock", "release", file_id]).exit_code == 0
    assert site.wopi(alice, file_id).lock("W").status_code == 200
    lost = site.client.post("/onlyoffice/heartbeat", json={"access_token": form["access_token"], "key": key})
    assert lost.status_code == 423
    assert lost.get_json()["message"] == "the file is being edited in Office by alice"
    ended = site.client.post("/onlyoffice/heartbeat", json={"access_token": form["access_token"], "key": "not-the-key"})
    assert ended.status_code == 409


def test_saves_of_a_session_that_lost_its_file_go_to_one_conflict_copy(make_site: Callable[..., Site]) -> None:
    site = make_site(session_lock_seconds=1)
    docbridge, ds = site.docbridge, site.ds
    copies: list[ConflictCopySaved] = []
    services_of(docbridge.app).events.subscribe(ConflictCopySaved, copies.append)
    alice = docbridge.user("alice")
    file_id = docbridge.upload(alice, "Report.docx", ORIGINAL)
    config, _page, _form = site.editor(alice, file_id)
    session = ds.open(config)
    key = session.key
    ds.edit(key, alice.id, b"PK-first edit")
    ds.forcesave(key).join(timeout=30)  # saved while the session held the file
    assert docbridge.content(alice, file_id) == b"PK-first edit"
    time.sleep(1.1)  # nobody renews the lock: it lapses, and an upload goes in
    upload = site.client.put(f"/api/v1/containers/{alice.home_id}/files/Report.docx", data=b"uploaded", headers=alice.auth)
    assert upload.status_code == 200
    ds.edit(key, alice.id, b"PK-second edit")
    forcesaved = ds.forcesave(key)
    forcesaved.join(timeout=30)
    ds.edit(key, alice.id, b"PK-last edit")
    final = ds.close(key, alice.id)
    assert final is not None and final.answers == [(200, {"error": 0})]
    assert all(record.answers[-1] == (200, {"error": 0}) for record in ds.callbacks)

    # The upload stays the file; the session's saves are both in one copy beside it.
    assert docbridge.content(alice, file_id) == b"uploaded"
    listing = site.client.get(f"/api/v1/containers/{alice.home_id}", headers=alice.auth).get_json()
    names = sorted(child["name"] for child in listing["children"])
    assert len(names) == 2 and names[0] == "Report (conflict " + names[0][len("Report (conflict "):]
    copy_name = next(name for name in names if name != "Report.docx")
    assert copy_name.endswith(" alice).docx")
    copy = next(child for child in listing["children"] if child["name"] == copy_name)
    assert docbridge.content(alice, copy["id"]) == b"PK-last edit"
    kept = docbridge.versions(alice, copy["id"])
    assert [v["sha256"] for v in kept] == [hashlib.sha256(b).hexdigest() for b in (b"PK-second edit", b"PK-last edit")]
    assert "kept beside Report.docx" in kept[0]["comment"]
    assert [(event.file_id, event.copy_name, event.owner_id, event.author_id) for event in copies] == [
        (parse_resource_id(file_id), copy_name, alice.id, alice.id)]
    # The next session starts from the file as it is.
    assert ds.open(site.editor(alice, file_id)[0]).content == b"uploaded"


def test_a_final_save_while_a_wopi_client_holds_the_file_is_kept_as_a_copy(site: Site) -> None:
    docbridge, ds = site.docbridge, site.ds
    alice = docbridge.user("alice")
    file_id = docbridge.upload(alice, "Plan.docx", ORIGINAL)
    config, _page, _form = site.editor(alice, file_id)
    session = ds.open(config)
    ds.edit(session.key, alice.id, EDITED)
    assert docbridge.app.test_cli_runner().invoke(args=["lock", "release", file_id]).exit_code == 0
    wopi = site.wopi(alice, file_id)
    assert wopi.lock("W").status_code == 200
    assert wopi.put_file(b"PK-saved in Office", lock="W").status_code == 200
    saved = ds.close(session.key, alice.id)
    assert saved is not None and saved.answers == [(200, {"error": 0})]
    assert docbridge.content(alice, file_id) == b"PK-saved in Office"
    children = site.client.get(f"/api/v1/containers/{alice.home_id}", headers=alice.auth).get_json()["children"]
    copy = next(child for child in children if child["name"].startswith("Plan (conflict "))
    assert docbridge.content(alice, copy["id"]) == EDITED
    # Refused before a byte was read: the copy came from the same answer, fetched once.
    assert len([cache_id for cache_id in ds.cache_requests if not cache_id.endswith("_changes")]) == 1
    assert wopi.check_file_info().get_json()["UserCanWrite"] is True  # the Office lock still holds


def test_a_save_refused_only_when_it_commits_fetches_the_bytes_again_for_the_copy(
        site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    """A WOPI client takes the file while the save's bytes are being stored: the stream
    was read to its end, so the conflict copy is made from the DS's link fetched again."""
    docbridge, ds = site.docbridge, site.ds
    alice = docbridge.user("alice")
    file_id = docbridge.upload(alice, "Plan.docx", ORIGINAL)
    config, _page, _form = site.editor(alice, file_id)
    session = ds.open(config)
    edited = b"PK-edited " + os.urandom(3 << 20)
    ds.edit(session.key, alice.id, edited)
    services = services_of(docbridge.app)
    wopi = site.wopi(alice, file_id)
    store_blob = services.blobs.put
    taken: list[bool] = []

    def store_then_lose_the_file(key: str, content: Any, **kwargs: Any) -> Any:
        stored = store_blob(key, content, **kwargs)
        if not taken:
            taken.append(True)
            services.locks.release(parse_resource_id(file_id))
            assert wopi.lock("W").status_code == 200
        return stored

    monkeypatch.setattr(services.blobs, "put", store_then_lose_the_file)
    saved = ds.close(session.key, alice.id)
    assert saved is not None and saved.answers == [(200, {"error": 0})]
    assert docbridge.content(alice, file_id) == ORIGINAL
    children = site.client.get(f"/api/v1/containers/{alice.home_id}", headers=alice.auth).get_json()["children"]
    copy = next(child for child in children if child["name"].startswith("Plan (conflict "))
    assert docbridge.content(alice, copy["id"]) == edited
    saved_state_fetches = [cache_id for cache_id in ds.cache_requests if not cache_id.endswith("_changes")]
    assert len(saved_state_fetches) == 2 and len(set(saved_state_fetches)) == 1


def test_a_session_whose_file_changed_and_was_reopened_keeps_its_save_in_a_copy(site: Site) -> None:
    """The session's lock lapsed, a WOPI client saved, and the file was opened in ONLYOFFICE
    again (a new key, from the new version): the old session's save is no stale replay."""
    docbridge, ds = site.docbridge, site.ds
    alice = docbridge.user("alice")
    file_id = docbridge.upload(alice, "Budget.docx", ORIGINAL)
    first = ds.open(site.editor(alice, file_id)[0])
    ds.edit(first.key, alice.id, EDITED)
    assert docbridge.app.test_cli_runner().invoke(args=["lock", "release", file_id]).exit_code == 0
    wopi = site.wopi(alice, file_id)
    assert wopi.lock("W").status_code == 200 and wopi.put_file(b"PK-from Office", lock="W").status_code == 200
    assert wopi.unlock("W").status_code == 200
    reopened, _page, _form = site.editor(alice, file_id)
    assert reopened["document"]["key"] != first.key and reopened["editorConfig"]["mode"] == "edit"
    second = ds.open(reopened)
    assert second.content == b"PK-from Office"
    late = ds.close(first.key, alice.id)
    assert late is not None and late.body["status"] == 2 and late.answers == [(200, {"error": 0})]
    assert docbridge.content(alice, file_id) == b"PK-from Office"
    children = site.client.get(f"/api/v1/containers/{alice.home_id}", headers=alice.auth).get_json()["children"]
    copy = next(child for child in children if child["name"].startswith("Budget (conflict "))
    assert docbridge.content(alice, copy["id"]) == EDITED
    # The new session still holds the file, and saves into it.
    held = next(child for child in children if child["name"] == "Budget.docx")["lock"]
    assert held["kind"] == "session"
    ds.edit(second.key, alice.id, b"PK-second session")
    assert ds.close(second.key, alice.id).answers == [(200, {"error": 0})]  # type: ignore[union-attr]
    assert docbridge.content(alice, file_id) == b"PK-second session"
