"""Fixtures for the ONLYOFFICE journeys: a Document Server stand-in on a loopback port and
Docbridge served on another, configured to reach each other."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient

from server.services import services_of
from tests.conftest import TestUser, basic_auth
from tests.onlyoffice.ds_standin import DocumentServerStandIn
from tests.support.net import free_port, serve_wsgi

DS_SECRET = "stand-in-secret-" + "0123456789abcdef" * 4
CONFIG_PATTERN = re.compile(r'<script type="application/json" id="docbridge-config">(.*?)</script>', re.S)


@dataclass
class Docbridge:
    app: Flask
    base: str
    client: FlaskClient

    def user(self, name: str) -> TestUser:
        user = services_of(self.app).users.create(name, "secret")
        return TestUser(user.id, user.name, "secret", str(user.home_id), basic_auth(name, "secret"))

    def upload(self, user: TestUser, name: str, content: bytes, parent: str | None = None) -> str:
        response = self.client.put(f"/api/v1/containers/{parent or user.home_id}/files/{name}", data=content,
                                   headers=user.auth)
        assert response.status_code in (200, 201), response.get_data(as_text=True)
        return str(response.get_json()["file_id"])

    def launch(self, user: TestUser, file_id: str, view_mode: str | None = None) -> dict[str, Any]:
        query: dict[str, str] = {"file_id": file_id, "app_name": "OnlyOffice"}
        if view_mode:
            query["view_mode"] = view_mode
        response = self.client.post("/app/open", query_string=query, headers=user.auth)
        assert response.status_code == 200, response.get_data(as_text=True)
        return dict(response.get_json())

    def editor_page(self, user: TestUser, file_id: str, view_mode: str | None = None) -> tuple[str, dict[str, str]]:
        launch = self.launch(user, file_id, view_mode)
        parts = urlsplit(launch["app_url"])
        assert launch["method"] == "POST"
        response = self.client.post(f"{parts.path}?{parts.query}", data=launch["form_parameters"])
        assert response.status_code == 200, response.get_data(as_text=True)
        return response.get_data(as_text=True), dict(launch["form_parameters"])

    def open_config(self, user: TestUser, file_id: str, view_mode: str | None = None) -> dict[str, Any]:
        page, _form = self.editor_page(user, file_id, view_mode)
        found = CONFIG_PATTERN.search(page)
        assert found, page
        return dict(json.loads(found.group(1)))

    def versions(self, user: TestUser, file_id: str) -> list[dict[str, Any]]:
        response = self.client.get(f"/api/v1/files/{file_id}/versions", headers=user.auth)
        assert response.status_code == 200
        return sorted(response.get_json()["versions"], key=lambda item: item["version"])

    def content(self, user: TestUser, file_id: str) -> bytes:
        response = self.client.get(f"/api/v1/files/{file_id}/content", headers=user.auth)
        assert response.status_code == 200
        return bytes(response.get_data())


@pytest.fixture
def ds() -> Iterator[DocumentServerStandIn]:
    with DocumentServerStandIn(DS_SECRET) as stand_in:
        yield stand_in


@pytest.fixture
def start_docbridge(make_app: Callable[..., Flask]) -> Iterator[Callable[..., Docbridge]]:
    from contextlib import ExitStack

    with ExitStack() as stack:

        def start(ds_base: str, _storage: dict[str, Any] | None = None, **onlyoffice: Any) -> Docbridge:
            port = free_port()
            base = f"http://127.0.0.1:{port}"
            settings = {"document_server_url": ds_base, "jwt_secret": DS_SECRET,
                        "docbridge_url_for_document_server": base, "timeout_seconds": 10, **onlyoffice}
            extra: dict[str, Any] = {"storage": _storage} if _storage else {}
            app = make_app(public_url=base, onlyoffice=settings, **extra)
            stack.enter_context(serve_wsgi(app, port))
            return Docbridge(app, base, app.test_client())

        yield start


@pytest.fixture
def docbridge(start_docbridge: Callable[..., Docbridge], ds: DocumentServerStandIn) -> Docbridge:
    return start_docbridge(ds.base)
