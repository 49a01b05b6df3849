"""The WOPI validator's requests over a real socket: the token percent-encoded the way the
validator's .NET code writes it (every character but letters and digits), an extra
``access_token_ttl`` parameter, the token again as ``Authorization: Bearer``, and proofs
signed over that exact URL. Docbridge must verify the proof against the request target as
it arrived, not a re-encoded one."""

from __future__ import annotations

import http.client
import json
from collections.abc import Callable
from typing import Any
from urllib.parse import quote, urlsplit

import pytest
from flask import Flask

from tests.conftest import TestUser, upload
from tests.wopi.conftest import PUBLIC_URL, issue_token
from tests.wopi.test_wopi_validator_flows import INVALID_PROOF, dotnet_utf7
from tests.wopi.wopi_client import WopiClientStandIn


def url_key_value_encode(value: str) -> str:
    """Percent-encode all but ASCII letters and digits (UTF-8), as the validator does."""
    return "".join(
        char if char.isascii() and char.isalnum() else "".join(f"%{byte:02X}" for byte in char.encode())
        for char in value
    )


def send(base: str, method: str, path: str, headers: dict[str, str]) -> tuple[int, Any]:
    """One request with `path` as the request target byte for byte (``requests`` would
    unquote %2E and friends, and the proof covers the URL exactly as sent)."""
    parts = urlsplit(base)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        connection.request(method, path, body=b"" if method == "POST" else None, headers=headers)
        response = connection.getresponse()
        body = response.read()
    finally:
        connection.close()
    return response.status, json.loads(body) if body else None


@pytest.fixture
def target(app: Flask, alice: TestUser, live_server: Callable[[Flask], str]) -> tuple[str, str, str]:
    file_id = upload(app.test_client(), alice, alice.home_id, "test.wopitest", b"content")
    token = issue_token(app, alice, file_id)
    path = f"/wopi/files/{quote(file_id, safe='')}?access_token={url_key_value_encode(token)}&access_token_ttl=0"
    return live_server(app), path, token


@pytest.mark.parametrize(
    ("mutate", "status"),
    [(None, 200), ("old", 200), ("current", 500), ("both", 500)],
)
def test_proof_over_the_validators_url(
    target: tuple[str, str, str], stand_in: WopiClientStandIn, mutate: str | None, status: int
) -> None:
    base, path, token = target
    headers = {"Authorization": f"Bearer {token}", **stand_in.proof_headers(token, PUBLIC_URL + path)}
    if mutate in ("current", "both"):
        headers["X-WOPI-Proof"] = INVALID_PROOF
    if mutate in ("old", "both"):
        headers["X-WOPI-ProofOld"] = INVALID_PROOF
    code, body = send(base, "GET", path, headers)
    assert code == status, body


def test_rename_with_an_empty_lock_header_and_utf7_name(target: tuple[str, str, str], stand_in: WopiClientStandIn) -> None:
    """RenameFile as the validator sends it on an unlocked file: ``X-WOPI-Lock:`` empty and
    the name in .NET's UTF-7."""
    base, path, token = target
    headers = {
        "Authorization": f"Bearer {token}",
        "X-WOPI-Override": "RENAME_FILE",
        "X-WOPI-Lock": "",
        "X-WOPI-RequestedName": dotnet_utf7("madeup_renamed"),
        **stand_in.proof_headers(token, PUBLIC_URL + path),
    }
    code, body = send(base, "POST", path, headers)
    assert (code, body) == (200, {"Name": "madeup_renamed"})
    del headers["X-WOPI-Override"]
    code, info = send(base, "GET", path, headers)
    assert (code, info["BaseFileName"]) == (200, "madeup_renamed.wopitest")
