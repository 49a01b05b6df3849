"""Fixtures for the browser tests: Debian's headless Chromium driven by Playwright, and
Docbridge served on loopback with a WOPI editor stand-in as its app."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page

from server.services import services_of
from tests.onlyoffice.conftest import DS_SECRET
from tests.onlyoffice.ds_standin import DocumentServerStandIn
from tests.support.net import free_port, serve_wsgi
from tests.web.editor_standin import EditorStandIn, editor_standin

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
PASSWORD = "correct horse"


@dataclass
class Site:
    """Docbridge served on loopback, with the user `alice`."""

    url: str
    app: Flask
    editor: EditorStandIn | None
    document_server: DocumentServerStandIn | None
    home_id: str
    user_id: str


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1200, "height": 800})
    context.set_default_timeout(15_000)
    opened = context.new_page()
    yield opened
    context.close()


@pytest.fixture
def make_site(make_app: Callable[..., Flask]) -> Iterator[Callable[..., Site]]:
    """Serve Docbridge on 127.0.0.1. `with_editor` configures the WOPI editor stand-in (app
    "Office"), `with_onlyoffice` the Document Server stand-in (app "OnlyOffice", preferred)."""
    with ExitStack() as stack:

        def build(with_editor: bool = True, with_onlyoffice: bool = False, **overrides: Any) -> Site:
            editor = stack.enter_context(editor_standin()) if with_editor else None
            ds = stack.enter_context(DocumentServerStandIn(DS_SECRET)) if with_onlyoffice else None
            port = free_port()
            url = f"http://127.0.0.1:{port}"
            settings: dict[str, Any] = {"public_url": url, **overrides}
            if editor is not None:
                settings["wopi"] = {"apps": [{"name": "Office", "discovery_url": editor.discovery_url}]}
            if ds is not None:
                settings["onlyoffice"] = {
                    "document_server_url": ds.base,
                    "jwt_secret": DS_SECRET,
                    "docbridge_url_for_document_server": url,
                    "timeout_seconds": 10,
                    "priority": 10,
                }
            app = make_app(**settings)
            user = services_of(app).users.create("alice", PASSWORD, display_name="Alice Archer")
            stack.enter_context(serve_wsgi(app, port))
            return Site(url, app, editor, ds, str(user.home_id), user.id)

        yield build


def log_in(page: Page, site: Site, password: str = PASSWORD, *, expect_success: bool = True, go: bool = True) -> None:
    """Log in as alice through the form (`go=False`: on the login page the browser is on)."""
    if go:
        page.goto(site.url + "/")
    page.get_by_label("User name").fill("alice")
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in", exact=True).click()
    if expect_success:
        page.wait_for_selector("body[data-ready=true]")


def shoot(page: Page, name: str) -> None:
    """Screenshot a main screen. `WEB_SCREENSHOTS=1` writes it to docs/screenshots/ (how the
    README's pictures are refreshed); otherwise the tree is left as it is."""
    image = page.screenshot()
    assert image.startswith(b"\x89PNG")
    if os.environ.get("WEB_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        (SCREENSHOTS / f"{name}.png").write_bytes(image)
