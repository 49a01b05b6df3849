"""Secure view in two browsers: Alice makes a no-download link in the share dialog and its
page offers no Download; Bob, a viewer under the admin's rule, opens her document in
ONLYOFFICE (the Document Server stand-in) with download, print and copy off and his name
in the watermark."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
from playwright.sync_api import Browser, Page, expect

from core.ids import parse_resource_id
from server.services import services_of
from storage.types import GranteeKind, ShareRole
from tests.conftest import basic_auth
from tests.web.conftest import PASSWORD, log_in
from tests.web.test_web_journeys import document_server_config, row_action
from tests.web.test_web_teams import log_in_as

pytestmark = pytest.mark.slow

RULE = {"name": "viewers see, never take", "share_roles": ["viewer"], "secure_view": True,
        "watermark": "{user_display_name} · {date}"}


@pytest.fixture
def other_page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1200, "height": 800})
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()


def test_secure_view_in_the_browser(page: Page, other_page: Page, make_site) -> None:  # type: ignore[no-untyped-def]
    site = make_site(with_editor=False, with_onlyoffice=True, policies=[RULE])
    found = services_of(site.app)
    bob = found.users.create("bob", PASSWORD, display_name="Bob Baker")
    uploaded = site.app.test_client().put(f"/api/v1/containers/{site.home_id}/files/Board minutes.docx",
                                          data=b"PK board minutes", headers=basic_auth("alice", PASSWORD))
    file_id = uploaded.get_json()["file_id"]
    found.shares.create(parse_resource_id(file_id), GranteeKind.USER, bob.id, ShareRole.VIEWER, can_share=False,
                        created_by=site.user_id)

    # Alice makes a link whose visitors may look but not take the file away.
    log_in(page, site)
    row_action(page, "Board minutes.docx", "Share")
    page.get_by_label("No download", exact=False).check()
    page.get_by_role("button", name="Create link").click()
    made = page.locator("#share-links li")
    expect(made).to_contain_text("no download")
    link_url = made.locator("input.link-url").input_value()

    # Its page offers to open the file, not to download it.
    other_page.goto(link_url)
    other_page.wait_for_selector("body[data-ready=true]")
    expect(other_page.locator("#shared-name")).to_have_text("Board minutes.docx")
    expect(other_page.locator("#shared-role")).to_have_text(
        "You can view this file. Downloading and printing are turned off.")
    expect(other_page.locator("#shared-open")).to_be_visible()
    expect(other_page.locator("#shared-download")).to_be_hidden()

    # Bob, a viewer, opens it in ONLYOFFICE: viewing only, with his name across the page.
    log_in_as(other_page, site, "bob")
    other_page.get_by_role("link", name="Shared with me").click()
    item = other_page.locator('#shared-rows tr[data-name="Board minutes.docx"]')
    item.get_by_role("link", name="Board minutes.docx").click()
    config = document_server_config(other_page)
    permissions = config["document"]["permissions"]
    assert (permissions["download"], permissions["print"], permissions["copy"]) == (False, False, False)
    assert config["editorConfig"]["mode"] == "view"
    assert config["editorConfig"]["customization"]["plugins"] is False
    watermark = config["document"]["options"]["watermark_on_draw"]
    assert watermark["paragraphs"][0]["runs"][0]["text"] == f"Bob Baker · {date.today().isoformat()}"
    # The Document Server applied the same, from the signed token.
    ds = site.document_server
    assert ds is not None
    [opened] = [opening for opening in ds.openings if opening["user"] == bob.id]
    assert opened["watermark"] == f"Bob Baker · {date.today().isoformat()}"
    assert not any(opened["permissions"][name] for name in ("download", "print", "copy"))
