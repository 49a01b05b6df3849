"""An app that registered over HTTP reads and saves the file it was launched for through
Docbridge's WOPI host, with the WOPISrc and the token of the launch call."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import TestUser, upload
from tests.registry.helpers import ODT
from tests.registry.provider import StandInProvider, stand_in_provider

SECRET = "registration-secret"  # noqa: S105
HEADERS = {"X-Docbridge-Provider-Secret": SECRET}


@pytest.fixture
def provider() -> Iterator[StandInProvider]:
    with stand_in_provider(secret=SECRET) as running:
        yield running


@pytest.fixture
def app(make_app: Callable[..., Flask], provider: StandInProvider) -> Flask:
    # The stand-in runs on loopback, next to Docbridge: the admin lists its origin.
    return make_app(app_registry={"provider_secret": SECRET, "provider_origins": [provider.url]})


def launch_for(client: FlaskClient, user: TestUser, provider: StandInProvider, view_mode: str) -> dict[str, Any]:
    registered = client.post(
        "/api/v1/app-providers",
        json={"name": "Draw", "mimetypes": [ODT], "launch_url": f"{provider.url}/launch", "ttl_seconds": 60},
        headers=HEADERS,
    )
    assert registered.status_code == 200, registered.get_data(as_text=True)
    file_id = upload(client, user, user.home_id, "plan.odt", b"first")
    opened = client.post("/app/open", query_string={"file_id": file_id, "view_mode": view_mode}, headers=user.auth)
    assert opened.status_code == 200, opened.get_data(as_text=True)
    return dict(provider.launches[-1])


def wopi_path(call: dict[str, Any]) -> str:
    source = urlsplit(call["wopi_src"])
    assert source.netloc == "docbridge.test"
    return source.path


def test_provider_edits_through_the_wopi_host(client: FlaskClient, alice: TestUser, provider: StandInProvider) -> None:
    call = launch_for(client, alice, provider, "write")
    path, token = wopi_path(call), call["access_token"]
    info = client.get(path, query_string={"access_token": token}).get_json()
    assert info["BaseFileName"] == "plan.odt" and info["UserCanWrite"] is True
    assert client.get(f"{path}/contents", query_string={"access_token": token}).data == b"first"
    lock = {"X-WOPI-Override": "LOCK", "X-WOPI-Lock": "draw-session"}
    assert client.post(path, query_string={"access_token": token}, headers=lock).status_code == 200
    saved = client.post(
        f"{path}/contents",
        query_string={"access_token": token},
        data=b"edited in Draw",
        headers={"X-WOPI-Override": "PUT", "X-WOPI-Lock": "draw-session"},
    )
    assert saved.status_code == 200
    file_id = call["file"]["id"]
    versions = client.get(f"/api/v1/files/{file_id}/versions", headers=alice.auth).get_json()["versions"]
    assert (versions[0]["version"], versions[0]["author"], versions[0]["source"]) == (2, "alice", "wopi")
    assert client.get(f"/api/v1/files/{file_id}/content", headers=alice.auth).data == b"edited in Draw"


def test_read_token_cannot_save_and_tokens_die_with_the_registration(
    client: FlaskClient, alice: TestUser, provider: StandInProvider
) -> None:
    call = launch_for(client, alice, provider, "read")
    path, token = wopi_path(call), call["access_token"]
    refused = client.post(
        f"{path}/contents", query_string={"access_token": token}, data=b"x", headers={"X-WOPI-Override": "PUT"}
    )
    assert refused.status_code == 401
    assert client.delete("/api/v1/app-providers/Draw", headers=HEADERS).status_code in (200, 204)
    assert client.get(path, query_string={"access_token": token}).status_code == 401
