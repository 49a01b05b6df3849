"""Logging in through single sign-on (authorization code + PKCE against a loopback OIDC
provider stand-in) and the open-with-web landing `/external`, in a real Chromium."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from playwright.sync_api import Page, expect

from server.services import services_of
from tests.web.conftest import log_in
from tests.web.oidc_standin import oidc_standin

pytestmark = pytest.mark.slow

CLIENT_ID = "docbridge-web"


def test_single_sign_on_logs_in_and_creates_the_user(page: Page, make_site) -> None:  # type: ignore[no-untyped-def]
    with oidc_standin(CLIENT_ID) as provider:
        site = make_site(with_editor=False, oidc={"issuer": provider.url, "client_id": CLIENT_ID})
        page.goto(site.url + "/")
        page.get_by_role("link", name="Log in with single sign-on").click()
        page.wait_for_selector("body[data-ready=true]")
        expect(page).to_have_url(site.url + "/")
        expect(page.locator("#who")).to_have_text("Carol Castle")
        expect(page.locator("#breadcrumbs")).to_have_text("Home")
        [exchange] = provider.token_requests
        assert exchange["redirect_uri"] == site.url + "/login/oidc/callback"
        assert len(exchange["code_verifier"]) >= 43
        carol = services_of(site.app).users.by_name("carol")
        assert carol.display_name == "Carol Castle"


def test_single_sign_on_refuses_an_answer_this_browser_did_not_ask_for(make_site) -> None:  # type: ignore[no-untyped-def]
    with oidc_standin(CLIENT_ID) as provider:
        site = make_site(with_editor=False, oidc={"issuer": provider.url, "client_id": CLIENT_ID})
        victim = site.app.test_client()
        answer = victim.get("/login/oidc/callback?code=stolen&state=whatever")
        assert answer.status_code == 401
        assert "no login was started from this browser" in answer.get_data(as_text=True)
        # A started login with a wrong state is refused, and the code is never exchanged.
        started = victim.get("/login/oidc?next=/")
        assert started.status_code == 302
        query = parse_qs(urlsplit(started.headers["Location"]).query)
        assert query["code_challenge_method"] == ["S256"] and query["client_id"] == [CLIENT_ID]
        back = requests.get(started.headers["Location"], allow_redirects=False, timeout=10)
        code = parse_qs(urlsplit(back.headers["Location"]).query)["code"][0]
        refused = victim.get(f"/login/oidc/callback?code={code}&state=forged")
        assert refused.status_code == 401
        assert "does not match this browser" in refused.get_data(as_text=True)
        assert provider.token_requests == []
        assert victim.get("/api/v1/me", headers={"X-Requested-With": "XMLHttpRequest"}).status_code == 401


def test_no_single_sign_on_button_without_an_issuer(page: Page, make_site) -> None:  # type: ignore[no-untyped-def]
    site = make_site(with_editor=False)
    page.goto(site.url + "/login")
    expect(page.get_by_role("button", name="Log in")).to_have_count(1)
    expect(page.get_by_role("link", name="Log in with single sign-on")).to_have_count(0)


def test_open_with_web_lands_in_the_app_after_login(page: Page, make_site) -> None:  # type: ignore[no-untyped-def]
    site = make_site(with_onlyoffice=True)
    client = site.app.test_client()
    auth = {"Authorization": "Basic " + __import__("base64").b64encode(b"alice:correct horse").decode()}
    folder = client.post(f"/api/v1/containers/{site.home_id}/folders", json={"name": "Drafts"}, headers=auth)
    folder_id = folder.get_json()["id"]
    created = client.post("/app/new", data={"parent_container_id": folder_id, "filename": "Memo.docx"}, headers=auth)
    file_id = created.get_json()["file_id"]
    uri = client.post("/app/open-with-web", data={"file_id": file_id, "app_name": "Office"}, headers=auth)
    address = uri.get_json()["uri"]
    assert address.startswith(site.url + "/external?")

    page.goto(address)
    expect(page).to_have_url(re.compile(r"/login\?next="))
    log_in(page, site, go=False)
    expect(page.locator("#editor")).to_be_visible()
    expect(page.frame_locator("#editor-frame").locator("#heading")).to_have_text("Editing Memo.docx")
    assert site.editor.opened[-1]["action"] == "edit"
    page.get_by_role("button", name="Close the editor").click()
    expect(page.locator("#breadcrumbs")).to_have_text(re.compile(r"Home\s*Drafts"))
    expect(page.locator('#file-rows tr[data-name="Memo.docx"]')).to_be_visible()


def test_external_for_a_missing_file_explains(page: Page, make_site) -> None:  # type: ignore[no-untyped-def]
    site = make_site(with_editor=False)
    log_in(page, site)
    page.goto(site.url + "/external?app=Office&fileId=docbridge%24nowhere%21nothing")
    expect(page.locator("#notice")).to_contain_text("No such file or folder.")
    expect(page.locator("#editor")).to_be_hidden()
