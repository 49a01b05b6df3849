"""Data safety under real crashes: a gunicorn worker killed in the middle of an upload, and
a process that dies between writing a blob and committing its version.

What the user sees afterwards is checked through the HTTP API; what is left on disk is
checked by reading the data directory and the metadata database directly.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import os
import re
import signal
import sqlite3
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from tests.support.gunicorn import ADMIN_PASSWORD, GunicornServer, run_cli, run_gunicorn
from tests.support.webdav import WebDavServer, nginx_webdav

pytestmark = pytest.mark.slow

ADMIN = ("admin", ADMIN_PASSWORD)
NAME = "ledger.xlsx"
CHUNK = 256 * 1024


def version_one() -> bytes:
    return b"".join(hashlib.sha256(str(index).encode()).digest() for index in range(20_000))


def api(server: GunicornServer, path: str) -> requests.Response:
    response = requests.get(f"{server.url}/api/v1{path}", auth=ADMIN, timeout=30)
    assert response.status_code == 200, response.text
    return response


def home_of_admin(server: GunicornServer) -> str:
    return str(api(server, "/me").json()["home_id"])


def upload(server: GunicornServer, home: str, content: bytes, name: str = NAME) -> str:
    response = requests.put(f"{server.url}/api/v1/containers/{home}/files/{name}", data=content, auth=ADMIN, timeout=60)
    assert response.status_code in (200, 201), response.text
    return str(response.json()["file_id"])


def assert_only_version_one(server: GunicornServer, home: str, file_id: str, content: bytes) -> None:
    """What a user sees: one file, at version 1, with exactly the bytes first uploaded."""
    listing = api(server, f"/containers/{home}").json()
    assert [(child["name"], child["version"]) for child in listing["children"]] == [(NAME, 1)]
    assert listing["children"][0]["sha256"] == hashlib.sha256(content).hexdigest()
    assert [item["version"] for item in api(server, f"/files/{file_id}/versions").json()["versions"]] == [1]
    downloaded = api(server, f"/files/{file_id}/content").content
    assert hashlib.sha256(downloaded).hexdigest() == hashlib.sha256(content).hexdigest()
    assert downloaded == content


def blob_files(blob_root: Path) -> set[str]:
    """Finished blobs on disk (local: <k0k1>/<k2k3>/<key>, WebDAV: <k0k1>/<key>)."""
    return {
        path.name
        for path in blob_root.glob("[0-9a-f][0-9a-f]/**/*")
        if path.is_file() and re.fullmatch("[0-9a-f]{32}", path.name)
    }


def temporary_files(blob_root: Path) -> list[str]:
    return sorted(path.name for path in (blob_root / "tmp").glob("*.part"))


@dataclass(frozen=True)
class ByteBackend:
    environment: dict[str, str]
    blob_root: Path


@pytest.fixture(scope="module")
def webdav_server() -> Iterator[WebDavServer]:
    with nginx_webdav() as server:
        yield server


@pytest.fixture(params=["local", "webdav"])
def byte_backend(request: pytest.FixtureRequest, tmp_path: Path) -> ByteBackend:
    if request.param == "local":
        return ByteBackend({}, tmp_path / "data" / "blobs")
    server: WebDavServer = request.getfixturevalue("webdav_server")
    prefix = uuid.uuid4().hex
    environment = {"DOCBRIDGE_STORAGE__BACKEND": "webdav", "DOCBRIDGE_STORAGE__WEBDAV_URL": f"{server.url}{prefix}/"}
    return ByteBackend(environment, server.root / prefix)


def referenced_blobs(data_dir: Path) -> set[str]:
    with sqlite3.connect(f"file:{data_dir / 'metadata.sqlite3'}?mode=ro", uri=True) as connection:
        return {row[0] for row in connection.execute("SELECT blob_key FROM versions")}


def start_slow_upload(server: GunicornServer, home: str, total: int) -> http.client.HTTPConnection:
    """Begin a PUT of `total` bytes, as a client on a slow line would; the body is not finished."""
    connection = http.client.HTTPConnection("127.0.0.1", int(server.url.rsplit(":", 1)[1]), timeout=30)
    connection.putrequest("PUT", f"/api/v1/containers/{home}/files/{NAME}")
    connection.putheader("Authorization", "Basic " + base64.b64encode(":".join(ADMIN).encode()).decode())
    connection.putheader("Content-Length", str(total))
    connection.endheaders()
    return connection


def send_until_part_file_grows(connection: http.client.HTTPConnection, data_dir: Path, at_least: int) -> int:
    """Send chunks until the server has written `at_least` bytes of the temporary blob."""
    sent = 0
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        connection.send(b"\xab" * CHUNK)
        sent += CHUNK
        parts = list((data_dir / "blobs" / "tmp").glob("*.part"))
        if parts and parts[0].stat().st_size >= at_least:
            return sent
        time.sleep(0.01)
    raise AssertionError("the server never started writing the upload")


def test_a_worker_killed_mid_upload_leaves_version_one_current(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    content = version_one()
    with run_gunicorn(data_dir, workers=1) as server:
        home = home_of_admin(server)
        file_id = upload(server, home, content)

        total = 256 * 1024 * 1024
        connection = start_slow_upload(server, home, total)
        sent = send_until_part_file_grows(connection, data_dir, 2 * 1024 * 1024)
        assert sent < total
        [worker] = server.worker_pids()
        os.kill(worker, signal.SIGKILL)
        with pytest.raises((OSError, http.client.HTTPException)):
            for _ in range(total // CHUNK):
                connection.send(b"\xab" * CHUNK)
            connection.getresponse()
        connection.close()

        server.wait_for_workers(1, not_in={worker})
        assert_only_version_one(server, home, file_id, content)
        # The cut-off write is still on disk, but nobody can see it.
        assert len(temporary_files(data_dir / "blobs")) == 1
        assert blob_files(data_dir / "blobs") == referenced_blobs(data_dir)

    # The next start with no grace period clears what the crash left.
    with run_gunicorn(data_dir, workers=1, extra_env={"DOCBRIDGE_STORAGE__ORPHAN_GRACE_SECONDS": "0"}) as server:
        assert temporary_files(data_dir / "blobs") == []
        assert blob_files(data_dir / "blobs") == referenced_blobs(data_dir)
        assert_only_version_one(server, home, file_id, content)


def test_a_crash_between_blob_and_commit_leaves_version_one_and_an_orphan_gc_removes(
    tmp_path: Path, byte_backend: ByteBackend
) -> None:
    data_dir, blobs, backend = tmp_path / "data", byte_backend.blob_root, byte_backend.environment
    content = version_one()
    with run_gunicorn(data_dir, workers=1, extra_env=backend) as server:
        home = home_of_admin(server)
        file_id = upload(server, home, content)

    crash = {**backend, "DOCBRIDGE_STORAGE__FAULT_INJECTION": "exit-after-blob"}
    with run_gunicorn(data_dir, workers=1, extra_env=crash) as server:
        [worker] = server.worker_pids()
        second = b"version two " * 100_000
        with pytest.raises(requests.ConnectionError):
            requests.put(f"{server.url}/api/v1/containers/{home}/files/{NAME}", data=second, auth=ADMIN, timeout=60)
        server.wait_for_workers(1, not_in={worker})
        assert_only_version_one(server, home, file_id, content)

    # The whole blob of version 2 reached its final place, but no version points to it.
    orphans = blob_files(blobs) - referenced_blobs(data_dir)
    assert len(orphans) == 1
    assert temporary_files(blobs) == []

    output = run_cli(data_dir, "storage", "gc", "--grace-seconds", "0", extra_env=backend)
    assert "removed 1 orphan blob(s)" in output
    assert blob_files(blobs) == referenced_blobs(data_dir)
    assert len(referenced_blobs(data_dir)) == 1

    with run_gunicorn(data_dir, workers=1, extra_env=backend) as server:
        assert_only_version_one(server, home, file_id, content)


def test_forked_workers_share_the_webdav_backend_safely(tmp_path: Path, webdav_server: WebDavServer) -> None:
    """The master talks to the WebDAV server before forking (the start-up sweep); each worker
    must open its own connections, or two workers would write into one socket."""
    prefix = uuid.uuid4().hex
    backend = {"DOCBRIDGE_STORAGE__BACKEND": "webdav", "DOCBRIDGE_STORAGE__WEBDAV_URL": f"{webdav_server.url}{prefix}/"}
    payloads = {f"file-{index}.bin": hashlib.sha256(str(index).encode()).digest() * 40_000 for index in range(16)}
    with run_gunicorn(tmp_path / "data", workers=2, threads=4, extra_env=backend) as server:
        home = home_of_admin(server)

        def round_trip(name: str) -> bool:
            file_id = upload(server, home, payloads[name], name)
            return api(server, f"/files/{file_id}/content").content == payloads[name]

        with ThreadPoolExecutor(max_workers=8) as pool:
            assert all(pool.map(round_trip, payloads))
    assert blob_files(webdav_server.root / prefix) == referenced_blobs(tmp_path / "data")
    assert len(blob_files(webdav_server.root / prefix)) == len(payloads)
