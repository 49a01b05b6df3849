"""Fixtures shared by the whole suite: apps on SQLite or PostgreSQL, users, uploads, and
the app served on a loopback port for peers that call back into Docbridge."""

from __future__ import annotations

import base64
import os
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app import create_app
from server.services import services_of
from tests.support.net import serve_wsgi
from tests.support.postgres import create_database, migrated_template, postgres_cluster

ADMIN_PASSWORD = "admin-secret"


class BufferedClient(FlaskClient):
    """Reads each response whole and closes it, as a WSGI server would, so streamed files
    are not left open between requests."""

    def open(self, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("buffered", True)
        return super().open(*args, **kwargs)


@dataclass(frozen=True)
class TestUser:
    __test__ = False  # a value, not a test class

    id: str
    name: str
    password: str
    home_id: str
    auth: dict[str, str]


def basic_auth(name: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{name}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


@pytest.fixture(scope="session")
def pg_admin_url() -> Iterator[str]:
    with postgres_cluster() as url:
        yield url


@pytest.fixture(scope="session")
def pg_template(pg_admin_url: str) -> str:
    return migrated_template(pg_admin_url)


@pytest.fixture
def pg_url(pg_admin_url: str, pg_template: str) -> str:
    """A fresh, migrated PostgreSQL database for this test."""
    return create_database(pg_admin_url, template=pg_template)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest) -> str:
    """Run the test once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        return ""
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
def base_settings(tmp_path: Path) -> dict[str, Any]:
    return {
        "data_dir": str(tmp_path / "data"),
        "public_url": "http://docbridge.test",
        "admin_password": ADMIN_PASSWORD,
        "storage": {"orphan_grace_seconds": 3600},
        # scrypt costs ~0.14 s a hash, paid for the admin and every user a test makes; the
        # default method keeps its own tests (core/test_auth.py) and every gunicorn-run one.
        "password_hashing": "pbkdf2:sha256:1000",
    }


@pytest.fixture
def make_app(base_settings: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., Flask]]:
    """Build an app; keyword arguments are settings overrides merged over the test defaults."""
    for name in list(os.environ):
        if name.startswith("DOCBRIDGE_"):
            monkeypatch.delenv(name)
    built: list[Flask] = []

    def build(**overrides: Any) -> Flask:
        app = create_app(_merge(base_settings, overrides))
        app.config["TESTING"] = True
        app.test_client_class = BufferedClient
        built.append(app)
        return app

    yield build
    for app in built:
        services_of(app).engine.dispose()


@pytest.fixture
def app(make_app: Callable[..., Flask], database_url_for_app: str) -> Flask:
    return make_app(database_url=database_url_for_app) if database_url_for_app else make_app()


@pytest.fixture
def database_url_for_app() -> str:
    """SQLite unless a test module overrides this fixture (e.g. with `database_url`)."""
    return ""


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def make_user(app: Flask) -> Callable[..., TestUser]:
    def create(name: str, password: str = "secret", admin: bool = False, target: Flask | None = None) -> TestUser:
        user = services_of(target or app).users.create(name, password, is_admin=admin)
        return TestUser(user.id, user.name, password, str(user.home_id), basic_auth(name, password))

    return create


@pytest.fixture
def alice(make_user: Callable[..., TestUser]) -> TestUser:
    return make_user("alice")


@pytest.fixture
def bob(make_user: Callable[..., TestUser]) -> TestUser:
    return make_user("bob")


def upload(client: FlaskClient, user: TestUser, parent_id: str, name: str, content: bytes) -> str:
    """Upload through the API as `user`; return the file id."""
    response = client.put(f"/api/v1/containers/{parent_id}/files/{name}", data=content, headers=user.auth)
    assert response.status_code in (200, 201), response.get_data(as_text=True)
    return str(response.get_json()["file_id"])


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Headless Chromium for the whole run (see tests/support/browser.py)."""
    from tests.support.browser import chromium

    with chromium() as launched:
        yield launched


@pytest.fixture
def live_server() -> Iterator[Callable[[Flask], str]]:
    """Serve an app on 127.0.0.1:<free port> in a thread; returns its base URL."""
    with ExitStack() as stack:

        def serve(target: Flask) -> str:
            return stack.enter_context(serve_wsgi(target))

        yield serve
