"""Journeys: Docbridge and a Document Server stand-in talking HTTP over loopback."""

from __future__ import annotations

import base64
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import pytest
import requests

from tests.conftest import ADMIN_PASSWORD, TestUser, basic_auth
from tests.onlyoffice.conftest import CONFIG_PATTERN, DS_SECRET, Docbridge
from tests.onlyoffice.ds_standin import DocumentServerStandIn, Session, wait_for


class _Redirector:
    """Another loopback server: where a redirecting Document Server would send Docbridge."""

    def __init__(self) -> None:
        self.hits = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802
                outer.hits += 1
                self.send_response(200)
                self.send_header("Content-Length", "4")
                self.end_headers()
                self.wfile.write(b"evil")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}/"

    def __enter__(self) -> _Redirector:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


ORIGINAL = b"PK-original-docx-bytes"
EDITED = b"PK-edited-docx-bytes"


def _editing(docbridge: Docbridge, ds: DocumentServerStandIn) -> tuple[TestUser, str, dict[str, Any], Session]:
    """Alice opens Report.docx in the stand-in and changes it (not yet saved)."""
    alice = docbridge.user("alice")
    file_id = docbridge.upload(alice, "Report.docx", ORIGINAL)
    config = docbridge.open_config(alice, file_id)
    session = ds.open(config)
    ds.edit(session.key, alice.id, EDITED)
    return alice, file_id, config, session


def test_open_edit_close_saves_a_new_version_and_a_new_key(docbridge: Docbridge, ds: DocumentServerStandIn) -> None:
    alice = docbridge.user("alice")
    file_id = docbridge.upload(alice, "Report.docx", ORIGINAL)
    config = docbridge.open_config(alice, file_id)
    session = ds.open(config)
    assert session.content == ORIGINAL
    ds.edit(session.key, alice.id, EDITED)
    record = ds.close(session.key, alice.id)
    assert record is not None and record.answers[-1] == (200, {"error": 0})
    versions = docbridge.versions(alice, file_id)
    assert [v["version"] for v in versions] == [1, 2]
    assert docbridge.content(alice, file_id) == EDITED
    assert versions[-1]["author_id"] == alice.id
    again = docbridge.open_config(alice, file_id)
    assert again["document"]["key"] != config["document"]["key"]
    assert ds.open(again).content == EDITED


def test_forcesave_keeps_the_key_and_close_with_notmodified_adds_nothing(docbridge: Docbridge,
                                                                         ds: DocumentServerStandIn) -> None:
    alice = docbridge.user("alice")
    file_id = docbridge.upload(alice, "Sheet.xlsx", ORIGINAL)
    admin_headers = basic_auth("admin", ADMIN_PASSWORD)
    config = docbridge.open_config(alice, file_id)
    session = ds.open(config)
    ds.edit(session.key, alice.id, EDITED)
    answer = docbridge.client.post("/api/v1/admin/onlyoffice/command", json={"command": "forcesave", "file_id": file_id},
                                   headers=admin_headers)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert answer.get_json()["saved"] is True
    wait_for(lambda: any(r.body["status"] == 6 and r.answers for r in ds.callbacks))
    assert [r.answers for r in ds.callbacks if r.body["status"] == 6] == [[(200, {"error": 0})]]
    assert [v["version"] for v in docbridge.versions(alice, file_id)] == [1, 2]
    assert docbridge.content(alice, file_id) == EDITED
    # The session goes on: a second opener joins it with the same key.
    assert docbridge.open_config(alice, file_id)["document"]["key"] == config["document"]["key"]
    nothing = docbridge.client.post("/api/v1/admin/onlyoffice/command", json={"command": "forcesave", "file_id": file_id},
                                    headers=admin_headers)
    assert nothing.get_json()["saved"] is False
    record = ds.close(session.key, alice.id)
    assert record is not None and record.body["notmodified"] is True
    assert record.answers == [(200, {"error": 0})]
    assert [v["version"] for v in docbridge.versions(alice, file_id)] == [1, 2]
    assert docbridge.open_config(alice, file_id)["document"]["key"] != config["document"]["key"]


def test_two_co_editors_share_a_key_and_the_last_author_saves(docbridge: Docbridge, ds: DocumentServerStandIn) -> None:
    alice = docbridge.user("alice")
    bob = docbridge.user("bob")
    folder = docbridge.client.post(f"/api/v1/containers/{alice.home_id}/folders", json={"name": "Shared"},
                                   headers=alice.auth)
    assert folder.status_code == 201
    file_id = docbridge.upload(alice, "Plan.docx", ORIGINAL)
    link = docbridge.client.post(f"/api/v1/files/{file_id}/links", json={"role": "editor"}, headers=alice.auth)
    assert link.status_code in (200, 201), link.get_data(as_text=True)
    link_headers = {"Public-Token": link.get_json()["token"]}
    first = docbridge.open_config(alice, file_id)
    launch = docbridge.client.post("/app/open", query_string={"file_id": file_id, "app_name": "OnlyOffice"},
                                   headers=link_headers)
    assert launch.status_code == 200, launch.get_data(as_text=True)
    page = docbridge.client.post("/onlyoffice/editor", data=launch.get_json()["form_parameters"])
    second = json.loads(CONFIG_PATTERN.search(page.get_data(as_text=True)).group(1))  # type: ignore[union-attr]
    assert second["document"]["key"] == first["document"]["key"]
    assert second["editorConfig"]["user"]["id"] != first["editorConfig"]["user"]["id"]
    session = ds.open(first)
    ds.open(second)
    joined = [r for r in ds.callbacks if r.body["status"] == 1]
    assert all(r.answers == [(200, {"error": 0})] for r in joined)
    assert len(ds.downloads) == 1  # the second opener joins the session, no new download
    ds.edit(session.key, bob.id, b"bob was not here")
    ds.edit(session.key, alice.id, EDITED)
    left = ds.close(session.key, second["editorConfig"]["user"]["id"])
    assert left is not None and left.body["status"] == 1
    saved = ds.close(session.key, alice.id)
    assert saved is not None and saved.answers == [(200, {"error": 0})]
    versions = docbridge.versions(alice, file_id)
    assert [v["version"] for v in versions] == [1, 2]
    assert versions[-1]["author_id"] == alice.id
    assert docbridge.content(alice, file_id) == EDITED


def test_save_error_keeps_the_current_version_and_stores_the_recovered_bytes(docbridge: Docbridge,
                                                                              ds: DocumentServerStandIn) -> None:
    alice = docbridge.user("alice")
    file_id = docbridge.upload(alice, "Broken.pptx", ORIGINAL)
    session = ds.open(docbridge.open_config(alice, file_id))
    ds.edit(session.key, alice.id, b"half-assembled")
    record = ds.fail_save(session.key, alice.id)
    assert record.answers == [(200, {"error": 0})]
    versions = docbridge.versions(alice, file_id)
    assert [(v["version"], v["current"], v["recovered"]) for v in versions] == [(1, True, False), (2, False, True)]
    assert docbridge.content(alice, file_id) == ORIGINAL
    recovered = docbridge.client.get(f"/api/v1/files/{file_id}/versions/2/content", headers=alice.auth)
    assert recovered.get_data() == b"half-assembled"


def test_replayed_and_stale_callbacks_store_nothing(docbridge: Docbridge, ds: DocumentServerStandIn) -> None:
    alice, file_id, config, session = _editing(docbridge, ds)
    saved = ds.close(session.key, alice.id)
    assert saved is not None and saved.answers == [(200, {"error": 0})]
    callback_url = config["editorConfig"]["callbackUrl"]
    replay = ds.post_callback(callback_url, saved.body)
    assert replay.answers == [(200, {"error": 0})]
    # A later session saves version 3; then a stale save of the first key arrives.
    second = ds.open(docbridge.open_config(alice, file_id))
    ds.edit(second.key, alice.id, b"third")
    ds.close(second.key, alice.id)
    stale_body = {**saved.body, "url": ds.save_body(session, 2, alice.id)["url"], "lastsave": "2030-01-01T00:00:00.000Z"}
    ds.cache[stale_body["url"].split("/")[6]] = (b"stale bytes", "docx")
    stale = ds.post_callback(callback_url, stale_body)
    assert stale.answers == [(200, {"error": 1})]
    assert [v["version"] for v in docbridge.versions(alice, file_id)] == [1, 2, 3]
    assert docbridge.content(alice, file_id) == b"third"


def _expired(body: dict[str, Any]) -> str:
    now = int(time.time())
    return jwt.encode({**body, "iat": now - 900, "exp": now - 600}, DS_SECRET, algorithm="HS256")


def _alg_none(body: dict[str, Any]) -> str:
    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part({**body, 'exp': int(time.time()) + 300})}."


@pytest.mark.parametrize("forgery", ["forged", "unsigned", "alg-none", "expired", "other-file"])
def test_bad_callback_tokens_are_refused_and_nothing_is_stored(docbridge: Docbridge, ds: DocumentServerStandIn,
                                                               forgery: str) -> None:
    alice = docbridge.user("alice")
    file_id = docbridge.upload(alice, "Report.docx", ORIGINAL)
    other_id = docbridge.upload(alice, "Other.docx", b"other")
    config = docbridge.open_config(alice, file_id)
    other_config = docbridge.open_config(alice, other_id)
    session = ds.open(config)
    ds.open(other_config)
    ds.edit(session.key, alice.id, EDITED)
    body = ds.save_body(session, 2, alice.id)
    url = config["editorConfig"]["callbackUrl"]
    headers = {"Content-Type": "application/json"}
    if forgery == "forged":
        raw = {**body, "token": jwt.encode({**body, "exp": int(time.time()) + 300}, "x" * 64, algorithm="HS256")}
    elif forgery == "unsigned":
        raw = dict(body)
    elif forgery == "alg-none":
        raw = {**body, "token": _alg_none(body)}
        headers["Authorization"] = "Bearer " + _alg_none({"payload": body})
    elif forgery == "expired":
        raw = {**body, "token": _expired(body)}
    else:  # a genuine DS token for this save, posted to the other file's callback URL
        raw, headers = ds.signed_callback(body)
        url = other_config["editorConfig"]["callbackUrl"]
    record = ds.post_callback(url, body, raw=raw, headers=headers)
    status, answer = record.answers[-1]
    assert status == 403 or answer == {"error": 1}
    assert answer != {"error": 0}
    for target in (file_id, other_id):
        assert [v["version"] for v in docbridge.versions(alice, target)] == [1]


@pytest.mark.parametrize("target", ["loopback", "link-local", "other-host", "redirect"])
def test_callback_urls_outside_the_document_server_are_refused(docbridge: Docbridge, ds: DocumentServerStandIn,
                                                               target: str) -> None:
    alice, file_id, config, session = _editing(docbridge, ds)
    with _Redirector() as redirector:
        urls = {
            "loopback": f"{docbridge.base}/api/v1/files/{file_id}/content",  # Docbridge itself, another port
            "link-local": "http://169.254.169.254/latest/meta-data/",
            "other-host": "http://files.example.org/evil.docx",
            "redirect": ds.base + "redirect-elsewhere",
        }
        ds.redirect_to = redirector.base
        body = ds.save_body(session, 2, alice.id, url=urls[target])
        record = ds.post_callback(config["editorConfig"]["callbackUrl"], body)
    assert record.answers[-1] == (200, {"error": 1})
    assert redirector.hits == 0
    assert [v["version"] for v in docbridge.versions(alice, file_id)] == [1]


def test_a_download_larger_than_the_cap_is_refused(start_docbridge: Any, ds: DocumentServerStandIn) -> None:
    docbridge = start_docbridge(ds.base, max_download_bytes=1000)
    alice = docbridge.user("alice")
    file_id = docbridge.upload(alice, "Report.docx", ORIGINAL)
    config = docbridge.open_config(alice, file_id)
    session = ds.open(config)
    ds.edit(session.key, alice.id, b"x" * 5000)
    record = ds.close(session.key, alice.id)
    assert record is not None and record.answers[-1] == (200, {"error": 1})
    assert [v["version"] for v in docbridge.versions(alice, file_id)] == [1]


@pytest.mark.parametrize("forgery", ["none", "forged", "alg-none", "expired", "other-url"])
def test_document_url_needs_the_document_server_token_for_that_url(docbridge: Docbridge, ds: DocumentServerStandIn,
                                                                  forgery: str) -> None:
    alice = docbridge.user("alice")
    file_id = docbridge.upload(alice, "Report.docx", ORIGINAL)
    other_id = docbridge.upload(alice, "Other.docx", b"other")
    url = docbridge.open_config(alice, file_id)["document"]["url"]
    other_url = docbridge.open_config(alice, other_id)["document"]["url"]
    good = requests.get(url, headers={"Authorization": "Bearer " + ds.sign({"payload": {"url": url}})}, timeout=10)
    assert good.status_code == 200 and good.content == ORIGINAL
    assert good.headers["Content-Length"] == str(len(ORIGINAL))
    tokens = {
        "none": None,
        "forged": jwt.encode({"payload": {"url": url}, "exp": int(time.time()) + 60}, "y" * 64, algorithm="HS256"),
        "alg-none": _alg_none({"payload": {"url": url}}),
        "expired": _expired({"payload": {"url": url}}),
        "other-url": ds.sign({"payload": {"url": other_url}}),
    }
    token = tokens[forgery]
    answer = requests.get(url, headers={"Authorization": f"Bearer {token}"} if token else {}, timeout=10)
    assert answer.status_code == 403
    assert ORIGINAL not in answer.content


def test_history_restore_and_history_data_are_signed(docbridge: Docbridge, ds: DocumentServerStandIn) -> None:
    alice = docbridge.user("alice")
    file_id = docbridge.upload(alice, "Report.docx", ORIGINAL)
    page, form = docbridge.editor_page(alice, file_id)
    session = ds.open(json.loads(CONFIG_PATTERN.search(page).group(1)))  # type: ignore[union-attr]
    ds.edit(session.key, alice.id, EDITED)
    ds.close(session.key, alice.id)
    token = form["access_token"]
    history = docbridge.client.post("/onlyoffice/history", json={"access_token": token}).get_json()
    assert history["currentVersion"] == 2
    assert [entry["version"] for entry in history["history"]] == [1, 2]
    assert history["history"][1]["serverVersion"] == "9.0.4"
    assert history["history"][1]["changes"][0]["user"]["id"] == alice.id
    data = docbridge.client.post("/onlyoffice/history-data", json={"access_token": token, "version": 2}).get_json()
    claims = jwt.decode(data["token"], DS_SECRET, algorithms=["HS256"])
    assert claims["version"] == 2 and claims["previous"]["key"] == data["previous"]["key"]
    assert requests.get(data["url"], headers={"Authorization": "Bearer " + ds.sign({"payload": {"url": data["url"]}})},
                        timeout=10).content == EDITED
    changes = requests.get(data["changesUrl"], timeout=10)
    assert changes.status_code == 200 and changes.content.startswith(b"PK")
    restored = docbridge.client.post("/onlyoffice/restore", json={"access_token": token, "version": 1}).get_json()
    assert restored["currentVersion"] == 3
    assert docbridge.content(alice, file_id) == ORIGINAL


def test_view_only_and_convert_formats(docbridge: Docbridge, ds: DocumentServerStandIn) -> None:
    alice = docbridge.user("alice")
    viewer = docbridge.open_config(alice, docbridge.upload(alice, "Report.docx", ORIGINAL), view_mode="view")
    assert viewer["editorConfig"]["mode"] == "view"
    assert viewer["document"]["permissions"]["download"] is False
    legacy_id = docbridge.upload(alice, "Old.doc", b"legacy word bytes")
    page, form = docbridge.editor_page(alice, legacy_id)
    config = json.loads(CONFIG_PATTERN.search(page).group(1))  # type: ignore[union-attr]
    assert config["editorConfig"]["mode"] == "view" and config["document"]["fileType"] == "doc"
    assert "Convert to DOCX and edit" in page
    converted = docbridge.client.post("/onlyoffice/convert", data={"access_token": form["access_token"]})
    assert converted.status_code == 200, converted.get_data(as_text=True)
    new_config = json.loads(CONFIG_PATTERN.search(converted.get_data(as_text=True)).group(1))  # type: ignore[union-attr]
    assert new_config["document"]["title"] == "Old.docx"
    assert new_config["editorConfig"]["mode"] == "edit"
    new_id = new_config["document"]["referenceData"]["fileKey"]
    assert docbridge.content(alice, new_id) == b"CONVERTED-docx:legacy word bytes"
    assert docbridge.content(alice, legacy_id) == b"legacy word bytes"
    ds.conversion_failure = -5
    failed = docbridge.client.post("/onlyoffice/convert", data={"access_token": form["access_token"]})
    assert failed.status_code == 502
    assert "protected by a password" in failed.get_data(as_text=True)


def test_app_list_offers_the_formats_table(docbridge: Docbridge) -> None:
    listing = docbridge.client.get("/app/list").get_json()["mime-types"]
    served = {entry["mime_type"] for entry in listing
              if any(provider["name"] == "OnlyOffice" for provider in entry["app_providers"])}
    for mimetype in ("application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                     "application/msword", "application/vnd.oasis.opendocument.text", "application/pdf"):
        assert mimetype in served


def test_closing_without_changes_keeps_the_key_and_adds_no_version(docbridge: Docbridge,
                                                                   ds: DocumentServerStandIn) -> None:
    alice = docbridge.user("alice")
    file_id = docbridge.upload(alice, "Report.docx", ORIGINAL)
    config = docbridge.open_config(alice, file_id)
    session = ds.open(config)
    record = ds.close(session.key, alice.id)
    assert record is not None and record.body["status"] == 4 and record.answers == [(200, {"error": 0})]
    assert [v["version"] for v in docbridge.versions(alice, file_id)] == [1]
    assert docbridge.open_config(alice, file_id)["document"]["key"] == config["document"]["key"]


def test_callbacks_need_the_url_token(docbridge: Docbridge, ds: DocumentServerStandIn) -> None:
    alice, file_id, config, session = _editing(docbridge, ds)
    body = ds.save_body(session, 2, alice.id)
    url = config["editorConfig"]["callbackUrl"]
    for target in (url.split("?")[0], url.split("?")[0] + "?t=" + url.split("t=")[1][:-3] + "abc"):
        record = ds.post_callback(target, body)
        assert record.answers == [(403, {"error": 1})]
    assert [v["version"] for v in docbridge.versions(alice, file_id)] == [1]


def test_lossy_format_edited_in_place_is_converted_back_when_the_ds_assembles_ooxml(
        start_docbridge: Any, ds: DocumentServerStandIn) -> None:
    docbridge = start_docbridge(ds.base, lossy_edit=["odt"])
    alice = docbridge.user("alice")
    file_id = docbridge.upload(alice, "Letter.odt", b"odt bytes")
    config = docbridge.open_config(alice, file_id)
    assert config["editorConfig"]["mode"] == "edit" and config["document"]["fileType"] == "odt"
    session = ds.open(config)
    ds.edit(session.key, alice.id, b"edited, assembled as docx")
    record = ds.post_callback(config["editorConfig"]["callbackUrl"],
                              ds.save_body(session, 2, alice.id, filetype="docx"), retry=True)
    assert record.answers == [(200, {"error": 0})]
    assert docbridge.content(alice, file_id) == b"CONVERTED-odt:edited, assembled as docx"
    assert [v["version"] for v in docbridge.versions(alice, file_id)] == [1, 2]


def test_a_viewer_leaving_last_does_not_carry_the_save(docbridge: Docbridge, ds: DocumentServerStandIn) -> None:
    """The DS ends the session when the last editor leaves and posts the save to the
    callbackUrl of the user who changed the document last; a viewer's callbackUrl (bound to
    read access) never receives it."""
    alice = docbridge.user("alice")
    file_id = docbridge.upload(alice, "Plan.docx", ORIGINAL)
    link = docbridge.client.post(f"/api/v1/files/{file_id}/links", json={"role": "viewer"}, headers=alice.auth)
    assert link.status_code in (200, 201), link.get_data(as_text=True)
    launch = docbridge.client.post("/app/open", query_string={"file_id": file_id, "app_name": "OnlyOffice"},
                                   headers={"Public-Token": link.get_json()["token"]})
    assert launch.status_code == 200, launch.get_data(as_text=True)
    page = docbridge.client.post("/onlyoffice/editor", data=launch.get_json()["form_parameters"])
    viewer = json.loads(CONFIG_PATTERN.search(page.get_data(as_text=True)).group(1))  # type: ignore[union-attr]
    assert viewer["editorConfig"]["mode"] == "view"
    session = ds.open(docbridge.open_config(alice, file_id))
    ds.open(viewer)
    ds.edit(session.key, alice.id, EDITED)
    saved = ds.close(session.key, alice.id)
    assert saved is not None and saved.body["status"] == 2 and saved.answers == [(200, {"error": 0})]
    assert ds.close(session.key, viewer["editorConfig"]["user"]["id"]) is None
    assert [v["author_id"] for v in docbridge.versions(alice, file_id)] == [alice.id, alice.id]
    assert docbridge.content(alice, file_id) == EDITED
