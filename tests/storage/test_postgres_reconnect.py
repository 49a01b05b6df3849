"""PostgreSQL ending Docbridge's connections (a restart, an idle-connection reaper, a
failover) costs no request once they have lain idle: a pooled connection idle past
`PING_AFTER_IDLE_SECONDS` is pinged before use and replaced when dead."""

from __future__ import annotations

import time
from collections.abc import Callable

import psycopg
from flask import Flask

from server.services import services_of
from storage.metadata.database import PING_AFTER_IDLE_SECONDS
from tests.conftest import basic_auth


def _end_every_connection_but_this(database_url: str) -> int:
    with psycopg.connect(database_url, autocommit=True) as connection:
        ended = connection.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchone()
    return int(ended[0]) if ended else 0


def test_saves_after_the_server_ended_the_pooled_connections_succeed(make_app: Callable[..., Flask], pg_url: str) -> None:
    app = make_app(database_url=pg_url)
    home = services_of(app).users.create("erin", "secret").home_id
    client, auth = app.test_client(), basic_auth("erin", "secret")
    url = f"/api/v1/containers/{home}/files/notes.txt"
    created = client.put(url, data=b"v1", headers=auth)
    assert created.status_code in (200, 201)
    file_id = created.get_json()["file_id"]
    assert _end_every_connection_but_this(pg_url) >= 1

    time.sleep(PING_AFTER_IDLE_SECONDS + 0.3)
    saves = 3  # each its own checkouts: the scope's, the pending mark's, the version's
    for n in range(saves):
        assert client.put(url, data=f"v{n + 2}".encode(), headers=auth).status_code == 200
    content = client.get(f"/api/v1/files/{file_id}/content", headers=auth)
    assert content.status_code == 200 and content.data == f"v{saves + 1}".encode()
