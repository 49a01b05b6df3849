"""Cut-off and malformed request bodies under a real gunicorn, sent over raw sockets the way
a flaky network, a proxy timeout or a restarting WOPI client leaves them.

Each case sends a new version of a file whose current version is known, then checks what a
user sees afterwards: the same current version with the same bytes, no new version, no
blob, temporary file or pending mark left behind; and, when the client can still read, a
400 in the API's error shape. Both upload routes are driven: the file API's PUT and WOPI
PutFile.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import socket
import sqlite3
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest
import requests

from tests.support.gunicorn import ADMIN_PASSWORD, GunicornServer, run_cli, run_gunicorn

pytestmark = pytest.mark.slow

ADMIN = ("admin", ADMIN_PASSWORD)
DECLARED = 1_000_000
SENT = 400_000
CURRENT = b"".join(hashlib.sha256(str(index).encode()).digest() for index in range(8_000))
LOCK_ID = "cut-off-bodies-lock"


@dataclass(frozen=True)
class Route:
    """Where a new version of one file is sent, and the headers that go with it."""

    name: str
    path: str
    headers: dict[str, str]
    file_id: str


@dataclass(frozen=True)
class Setup:
    server: GunicornServer
    data_dir: Path
    home: str
    api_route: Route
    wopi_route: Route


def _api(server: GunicornServer, method: str, path: str, **kwargs: object) -> requests.Response:
    return requests.request(method, f"{server.url}{path}", auth=ADMIN, timeout=60, **kwargs)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    data_dir = tmp_path_factory.mktemp("cut-off") / "data"
    with run_gunicorn(data_dir, workers=1, extra_env={"DOCBRIDGE_ACCESS_LOG": "1"}) as server:
        home = _api(server, "GET", "/api/v1/me").json()["home_id"]
        authorization = "Basic " + base64.b64encode(":".join(ADMIN).encode()).decode()
        api_route = Route("api", f"/api/v1/containers/{quote(home, safe='')}/files/ledger.bin",
                          {"Authorization": authorization}, "")
        response = _api(server, "PUT", api_route.path, data=CURRENT)
        assert response.status_code == 201, response.text
        api_route = Route(api_route.name, api_route.path, api_route.headers, response.json()["file_id"])

        # The WOPI validator's test file: a token for it, a lock, and a first full version.
        output = run_cli(data_dir, "wopi", "test-file", "admin")
        wopi_src = re.search(r"WOPISrc: (\S+)", output).group(1)  # type: ignore[union-attr]
        token = re.search(r"access_token: (\S+)", output).group(1)  # type: ignore[union-attr]
        file_id = requests.utils.unquote(wopi_src.rsplit("/", 1)[1])
        base = f"/wopi/files/{quote(file_id, safe='')}"
        locked = requests.post(f"{server.url}{base}?access_token={token}", timeout=30,
                               headers={"X-WOPI-Override": "LOCK", "X-WOPI-Lock": LOCK_ID})
        assert locked.status_code == 200, locked.text
        wopi_route = Route("wopi", f"{base}/contents?access_token={token}",
                           {"X-WOPI-Override": "PUT", "X-WOPI-Lock": LOCK_ID}, file_id)
        put = requests.post(f"{server.url}{wopi_route.path}", data=CURRENT, headers=wopi_route.headers, timeout=30)
        assert put.status_code == 200, put.text
        yield Setup(server, data_dir, home, api_route, wopi_route)


# --- what a user and the disk show ----------------------------------------------------------


def versions_of(setup: Setup, file_id: str) -> list[int]:
    response = _api(setup.server, "GET", f"/api/v1/files/{quote(file_id, safe='')}/versions")
    assert response.status_code == 200, response.text
    return [item["version"] for item in response.json()["versions"]]


def content_of(setup: Setup, file_id: str) -> bytes:
    response = _api(setup.server, "GET", f"/api/v1/files/{quote(file_id, safe='')}/content")
    assert response.status_code == 200, response.text
    return response.content


def left_behind(data_dir: Path) -> tuple[set[str], list[str], int]:
    """Blobs no version references, temporary files, pending marks."""
    blobs = data_dir / "blobs"
    on_disk = {path.name for path in blobs.glob("[0-9a-f][0-9a-f]/[0-9a-f][0-9a-f]/*")}
    with sqlite3.connect(f"file:{data_dir / 'metadata.sqlite3'}?mode=ro", uri=True) as connection:
        referenced = {row[0] for row in connection.execute("SELECT blob_key FROM versions")}
        pending = connection.execute("SELECT count(*) FROM pending_blobs").fetchone()[0]
    return on_disk - referenced, sorted(path.name for path in (blobs / "tmp").glob("*.part")), pending


def answers_logged(server: GunicornServer, status: int = 400) -> int:
    """How many answers with `status` gunicorn's access log holds (it logs each request once
    the application is done with it, whether or not the client was still there)."""
    return len(re.findall(rf'HTTP/1\.1" {status} ', server.log_path.read_text(errors="replace")))


def wait_for_answers_logged(server: GunicornServer, count: int) -> None:
    deadline = time.monotonic() + 30
    while answers_logged(server) < count:
        if time.monotonic() > deadline:
            raise AssertionError(f"the server never finished the request:\n{server.log()}")
        time.sleep(0.05)


# --- raw clients ----------------------------------------------------------------------------


def _request_head(setup: Setup, route: Route, framing: dict[str, str]) -> bytes:
    lines = [f"POST {route.path} HTTP/1.1" if route.name == "wopi" else f"PUT {route.path} HTTP/1.1",
             f"Host: 127.0.0.1:{setup.server.url.rsplit(':', 1)[1]}"]
    lines += [f"{name}: {value}" for name, value in {**route.headers, **framing}.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def _connect(setup: Setup) -> socket.socket:
    connection = socket.create_connection(("127.0.0.1", int(setup.server.url.rsplit(":", 1)[1])), timeout=30)
    connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return connection


def _read_response(connection: socket.socket) -> tuple[int, dict[str, str], bytes] | None:
    """The server's answer, or None when it sent nothing before closing."""
    received = b""
    try:
        while True:
            chunk = connection.recv(65536)
            if not chunk:
                break
            received += chunk
            head, separator, body = received.partition(b"\r\n\r\n")
            if separator:
                headers = dict(
                    line.split(": ", 1) for line in head.decode("latin-1").split("\r\n")[1:] if ": " in line
                )
                length = int(headers.get("Content-Length", "-1"))
                if 0 <= length <= len(body):
                    break
    except (ConnectionResetError, TimeoutError):
        pass
    if not received:
        return None
    head, _, body = received.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {name.lower(): value for name, value in (line.split(": ", 1) for line in header_lines if ": " in line)}
    return int(status_line.split()[1]), headers, body


def _chunk(data: bytes) -> bytes:
    return f"{len(data):x}\r\n".encode() + data + b"\r\n"


def _new_content(size: int) -> bytes:
    return bytes(index % 251 for index in range(size))


Sender = Callable[[Setup, Route], tuple[int, dict[str, str], bytes] | None]


def short_length_then_close(setup: Setup, route: Route) -> tuple[int, dict[str, str], bytes] | None:
    with _connect(setup) as connection:
        connection.sendall(_request_head(setup, route, {"Content-Length": str(DECLARED)}))
        connection.sendall(_new_content(SENT))
    return None


def short_length_then_half_close(setup: Setup, route: Route) -> tuple[int, dict[str, str], bytes] | None:
    with _connect(setup) as connection:
        connection.sendall(_request_head(setup, route, {"Content-Length": str(DECLARED)}))
        connection.sendall(_new_content(SENT))
        connection.shutdown(socket.SHUT_WR)
        return _read_response(connection)


def chunked_cut_at_a_boundary(setup: Setup, route: Route) -> tuple[int, dict[str, str], bytes] | None:
    with _connect(setup) as connection:
        connection.sendall(_request_head(setup, route, {"Transfer-Encoding": "chunked"}))
        content = _new_content(SENT)
        for start in range(0, len(content), 100_000):
            connection.sendall(_chunk(content[start : start + 100_000]))
        connection.shutdown(socket.SHUT_WR)  # no last chunk
        return _read_response(connection)


def chunked_cut_mid_chunk(setup: Setup, route: Route) -> tuple[int, dict[str, str], bytes] | None:
    with _connect(setup) as connection:
        connection.sendall(_request_head(setup, route, {"Transfer-Encoding": "chunked"}))
        connection.sendall(_chunk(_new_content(100_000)))
        connection.sendall(f"{300_000:x}\r\n".encode() + _new_content(120_000))
        connection.shutdown(socket.SHUT_WR)
        return _read_response(connection)


def chunked_with_a_bad_chunk_size(setup: Setup, route: Route) -> tuple[int, dict[str, str], bytes] | None:
    with _connect(setup) as connection:
        connection.sendall(_request_head(setup, route, {"Transfer-Encoding": "chunked"}))
        connection.sendall(_chunk(_new_content(100_000)))
        connection.sendall(b"zz\r\n" + _new_content(1000) + b"\r\n0\r\n\r\n")
        return _read_response(connection)


BROKEN_BODIES: dict[str, Sender] = {
    "short Content-Length, then close": short_length_then_close,
    "short Content-Length, then half-close": short_length_then_half_close,
    "chunked, cut at a chunk boundary": chunked_cut_at_a_boundary,
    "chunked, cut in the middle of a chunk": chunked_cut_mid_chunk,
    "chunked, bad chunk size": chunked_with_a_bad_chunk_size,
}


def _route(setup: Setup, name: str) -> Route:
    return setup.api_route if name == "api" else setup.wopi_route


@pytest.mark.parametrize("route_name", ["api", "wopi"])
@pytest.mark.parametrize("case", list(BROKEN_BODIES))
def test_a_broken_body_stores_nothing_and_keeps_the_current_version(setup: Setup, route_name: str, case: str) -> None:
    route = _route(setup, route_name)
    before = versions_of(setup, route.file_id)
    current = content_of(setup, route.file_id)

    refused_before = answers_logged(setup.server)
    answer = BROKEN_BODIES[case](setup, route)

    if answer is not None:
        status, headers, body = answer
        assert status == 400, body
        assert headers["content-type"].startswith("application/json")
        error = json.loads(body)
        assert error["code"] == "INVALID_PARAMETER"
        assert "body" in error["message"]
    else:
        # The client is gone before any answer: wait until the server has finished with it.
        wait_for_answers_logged(setup.server, refused_before + 1)
    assert versions_of(setup, route.file_id) == before
    assert content_of(setup, route.file_id) == current
    assert left_behind(setup.data_dir) == (set(), [], 0)


@pytest.mark.parametrize("route_name", ["api", "wopi"])
def test_a_complete_chunked_body_is_stored_whole(setup: Setup, route_name: str) -> None:
    route = _route(setup, route_name)
    before = versions_of(setup, route.file_id)
    content = _new_content(SENT + 7)
    with _connect(setup) as connection:
        connection.sendall(_request_head(setup, route, {"Transfer-Encoding": "chunked"}))
        for start in range(0, len(content), 65_536):
            connection.sendall(_chunk(content[start : start + 65_536]))
        connection.sendall(b"0\r\n\r\n")
        answer = _read_response(connection)
    assert answer is not None and answer[0] == 200, answer
    assert versions_of(setup, route.file_id) == [max(before) + 1, *before]
    assert content_of(setup, route.file_id) == content
    assert left_behind(setup.data_dir) == (set(), [], 0)


@pytest.mark.parametrize("route_name", ["api", "wopi"])
def test_a_complete_body_after_a_cut_off_one_on_the_same_file_is_stored(setup: Setup, route_name: str) -> None:
    """A client that retries after its connection dropped gets its whole version stored."""
    route = _route(setup, route_name)
    before = versions_of(setup, route.file_id)
    short_length_then_half_close(setup, route)
    content = _new_content(DECLARED)
    with _connect(setup) as connection:
        connection.sendall(_request_head(setup, route, {"Content-Length": str(DECLARED)}) + content)
        answer = _read_response(connection)
    assert answer is not None and answer[0] == 200, answer
    assert versions_of(setup, route.file_id) == [max(before) + 1, *before]
    assert content_of(setup, route.file_id) == content
