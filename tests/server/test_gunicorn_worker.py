"""The worker class of `gunicorn.conf.py` under a real gunicorn: a worker whose threads are all
busy leaves new connections to a worker with a free thread, so one slow client (a large
upload on a slow link) never holds up another who connects meanwhile.

Two workers of one thread each. In every round an upload is started and left hanging, which
takes one worker's only thread; a second client then connects and asks for /healthz. With
plain gthread either worker may accept that connection, and half the time the busy one did,
so the answer waited for the upload; here it must come from the other worker at once.
"""

from __future__ import annotations

import base64
import socket
import time
from collections.abc import Iterator
from urllib.parse import quote

import pytest
import requests

from tests.support.gunicorn import ADMIN_PASSWORD, GunicornServer, run_gunicorn

pytestmark = pytest.mark.slow

ROUNDS = 6
DECLARED = 1_000_000


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GunicornServer]:
    with run_gunicorn(tmp_path_factory.mktemp("worker") / "data", workers=2, threads=1) as running:
        yield running


def port_of(server: GunicornServer) -> int:
    return int(server.url.rsplit(":", 1)[1])


def start_hanging_upload(server: GunicornServer, home: str, name: str) -> socket.socket:
    """A PUT of a new file that declares 1 MB and sends its head and a few bytes, then stalls."""
    connection = socket.create_connection(("127.0.0.1", port_of(server)), timeout=30)
    authorization = base64.b64encode(f"admin:{ADMIN_PASSWORD}".encode()).decode()
    head = (
        f"PUT /api/v1/containers/{quote(home, safe='')}/files/{name} HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{port_of(server)}\r\n"
        f"Authorization: Basic {authorization}\r\n"
        f"Content-Length: {DECLARED}\r\n\r\n"
    )
    connection.sendall(head.encode() + b"x" * 1000)
    return connection


def test_a_client_who_connects_while_one_worker_is_busy_is_answered_by_the_other(server: GunicornServer) -> None:
    home = requests.get(f"{server.url}/api/v1/me", auth=("admin", ADMIN_PASSWORD), timeout=30).json()["home_id"]
    for round_number in range(ROUNDS):
        upload = start_hanging_upload(server, home, f"slow-{round_number}.bin")
        try:
            time.sleep(0.3)  # the upload's worker has handed it to its thread by now
            # The upload holds its worker's thread until the client goes away: an answer
            # queued behind it would not come before the cut-off below, and times out.
            answer = requests.get(f"{server.url}/healthz", timeout=10, headers={"Connection": "close"})
            assert answer.status_code == 200
        finally:
            upload.close()
        # The cut-off upload answers 400 and frees its thread before the next round.
        time.sleep(0.3)
    # Each upload was cut off: none of them became a file.
    listing = requests.get(f"{server.url}/api/v1/containers/{quote(home, safe='')}", auth=("admin", ADMIN_PASSWORD), timeout=30)
    assert listing.status_code == 200
    assert not [child["name"] for child in listing.json()["children"] if child["name"].startswith("slow-")]
