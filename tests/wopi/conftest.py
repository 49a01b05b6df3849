"""Fixtures for the WOPI tests: a WOPI client stand-in serving discovery on loopback, an app
configured with it, and a `WopiCaller` that speaks to the host as a WOPI client does."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from core.ids import parse_resource_id
from core.tokens import ViewMode
from registry.providers import audience_for
from server.services import services_of
from tests.conftest import TestUser, upload
from tests.wopi.wopi_client import WopiClientStandIn, serve

APP_NAME = "Office"
PUBLIC_URL = "http://localhost"


@pytest.fixture
def stand_in() -> Iterator[WopiClientStandIn]:
    with serve(WopiClientStandIn(shape="microsoft")) as client:
        yield client


def wopi_settings(stand_in: WopiClientStandIn, **wopi: Any) -> dict[str, Any]:
    return {
        "public_url": PUBLIC_URL,
        "wopi": {"apps": [{"name": APP_NAME, "discovery_url": stand_in.discovery_url}], **wopi},
    }


@pytest.fixture
def app(make_app: Callable[..., Flask], stand_in: WopiClientStandIn) -> Flask:
    return make_app(**wopi_settings(stand_in))


@dataclass
class WopiCaller:
    """Calls /wopi/files/<id> as a WOPI client: access token in the query, signed proofs."""

    client: FlaskClient
    stand_in: WopiClientStandIn
    token: str
    file_id: str
    sign: bool = True
    proof_options: dict[str, Any] = field(default_factory=dict)
    # Applied to the signed proof headers, as the WOPI validator's ProofKey mutator does.
    proof_mutation: Callable[[dict[str, str]], dict[str, str]] | None = None
    extra_headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_url(cls, client: FlaskClient, stand_in: WopiClientStandIn, url: str) -> WopiCaller:
        """From a PutRelativeFile `Url` (a WOPISrc with ?access_token=)."""
        parts = urlsplit(url)
        file_id = parts.path.rsplit("/", 1)[1]
        token = dict(pair.split("=", 1) for pair in parts.query.split("&"))["access_token"]
        from urllib.parse import unquote

        return cls(client, stand_in, unquote(token), unquote(file_id))

    def path(self, suffix: str = "") -> str:
        return f"/wopi/files/{quote(self.file_id, safe='')}{suffix}?{urlencode({'access_token': self.token})}"

    def _headers(self, path: str, headers: dict[str, str] | None) -> dict[str, str]:
        result = {**self.extra_headers, **(headers or {})}
        if self.sign:
            proof = self.stand_in.proof_headers(self.token, PUBLIC_URL + path, **self.proof_options)
            result.update(self.proof_mutation(proof) if self.proof_mutation else proof)
        return result

    def check_file_info(self, **headers: str) -> TestResponse:
        path = self.path()
        return self.client.get(path, headers=self._headers(path, headers))

    def get_file(self, headers: dict[str, str] | None = None) -> TestResponse:
        path = self.path("/contents")
        return self.client.get(path, headers=self._headers(path, headers))

    def put_file(self, data: bytes, lock: str | None = None) -> TestResponse:
        path = self.path("/contents")
        headers = {"X-WOPI-Override": "PUT"}
        if lock is not None:
            headers["X-WOPI-Lock"] = lock
        return self.client.post(path, data=data, headers=self._headers(path, headers))

    def post(self, override: str, headers: dict[str, str] | None = None, data: bytes = b"") -> TestResponse:
        path = self.path()
        merged = {"X-WOPI-Override": override, **(headers or {})}
        return self.client.post(path, data=data, headers=self._headers(path, merged))

    def lock(self, lock: str, old: str | None = None) -> TestResponse:
        headers = {"X-WOPI-Lock": lock}
        if old is not None:
            headers["X-WOPI-OldLock"] = old
        return self.post("LOCK", headers)

    def unlock(self, lock: str) -> TestResponse:
        return self.post("UNLOCK", {"X-WOPI-Lock": lock})


def issue_token(app: Flask, user: TestUser, file_id: str, mode: ViewMode = ViewMode.WRITE, app_name: str = APP_NAME) -> str:
    found = services_of(app)
    return found.tokens.issue(
        file_id=parse_resource_id(file_id),
        user_id=user.id,
        view_mode=mode,
        audience=audience_for(app_name),
        claims={"name": user.name.title()},
    ).token


@pytest.fixture
def make_caller(
    app: Flask, client: FlaskClient, stand_in: WopiClientStandIn
) -> Callable[..., WopiCaller]:
    def make(user: TestUser, name: str = "doc.wopitest", content: bytes = b"", mode: ViewMode = ViewMode.WRITE) -> WopiCaller:
        file_id = upload(client, user, user.home_id, name, content)
        return WopiCaller(client, stand_in, issue_token(app, user, file_id, mode), file_id)

    return make
