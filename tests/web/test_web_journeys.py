"""What a person does in the file browser, in a real Chromium: log in, make a folder,
upload with a progress bar, create a Document and edit it in the app (the WOPI editor
stand-in), see and restore versions, share a link and open it elsewhere, log out."""

from __future__ import annotations

import base64
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect
from playwright.sync_api import Error as PlaywrightError

from tests.web.conftest import PASSWORD, log_in, shoot

pytestmark = pytest.mark.slow

UPLOAD_BYTES = 3 * 1024 * 1024 + 17
EDITED = b"PK-edited in the Document Server"
STANDIN_STATE = "(s => s ? {status: s.status, config: s.config, answer: s.answer || null} : null)(window.__standin)"


def row(page: Page, name: str):  # type: ignore[no-untyped-def]
    return page.locator(f'#file-rows tr[data-name="{name}"]')


def row_action(page: Page, name: str, action: str) -> None:
    page.get_by_role("button", name=f"Actions for {name}").click()
    row(page, name).get_by_role("menuitem", name=action, exact=True).click()


@contextmanager
def guest_page(browser: Browser, **context_options: Any) -> Iterator[Page]:
    """A fresh browser context, as someone who got the link and never logged in."""
    context = browser.new_context(**context_options)
    context.set_default_timeout(15_000)
    try:
        yield context.new_page()
    finally:
        context.close()


def new_item(page: Page, kind: str) -> None:
    page.get_by_role("button", name="New ▾").click()
    page.get_by_role("menuitem", name=kind, exact=True).click()


def document_server_config(page: Page) -> dict[str, Any]:
    """The config the ONLYOFFICE editor page handed to the Document Server stand-in's api.js,
    once the stand-in has loaded the document (polled: the editor page's CSP forbids eval)."""
    deadline = time.monotonic() + 15
    while True:
        frame = page.frame(name="docbridge-editor")
        try:
            state = frame.evaluate(STANDIN_STATE) if frame else None
        except PlaywrightError:
            state = None  # the frame is still navigating from the launch form to the editor page
        if state and state["status"] == "ready":
            return dict(state["config"])
        assert not state or state["status"] != "error", state.get("answer")
        assert time.monotonic() < deadline, "the editor did not load the document"
        time.sleep(0.05)


def test_browse_upload_edit_version_share(page: Page, browser: Browser, make_site) -> None:  # type: ignore[no-untyped-def]
    site = make_site(with_onlyoffice=True)
    page.goto(site.url + "/")
    expect(page).to_have_url(re.compile(r"/login\?next=/$"))
    shoot(page, "login")
    log_in(page, site)
    expect(page.locator("#breadcrumbs")).to_have_text("Home")
    expect(page.locator("#who")).to_have_text("Alice Archer")

    # A folder, then into it through its row.
    new_item(page, "Folder")
    page.get_by_label("Folder name").fill("Reports")
    page.get_by_role("button", name="Create").click()
    expect(row(page, "Reports")).to_be_visible()
    row(page, "Reports").get_by_role("link", name="Reports").click()
    expect(page.locator("#breadcrumbs")).to_have_text(re.compile(r"Home\s*Reports"))
    expect(page).to_have_url(re.compile(r"/\?folder="))

    # Upload by the picker: the progress bar runs to 100 % and the file is listed.
    page.evaluate(
        """() => { window.__progress = [];
        new MutationObserver(() => document.querySelectorAll('#uploads progress').forEach(p => window.__progress.push(p.value)))
          .observe(document.getElementById('uploads'), {subtree: true, attributes: true, childList: true, characterData: true}); }"""
    )
    page.set_input_files(
        "#upload-input",
        files=[{"name": "data.bin", "mimeType": "application/octet-stream", "buffer": b"x" * UPLOAD_BYTES}],
    )
    upload = page.locator('#uploads li[data-name="data.bin"]')
    expect(upload.locator("progress")).to_have_attribute("value", "100")
    expect(upload.locator(".status")).to_have_text("Done")
    expect(row(page, "data.bin")).to_contain_text("3.0 MB")
    seen = page.evaluate("window.__progress")
    assert seen and max(seen) == 100
    shoot(page, "browser-upload")

    # A new Document opens in its default app (ONLYOFFICE) right away.
    new_item(page, "Document")
    expect(page.get_by_label("File name")).to_have_value("New document.docx")
    page.get_by_label("File name").fill("Plan")
    page.get_by_role("button", name="Create").click()
    editor = page.locator("#editor")
    expect(editor).to_be_visible()
    expect(page.locator("#editor-title")).to_have_text("Plan.docx")
    config = document_server_config(page)
    assert config["document"]["title"] == "Plan.docx"
    assert config["editorConfig"]["mode"] == "edit"
    assert config["editorConfig"]["user"]["id"] == site.user_id

    # Save through the Document Server: version 2 appears in the versions panel.
    key = config["document"]["key"]
    site.document_server.edit(key, site.user_id, EDITED)
    saved = site.document_server.close(key, site.user_id)
    assert saved is not None and saved.answers[-1] == (200, {"error": 0})
    page.get_by_role("button", name="Close the editor").click()
    expect(editor).to_be_hidden()
    row_action(page, "Plan.docx", "Versions")
    versions = page.locator("#versions-rows tr")
    expect(versions).to_have_count(2)
    newest = page.locator('#versions-rows tr[data-version="2"]')
    expect(newest).to_contain_text("current")
    expect(newest).to_contain_text("Alice Archer")
    expect(newest).to_contain_text(f"{len(EDITED)} B")
    shoot(page, "versions")

    # Restore version 1: it comes back as version 3, the current one.
    page.locator('#versions-rows tr[data-version="1"]').get_by_role("button", name="Restore").click()
    expect(versions).to_have_count(3)
    expect(page.locator('#versions-rows tr[data-version="3"]')).to_contain_text("current")
    expect(page.locator('#versions-rows tr[data-version="3"]')).to_contain_text("restored from version 1")
    expect(page.locator("#notice")).to_contain_text("Version 1 restored as version 3")
    page.locator("#versions-dialog").get_by_role("button", name="Close").click()

    # Share an editor link with a password, then open it in a fresh browser context.
    row_action(page, "Plan.docx", "Share")
    page.locator("#share-dialog").get_by_label("Edit").check()
    page.get_by_label("Password (optional)").fill("open sesame")
    page.get_by_role("button", name="Create link").click()
    link_field = page.locator('#share-links li[data-role="editor"] input.link-url')
    expect(link_field).to_have_value(re.compile(r"/s/"))
    expect(page.locator("#share-links")).to_contain_text("Can edit · password")
    link_url = link_field.input_value()
    assert link_url.startswith(site.url + "/s/")
    shoot(page, "share")
    page.locator("#share-dialog").get_by_role("button", name="Close").click()

    with guest_page(browser, viewport={"width": 1000, "height": 760}) as guest:
        guest.goto(link_url)
        guest.get_by_label("Password").fill("wrong")
        guest.get_by_role("button", name="Continue").click()
        expect(guest.locator("#password-error")).to_have_text("Wrong password for this public link.")
        guest.get_by_label("Password").fill("open sesame")
        guest.get_by_role("button", name="Continue").click()
        expect(guest.locator("#shared-name")).to_have_text("Plan.docx")
        expect(guest.locator("#shared-role")).to_have_text("You can view, edit and download this file.")
        shoot(guest, "public-link")
        guest.get_by_role("button", name="Open to edit").click()
        # Editors see each other: the visitor gives a name first.
        guest.get_by_label("Your name, shown to the others editing this file").fill("Gail")
        guest.locator("#guest-form").get_by_role("button", name="Open to edit").click()
        guest_config = document_server_config(guest)
        assert guest_config["document"]["title"] == "Plan.docx"
        assert guest_config["editorConfig"]["mode"] == "edit"
        assert guest_config["editorConfig"]["user"]["name"] == "Gail (guest)"

    # Revoke: the link page says it is gone.
    row_action(page, "Plan.docx", "Share")
    page.locator("#share-links").get_by_role("button", name="Revoke").click()
    expect(page.locator("#share-none")).to_be_visible()
    page.locator("#share-dialog").get_by_role("button", name="Close").click()
    gone = page.context.new_page()
    gone.goto(link_url)
    expect(gone.locator("h1")).to_have_text("Link not available")
    gone.close()

    # Log out: the session is over.
    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(re.compile(r"/login$"))
    page.goto(site.url + "/")
    expect(page).to_have_url(re.compile(r"/login\?next=/$"))


def test_viewer_link_opens_read_only(page: Page, browser: Browser, make_site) -> None:  # type: ignore[no-untyped-def]
    site = make_site()
    log_in(page, site)
    new_item(page, "Document")
    page.get_by_role("button", name="Create").click()
    expect(page.frame_locator("#editor-frame").locator("#heading")).to_have_text("Editing New document.docx")
    page.get_by_role("button", name="Close the editor").click()
    row_action(page, "New document.docx", "Share")
    page.get_by_role("button", name="Create link").click()
    link_url = page.locator('#share-links li[data-role="viewer"] input.link-url').input_value()

    with guest_page(browser) as guest:
        guest.goto(link_url)
        expect(guest.locator("#shared-role")).to_have_text("You can view and download this file.")
        guest.get_by_role("button", name="Open to view").click()
        frame = guest.frame_locator("#editor-frame")
        expect(frame.locator("#heading")).to_have_text("Viewing New document.docx")
        expect(frame.get_by_role("button", name="Save")).to_have_count(0)
        assert site.editor.opened[-1]["action"] == "view"
        guest.get_by_role("button", name="Close the editor").click()
        with guest.expect_download() as download:
            guest.get_by_role("button", name="Download").click()
        assert download.value.suggested_filename == "New document.docx"


def test_rename_delete_sort_and_open_with(page: Page, make_site) -> None:  # type: ignore[no-untyped-def]
    site = make_site(with_onlyoffice=True)
    log_in(page, site)
    page.set_input_files(
        "#upload-input",
        files=[
            {"name": "b-large.zip", "mimeType": "application/zip", "buffer": b"b" * 5000},
            {"name": "a-small.txt", "mimeType": "text/plain", "buffer": b"a" * 10},
            {"name": "c-mid.docx", "mimeType": "application/octet-stream", "buffer": b"c" * 800},
        ],
    )
    expect(page.locator("#file-rows tr")).to_have_count(3)
    names = page.locator("#file-rows tr a.name .label")
    expect(names).to_have_text(["a-small.txt", "b-large.zip", "c-mid.docx"])
    page.get_by_label("Sort", exact=True).select_option("size")
    expect(names).to_have_text(["a-small.txt", "c-mid.docx", "b-large.zip"])
    page.get_by_role("button", name="Size", exact=True).click()
    expect(names).to_have_text(["b-large.zip", "c-mid.docx", "a-small.txt"])
    page.get_by_role("button", name="Name", exact=True).click()
    expect(names).to_have_text(["a-small.txt", "b-large.zip", "c-mid.docx"])

    row_action(page, "a-small.txt", "Rename")
    page.get_by_label("New name").fill("b-large.zip")
    page.get_by_role("button", name="Rename").click()
    expect(page.locator("#prompt-error")).to_contain_text("already exists")
    page.get_by_label("New name").fill("renamed.txt")
    page.get_by_role("button", name="Rename").click()
    expect(row(page, "renamed.txt")).to_be_visible()

    row_action(page, "renamed.txt", "Delete")
    expect(page.locator("#confirm-title")).to_have_text("Delete “renamed.txt”?")
    page.locator("#confirm-dialog").get_by_role("button", name="Cancel").click()
    expect(row(page, "renamed.txt")).to_be_visible()
    row_action(page, "renamed.txt", "Delete")
    page.locator("#confirm-dialog").get_by_role("button", name="Delete").click()
    expect(row(page, "renamed.txt")).to_have_count(0)

    # Drag and drop from the desktop onto the list uploads too.
    page.evaluate(
        """() => {
        const transfer = new DataTransfer();
        transfer.items.add(new File(["dropped from the desktop"], "dropped.txt", {type: "text/plain"}));
        const zone = document.getElementById("drop-zone");
        for (const type of ["dragenter", "dragover", "drop"]) {
          zone.dispatchEvent(new DragEvent(type, {dataTransfer: transfer, bubbles: true, cancelable: true}));
        }
      }"""
    )
    expect(page.locator('#uploads li[data-name="dropped.txt"] .status')).to_have_text("Done")
    expect(row(page, "dropped.txt")).to_contain_text("24 B")

    # A zip archive: no app serves it, and the page says so in words.
    row(page, "b-large.zip").get_by_role("link", name="b-large.zip").click()
    expect(page.locator("#notice")).to_contain_text("No editor is configured for this kind of file")
    with page.expect_download() as download:
        page.locator("#notice").get_by_role("button", name="Download instead").click()
    assert download.value.suggested_filename == "b-large.zip"

    # "Open with…" lists the apps of the file's type (reached here with the keyboard alone).
    page.get_by_role("button", name="Actions for c-mid.docx").focus()
    page.keyboard.press("Enter")
    expect(row(page, "c-mid.docx").get_by_role("menuitem", name="Open", exact=True)).to_be_focused()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    choices = page.locator("#openwith-list button")
    expect(choices).to_have_count(2)
    expect(choices.nth(0)).to_contain_text("OnlyOffice")
    expect(choices.nth(0)).to_contain_text("default")
    expect(choices.nth(1)).to_contain_text("Office (WOPI)")
    shoot(page, "open-with")
    choices.nth(1).click()
    expect(page.frame_locator("#editor-frame").locator("#heading")).to_have_text("Editing c-mid.docx")
    assert site.editor.opened[-1]["action"] == "edit"
    shoot(page, "editor")


def test_no_editor_configured(page: Page, make_site) -> None:  # type: ignore[no-untyped-def]
    site = make_site(with_editor=False)
    log_in(page, site)
    new_item(page, "Spreadsheet")
    page.get_by_role("button", name="Create").click()
    expect(row(page, "New spreadsheet.xlsx")).to_be_visible()
    expect(page.locator("#notice")).to_contain_text("No editor is configured for this kind of file")
    expect(page.locator("#editor")).to_be_hidden()
    page.set_viewport_size({"width": 390, "height": 760})
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    expect(page.get_by_role("button", name="Actions for New spreadsheet.xlsx")).to_be_visible()
    shoot(page, "phone-no-editor")
    # Everything but opening still works: versions and sharing.
    row_action(page, "New spreadsheet.xlsx", "Versions")
    expect(page.locator("#versions-rows tr")).to_have_count(1)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.locator("#versions-dialog").get_by_role("button", name="Close").click()
    row_action(page, "New spreadsheet.xlsx", "Share")
    page.get_by_label("Expires on (optional)").fill("2099-12-31")
    page.get_by_role("button", name="Create link").click()
    expect(page.locator("#share-links li")).to_contain_text(re.compile(r"Can view · expires .*2099"))
    shoot(page, "phone-share")


def test_login_failure_and_logout(page: Page, make_site) -> None:  # type: ignore[no-untyped-def]
    site = make_site(with_editor=False)
    log_in(page, site, password="not the password", expect_success=False)
    expect(page.get_by_role("alert")).to_have_text("Wrong user name or password.")
    expect(page.get_by_label("User name")).to_have_value("alice")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in", exact=True).click()
    expect(page.locator("#breadcrumbs")).to_have_text("Home")
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("heading", name=re.compile("Log in"))).to_be_visible()
    status = page.evaluate("fetch('/api/v1/me', {headers: {'X-Requested-With': 'XMLHttpRequest'}}).then(r => r.status)")
    assert status == 401


def test_csrf_refused_without_the_token(page: Page, make_site) -> None:  # type: ignore[no-untyped-def]
    site = make_site(with_editor=False)
    log_in(page, site)
    expect(page.locator("#breadcrumbs")).to_have_text("Home")
    url = f"/api/v1/containers/{site.home_id}/folders"
    answer = page.evaluate(
        """async (url) => { const r = await fetch(url, {method: 'POST', headers: {'Content-Type': 'application/json'},
           body: JSON.stringify({name: 'forged'})}); return [r.status, await r.json()]; }""",
        url,
    )
    assert answer[0] == 403
    assert "CSRF" in answer[1]["message"]
    forged_new = page.evaluate(
        """async (id) => (await fetch('/app/new', {method: 'POST', body: new URLSearchParams({parent_container_id: id, filename: 'x.docx'})})).status""",
        site.home_id,
    )
    assert forged_new == 403
    page.reload()
    expect(page.locator("#empty")).to_be_visible()
    # The page's own calls carry the token and succeed.
    new_item(page, "Folder")
    page.get_by_role("button", name="Create").click()
    expect(row(page, "New folder")).to_be_visible()


def test_folder_link_lists_its_files(page: Page, browser: Browser, make_site) -> None:  # type: ignore[no-untyped-def]
    site = make_site()
    log_in(page, site)
    new_item(page, "Folder")
    page.get_by_label("Folder name").fill("Shared")
    page.get_by_role("button", name="Create").click()
    row(page, "Shared").get_by_role("link", name="Shared").click()
    expect(page.locator("#breadcrumbs")).to_have_text(re.compile(r"Home\s*Shared"))
    page.set_input_files("#upload-input", files=[{"name": "notes.txt", "mimeType": "text/plain", "buffer": b"notes"}])
    expect(row(page, "notes.txt")).to_be_visible()
    page.get_by_role("link", name="Home").click()
    row_action(page, "Shared", "Share")
    page.get_by_role("button", name="Create link").click()
    link_url = page.locator('#share-links li[data-role="viewer"] input.link-url').input_value()

    with guest_page(browser) as guest:
        guest.goto(link_url)
        expect(guest.locator("#shared-name")).to_have_text("Shared")
        expect(guest.locator("#shared-meta")).to_have_text("Folder · 1 item")
        expect(guest.get_by_role("button", name="Open to view")).to_be_hidden()
        with guest.expect_download() as download:
            guest.locator('#shared-rows tr[data-name="notes.txt"]').get_by_role("button", name="Download").click()
        assert download.value.suggested_filename == "notes.txt"
        assert Path(download.value.path()).read_bytes() == b"notes"


def test_uploader_link_adds_files_without_seeing_the_folder(page: Page, make_site) -> None:  # type: ignore[no-untyped-def]
    site = make_site(with_editor=False)
    client = site.app.test_client()
    auth = {"Authorization": "Basic " + base64.b64encode(f"alice:{PASSWORD}".encode()).decode()}
    inbox = client.post(f"/api/v1/containers/{site.home_id}/folders", json={"name": "Inbox"}, headers=auth)
    inbox_id = inbox.get_json()["id"]
    client.put(f"/api/v1/containers/{inbox_id}/files/private.txt", data=b"not for guests", headers=auth)
    link = client.post(f"/api/v1/files/{inbox_id}/links", json={"role": "uploader"}, headers=auth).get_json()

    page.goto(link["url"])
    expect(page.locator("#shared-role")).to_have_text("You can add files here.")
    expect(page.get_by_text("private.txt")).to_have_count(0)
    page.set_input_files(
        "#upload-input", files=[{"name": "report.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4"}]
    )
    expect(page.locator('#uploads li[data-name="report.pdf"] .status')).to_have_text("Done")
    listing = client.get(f"/api/v1/containers/{inbox_id}", headers=auth).get_json()
    assert {child["name"] for child in listing["children"]} == {"private.txt", "report.pdf"}


def test_a_locked_file_shows_who_edits_it_and_opens_read_only(page: Page, make_site) -> None:  # type: ignore[no-untyped-def]
    from core.ids import parse_resource_id
    from core.tokens import ViewMode
    from server.services import services_of
    from tests.wopi.conftest import WopiCaller

    site = make_site(with_onlyoffice=True)
    client = site.app.test_client()
    auth = {"Authorization": "Basic " + base64.b64encode(f"alice:{PASSWORD}".encode()).decode()}
    file_id = client.put(f"/api/v1/containers/{site.home_id}/files/plan.docx", data=b"PK-plan", headers=auth).get_json()["file_id"]
    token = services_of(site.app).tokens.issue(
        file_id=parse_resource_id(file_id), user_id=site.user_id, view_mode=ViewMode.WRITE, audience="app:Office",
        claims={"name": "Alice Archer"}).token
    office = WopiCaller(client, None, token, file_id, sign=False)  # type: ignore[arg-type]
    assert office.lock("office-lock").status_code == 200

    log_in(page, site)
    mark = row(page, "plan.docx").locator(".badge.lock")
    expect(mark).to_have_text("Locked, Alice Archer · Office")
    expect(mark).to_have_attribute("title", "Locked: being edited in Office by Alice Archer")
    shoot(page, "browser-locked")

    # Opening it in the default app (ONLYOFFICE) is read-only, and says why.
    row_action(page, "plan.docx", "Open read-only (being edited in Office by Alice Archer)")
    expect(page.locator("#editor-title")).to_have_text("plan.docx (read-only: being edited in Office by Alice Archer)")
    assert document_server_config(page)["editorConfig"]["mode"] == "view"
    page.get_by_role("button", name="Close the editor").click()

    # Changing it is refused with the reason.
    row_action(page, "plan.docx", "Rename")
    page.get_by_label("New name").fill("renamed.docx")
    page.get_by_role("button", name="Rename").click()
    expect(page.locator("#prompt-error")).to_have_text("The file is being edited in Office by Alice Archer.")
    page.locator("#prompt-dialog").get_by_role("button", name="Cancel").click()
    row_action(page, "plan.docx", "Delete")
    page.locator("#confirm-dialog").get_by_role("button", name="Delete").click()
    expect(page.locator("#notice")).to_contain_text("The file is being edited in Office by Alice Archer.")
    page.set_input_files("#upload-input", files=[{"name": "plan.docx", "mimeType": "application/octet-stream", "buffer": b"new"}])
    expect(page.locator('#uploads li[data-name="plan.docx"] .status')).to_have_text(
        "The file is being edited in Office by Alice Archer.")

    # Unlocked, the mark is gone and the file opens for editing.
    assert office.unlock("office-lock").status_code == 200
    page.reload()
    page.wait_for_selector("body[data-ready=true]")
    expect(row(page, "plan.docx").locator(".badge.lock")).to_have_count(0)
    row_action(page, "plan.docx", "Open")
    assert document_server_config(page)["editorConfig"]["mode"] == "edit"
