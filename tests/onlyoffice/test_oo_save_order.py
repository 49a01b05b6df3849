"""Saves are ordered by the edit they carry, not by when their download finishes.

The race, as a Document Server and a load balancer make it: a forcesave (status 6) is
posted to one Docbridge instance, and the Document Server is slow to hand over the
assembled file; while that instance is still downloading, the last editor leaves and the
final save (status 2), holding newer edits, reaches the other instance and commits first.
The forcesave then commits too. The newer edit must stay current; the older one is kept
in history; both callbacks get ``{"error": 0}``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask

from server.services import services_of
from tests.conftest import TestUser, basic_auth
from tests.onlyoffice.conftest import DS_SECRET, Docbridge
from tests.onlyoffice.ds_standin import DocumentServerStandIn, wait_for
from tests.support.balancer import Balancer
from tests.support.net import free_port, serve_wsgi

ORIGINAL = b"PK original quarterly report"
OLDER_EDIT = b"PK report with the first paragraph rewritten"
NEWER_EDIT = b"PK report with the first paragraph rewritten and a table added"


@dataclass
class Cluster:
    instances: list[Docbridge]
    balancer: Balancer
    route: dict[str, int]  # the instance the next callback goes to


@pytest.fixture
def cluster(make_app: Callable[..., Flask], database_url: str, ds: DocumentServerStandIn) -> Iterator[Cluster]:
    """Two Docbridge instances on one metadata database and one blob store, behind a
    balancer that sends each callback where the test says."""
    route = {"to": 0}

    def rule(method: str, path: str, _seen: int) -> int:
        return route["to"] if path.startswith("/onlyoffice/callback") else 0

    with ExitStack() as stack:
        balancer = stack.enter_context(Balancer([], rule))
        instances = []
        for _ in range(2):
            port = free_port()
            onlyoffice = {"document_server_url": ds.base, "jwt_secret": DS_SECRET, "timeout_seconds": 10,
                          "docbridge_url_for_document_server": balancer.url}
            extra: dict[str, Any] = {"database_url": database_url} if database_url else {}
            app = make_app(public_url=balancer.url, onlyoffice=onlyoffice, **extra)
            base = stack.enter_context(serve_wsgi(app, port))
            balancer.upstreams.append(base)
            instances.append(Docbridge(app, base, app.test_client()))
        yield Cluster(instances, balancer, route)


def _user(instance: Docbridge, name: str) -> TestUser:
    user = services_of(instance.app).users.create(name, "secret")
    return TestUser(user.id, user.name, "secret", str(user.home_id), basic_auth(name, "secret"))


def _sha(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


@dataclass
class Editing:
    alice: TestUser
    file_id: str
    key: str


def _start_editing(cluster: Cluster, ds: DocumentServerStandIn) -> Editing:
    """Alice opens her report through the first instance and makes the older edit."""
    first = cluster.instances[0]
    alice = _user(first, "alice")
    file_id = first.upload(alice, "report.docx", ORIGINAL)
    config = first.open_config(alice, file_id)
    ds.open(config)
    ds.edit(config["document"]["key"], alice.id, OLDER_EDIT)
    return Editing(alice, file_id, config["document"]["key"])


def test_a_slow_forcesave_never_supersedes_the_final_save(cluster: Cluster, ds: DocumentServerStandIn) -> None:
    first, second = cluster.instances
    editing = _start_editing(cluster, ds)
    alice, file_id, key = editing.alice, editing.file_id, editing.key

    cluster.route["to"] = 0
    forcesave = ds.forcesave(key, download_delay=1.5)
    # The first instance has the forcesave and is waiting for the assembled file.
    wait_for(lambda: any(not cache_id.endswith("_changes") for cache_id in ds.cache_requests))

    ds.edit(key, alice.id, NEWER_EDIT)
    cluster.route["to"] = 1
    final = ds.close(key, alice.id)
    assert final is not None and final.body["status"] == 2
    assert final.answers == [(200, {"error": 0})]
    forcesave.join(timeout=30)
    [forcesaved] = [record for record in ds.callbacks if record.body.get("status") == 6]
    assert forcesaved.answers == [(200, {"error": 0})]
    callback_targets = [index for method, path, index in cluster.balancer.routed if path.startswith("/onlyoffice/callback")]
    assert callback_targets[-2:] == [0, 1] or callback_targets[-2:] == [1, 0]

    # The newer edit is the file; the older one is in history, not lost.
    assert second.content(alice, file_id) == NEWER_EDIT
    versions = first.versions(alice, file_id)
    by_content = {item["sha256"]: item for item in versions}
    assert set(by_content) == {_sha(ORIGINAL), _sha(OLDER_EDIT), _sha(NEWER_EDIT)}
    assert by_content[_sha(NEWER_EDIT)]["current"] is True
    assert by_content[_sha(OLDER_EDIT)]["current"] is False
    assert by_content[_sha(OLDER_EDIT)]["recovered"] is False
    older_number = by_content[_sha(OLDER_EDIT)]["version"]
    kept = first.client.get(f"/api/v1/files/{file_id}/versions/{older_number}/content", headers=alice.auth)
    assert kept.get_data() == OLDER_EDIT

    # The next editor starts a new session from the newer edit.
    reopened = second.open_config(alice, file_id)
    assert reopened["document"]["key"] != key
    assert ds.open(reopened).content == NEWER_EDIT


def test_saves_that_arrive_in_order_each_become_current(cluster: Cluster, ds: DocumentServerStandIn) -> None:
    first, second = cluster.instances
    editing = _start_editing(cluster, ds)
    alice, file_id, key = editing.alice, editing.file_id, editing.key

    cluster.route["to"] = 0
    ds.forcesave(key).join(timeout=30)
    assert first.content(alice, file_id) == OLDER_EDIT

    ds.edit(key, alice.id, NEWER_EDIT)
    cluster.route["to"] = 1
    ds.close(key, alice.id)
    assert second.content(alice, file_id) == NEWER_EDIT
    assert [(item["sha256"], item["current"]) for item in first.versions(alice, file_id)] == [
        (_sha(ORIGINAL), False), (_sha(OLDER_EDIT), False), (_sha(NEWER_EDIT), True)]
