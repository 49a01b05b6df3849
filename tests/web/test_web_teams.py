"""Two colleagues in two browsers: Alice shares a document with a group, Bob (a member) finds
it under "Shared with me", both edit it in one ONLYOFFICE session through the Document
Server stand-in, and the final save is one new version, authored by Bob."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from server.services import services_of
from storage.types import GranteeKind, ShareRole
from tests.web.conftest import PASSWORD, Site, log_in, shoot
from tests.web.test_web_journeys import document_server_config, new_item, row, row_action

pytestmark = pytest.mark.slow

BOBS_EDIT = b"PK-roadmap with bob's milestones"


@pytest.fixture
def bob_page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1200, "height": 800})
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()


def log_in_as(page: Page, site: Site, name: str) -> None:
    page.goto(site.url + "/")
    page.get_by_label("User name").fill(name)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in", exact=True).click()
    page.wait_for_selector("body[data-ready=true]")


def test_colleagues_share_and_co_edit_a_document(page: Page, bob_page: Page, make_site) -> None:  # type: ignore[no-untyped-def]
    site = make_site(with_editor=False, with_onlyoffice=True)
    found = services_of(site.app)
    bob = found.users.create("bob", PASSWORD, display_name="Bob Baker")
    found.groups.create("engineers", "Engineering")
    found.groups.add_member("engineers", bob.id)
    ds = site.document_server
    assert ds is not None

    # Alice makes a document and shares it with the engineers, who may edit.
    log_in(page, site)
    new_item(page, "Document")
    page.get_by_label("File name").fill("Roadmap")
    page.get_by_role("button", name="Create").click()
    alices = document_server_config(page)
    page.get_by_role("button", name="Close the editor").click()
    row_action(page, "Roadmap.docx", "Share")
    page.get_by_label("Role").select_option("editor")
    page.get_by_label("Share with people or groups").fill("engin")
    page.locator("#people-results").get_by_role("button", name="Engineering (group)").click()
    shared = page.locator('#share-people li[data-grantee="engineers"]')
    expect(shared).to_contain_text("engineers (group)")
    expect(shared.locator("select")).to_have_value("editor")
    shoot(page, "share-people")
    page.locator("#share-dialog").get_by_role("button", name="Close").click()
    expect(row(page, "Roadmap.docx").locator(".badge.shared")).to_have_text("shared")

    # Bob finds it under "Shared with me", with his role and who shared it.
    log_in_as(bob_page, site, "bob")
    bob_page.get_by_role("link", name="Shared with me").click()
    expect(bob_page).to_have_url(re.compile(r"/\?view=shared$"))
    item = bob_page.locator('#shared-rows tr[data-name="Roadmap.docx"]')
    expect(item).to_contain_text("can edit")
    expect(item).to_contain_text("Alice Archer (to engineers)")
    shoot(bob_page, "shared-with-me")
    item.get_by_role("link", name="Roadmap.docx").click()
    bobs = document_server_config(bob_page)

    # One session: the same document key, each under their own name.
    key = alices["document"]["key"]
    assert bobs["document"]["key"] == key
    assert bobs["editorConfig"]["mode"] == "edit"
    assert bobs["editorConfig"]["user"] == {"id": bob.id, "name": "Bob Baker"}
    assert bobs["document"]["permissions"]["edit"] is True
    assert len([download for download in ds.downloads if download["status"] == 200]) == 1

    ds.edit(key, bob.id, BOBS_EDIT)
    left = ds.close(key, site.user_id)
    assert left is not None and left.body["status"] == 1
    saved = ds.close(key, bob.id)
    assert saved is not None and saved.body["status"] == 2 and saved.answers[-1] == (200, {"error": 0})

    # Alice sees one new version, Bob's.
    page.reload()
    page.wait_for_selector("body[data-ready=true]")
    row_action(page, "Roadmap.docx", "Versions")
    versions = page.locator("#versions-rows tr")
    expect(versions).to_have_count(2)
    newest = page.locator('#versions-rows tr[data-version="2"]')
    expect(newest).to_contain_text("current")
    expect(newest).to_contain_text("Bob Baker")
    expect(newest).to_contain_text(f"{len(BOBS_EDIT)} B")


def test_a_recipient_sees_their_role_and_the_path_from_the_shared_folder(page: Page, make_site) -> None:  # type: ignore[no-untyped-def]
    site = make_site(with_editor=False, with_onlyoffice=True)
    found = services_of(site.app)
    owner = found.users.get(site.user_id)
    found.users.create("bob", PASSWORD)
    projects = found.storage.create_folder(owner.home_id, "Projects")
    found.storage.create_folder(projects.id, "Q1")
    found.shares.create(projects.id, GranteeKind.USER, found.users.by_name("bob").id, ShareRole.COMMENTER,
                        can_share=False, created_by=owner.id)
    log_in_as(page, site, "bob")
    page.get_by_role("link", name="Shared with me").click()
    page.locator('#shared-rows tr[data-name="Projects"]').get_by_role("link", name="Projects").click()
    expect(page.locator("#breadcrumbs")).to_have_text(re.compile(r"Shared with me\s*Projects"))
    expect(page.locator("#my-role")).to_have_text("You can comment here · shared by Alice Archer.")
    expect(page.locator("#new-button")).to_be_disabled()
    page.get_by_role("button", name="Actions for Q1").click()
    expect(row(page, "Q1").get_by_role("menuitem", name="Delete")).to_have_count(0)
