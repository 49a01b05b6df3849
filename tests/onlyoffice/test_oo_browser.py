"""A real browser (Debian's Chromium through Playwright) loads the editor page against the
stand-in api.js: the config arrives signed and complete, the page's event handlers work."""

from __future__ import annotations

import html
import json
import time
from collections.abc import Iterator
from typing import Any

import jwt
import pytest
from playwright.sync_api import Browser, Page

from tests.onlyoffice.conftest import DS_SECRET, Docbridge
from tests.onlyoffice.ds_standin import DocumentServerStandIn

pytestmark = pytest.mark.slow

@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context()
    opened = context.new_page()
    yield opened
    context.close()


def _post_launch(page: Page, launch: dict[str, Any]) -> None:
    """What a client does with a POST launch: submit the form parameters to app_url."""
    inputs = "".join(f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
                     for k, v in launch["form_parameters"].items())
    page.set_content(f'<form method="post" action="{html.escape(launch["app_url"])}">{inputs}</form>')
    with page.expect_navigation():
        page.evaluate("document.forms[0].submit()")


def _poll(page: Page, expression: str, timeout: float = 15.0) -> None:
    """Wait until `expression` is true. (wait_for_function would eval inside the page, which
    the editor page's CSP rightly forbids.)"""
    deadline = time.monotonic() + timeout
    while not page.evaluate(f"!!({expression})"):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {expression}")
        time.sleep(0.05)


def _wait_ready(page: Page) -> dict[str, Any]:
    _poll(page, "window.__standin && window.__standin.status !== 'pending'")
    state: dict[str, Any] = page.evaluate(
        "({status: window.__standin.status, answer: window.__standin.answer,"
        " config: JSON.parse(JSON.stringify(window.__standin.config)),"
        " events: Object.keys(window.__standin.config.events).filter(k => typeof window.__standin.config.events[k] === 'function')})")
    return state


def test_editor_page_hands_a_signed_complete_config_to_api_js(docbridge: Docbridge, ds: DocumentServerStandIn,
                                                              page: Page) -> None:
    alice = docbridge.user("alice")
    file_id = docbridge.upload(alice, "Quarterly report.docx", b"PK-original")
    _post_launch(page, docbridge.launch(alice, file_id))
    state = _wait_ready(page)
    assert state["status"] == "ready", state
    config = state["config"]
    claims = jwt.decode(config["token"], DS_SECRET, algorithms=["HS256"])
    for path in (("document", "key"), ("document", "url"), ("document", "permissions"),
                 ("editorConfig", "callbackUrl"), ("editorConfig", "mode"), ("documentType",)):
        signed: Any = claims
        shown: Any = config
        for part in path:
            signed, shown = signed[part], shown[part]
        assert signed == shown, path
    assert claims["document"]["fileType"] == "docx" and claims["document"]["title"] == "Quarterly report.docx"
    assert claims["editorConfig"]["user"] == {"id": alice.id, "name": "alice"}
    assert claims["editorConfig"]["customization"]["forcesave"] is True
    assert claims["editorConfig"]["mode"] == "edit" and claims["document"]["permissions"]["edit"] is True
    assert set(state["events"]) >= {"onError", "onRequestHistory", "onRequestHistoryData", "onRequestRestore",
                                    "onRequestSaveAs", "onRequestRename", "onOutdatedVersion", "onRequestRefreshFile"}
    # The stand-in fetched document.url with its JWT and Docbridge acknowledged status 1.
    assert ds.downloads[-1]["status"] == 200
    assert [r.answers for r in ds.callbacks if r.body["status"] == 1] == [[(200, {"error": 0})]]
    assert page.locator("#standin-frame").count() == 1


def test_outdated_version_reloads_with_a_fresh_config_and_history_works(docbridge: Docbridge,
                                                                         ds: DocumentServerStandIn,
                                                                         page: Page) -> None:
    alice = docbridge.user("alice")
    file_id = docbridge.upload(alice, "Notes.docx", b"PK-v1")
    _post_launch(page, docbridge.launch(alice, file_id))
    first = _wait_ready(page)["config"]
    key = first["document"]["key"]
    ds.edit(key, alice.id, b"PK-v2")
    assert ds.close(key, alice.id) is not None
    with page.expect_navigation():
        page.evaluate("window.__standin.config.events.onOutdatedVersion()")
    second = _wait_ready(page)
    assert second["status"] == "ready"
    assert second["config"]["document"]["key"] != key
    assert ds.sessions[second["config"]["document"]["key"]].content == b"PK-v2"
    page.evaluate("window.__standin.config.events.onRequestHistory()")
    _poll(page, "window.__standin.editor.calls.some(c => c[0] === 'refreshHistory')")
    history = page.evaluate("window.__standin.editor.calls.find(c => c[0] === 'refreshHistory')[1]")
    assert history["currentVersion"] == 2 and [h["version"] for h in history["history"]] == [1, 2]
    page.evaluate("window.__standin.config.events.onRequestHistoryData({data: 2})")
    _poll(page, "window.__standin.editor.calls.some(c => c[0] === 'setHistoryData')")
    data = page.evaluate("window.__standin.editor.calls.find(c => c[0] === 'setHistoryData')[1]")
    assert jwt.decode(data["token"], DS_SECRET, algorithms=["HS256"])["version"] == 2
    assert json.dumps(data).count("changesUrl") == 1


def test_wrong_document_server_address_shows_a_message(start_docbridge: Any, page: Page) -> None:
    from tests.support.net import free_port

    docbridge = start_docbridge(f"http://127.0.0.1:{free_port()}/")
    alice = docbridge.user("alice")
    file_id = docbridge.upload(alice, "Report.docx", b"PK")
    _post_launch(page, docbridge.launch(alice, file_id))
    _poll(page, "document.getElementById('docbridge-message').textContent.length > 0")
    assert "could not be loaded" in page.inner_text("#docbridge-message")


def test_the_editor_page_renews_its_lock_and_says_when_the_file_was_taken(docbridge: Docbridge, page: Page) -> None:
    alice = docbridge.user("alice")
    file_id = docbridge.upload(alice, "Minutes.docx", b"PK-v1")
    _post_launch(page, docbridge.launch(alice, file_id))
    assert _wait_ready(page)["status"] == "ready"

    def lock() -> Any:
        return docbridge.client.get(f"/api/v1/files/{file_id}", headers=alice.auth).get_json()["lock"]

    before = lock()
    assert before["kind"] == "session" and before["user"] == "alice"
    time.sleep(0.01)
    page.evaluate("window.docbridgeHeartbeat()")
    _poll(page, "true")
    deadline = time.monotonic() + 10
    while lock()["expires_at"] <= before["expires_at"]:
        assert time.monotonic() < deadline, "the heartbeat did not renew the lock"
        time.sleep(0.05)
    # An admin frees the file and someone uploads a new version: the page says what happens now.
    assert docbridge.app.test_cli_runner().invoke(args=["lock", "release", file_id]).exit_code == 0
    uploaded = docbridge.client.put(f"/api/v1/containers/{alice.home_id}/files/Minutes.docx", data=b"PK-v2",
                                    headers=alice.auth)
    assert uploaded.status_code == 200
    page.evaluate("window.docbridgeHeartbeat()")
    _poll(page, "document.getElementById('docbridge-message').textContent.length > 0")
    assert page.locator("#docbridge-message").text_content() == (
        "The file was changed by another writer during the editing session."
        " Your changes will be kept in a copy next to the file.")
