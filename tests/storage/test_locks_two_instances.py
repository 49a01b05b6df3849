"""One lock for every writer across two Docbridge instances on one database (PostgreSQL, and
SQLite as two gunicorn workers share it): what one instance grants, the other enforces,
whatever path the writer takes (WOPI, ONLYOFFICE, the file API), and a lock taken on one
instance while a save streams into the other refuses it. This also holds the other
instance to reading what was committed, not what its read cache kept."""

from __future__ import annotations

import io
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import pytest
import requests
from flask import Flask
from sqlalchemy import select

from server.services import services_of
from storage.metadata.schema import pending_blobs
from tests.conftest import TestUser, basic_auth
from tests.onlyoffice.conftest import CONFIG_PATTERN, DS_SECRET, Docbridge
from tests.onlyoffice.ds_standin import DocumentServerStandIn
from tests.onlyoffice.test_oo_session_locks import WOPI_APP, site_settings
from tests.support.net import free_port, serve_wsgi
from tests.wopi.conftest import WopiCaller, issue_token
from tests.wopi.wopi_client import WopiClientStandIn, serve

pytestmark = pytest.mark.slow


@dataclass
class Pair:
    first: Docbridge
    second: Docbridge
    wopi_client: WopiClientStandIn
    alice: TestUser

    def wopi(self, instance: Docbridge, file_id: str) -> WopiCaller:
        token = issue_token(instance.app, self.alice, file_id, app_name=WOPI_APP)
        return WopiCaller(instance.client, self.wopi_client, token, file_id, sign=False)


@pytest.fixture
def ds() -> Iterator[DocumentServerStandIn]:
    with DocumentServerStandIn(DS_SECRET) as stand_in:
        yield stand_in


@pytest.fixture(params=["postgresql", "sqlite"])
def pair(request: pytest.FixtureRequest, make_app: Callable[..., Flask], ds: DocumentServerStandIn) -> Iterator[Pair]:
    """Two instances on one database and one data directory (blobs, instance secret)."""
    database = {"database_url": request.getfixturevalue("pg_url")} if request.param == "postgresql" else {}
    with ExitStack() as stack:
        wopi_client = stack.enter_context(serve(WopiClientStandIn()))
        instances = []
        for _ in range(2):
            port = free_port()
            base = f"http://127.0.0.1:{port}"
            app = make_app(**database, **site_settings(ds, wopi_client, base))
            stack.enter_context(serve_wsgi(app, port))
            instances.append(Docbridge(app, base, app.test_client()))
        alice = instances[0].user("alice")
        yield Pair(instances[0], instances[1], wopi_client, alice)


def test_a_wopi_lock_taken_on_one_instance_refuses_api_writes_on_the_other(pair: Pair) -> None:
    first, second, alice = pair.first, pair.second, pair.alice
    file_id = first.upload(alice, "report.docx", b"v1")
    holder = pair.wopi(first, file_id)
    assert holder.lock("L").status_code == 200
    assert holder.put_file(b"v2", lock="L").status_code == 200
    for answer in (
        second.client.put(f"/api/v1/containers/{alice.home_id}/files/report.docx", data=b"api", headers=alice.auth),
        second.client.patch(f"/api/v1/files/{file_id}", json={"name": "x.docx"}, headers=alice.auth),
        second.client.delete(f"/api/v1/files/{file_id}", headers=alice.auth),
        second.client.post(f"/api/v1/files/{file_id}/versions/1/restore", headers=alice.auth),
    ):
        assert answer.status_code == 423 and answer.get_json()["lock"]["app"] == WOPI_APP
    assert pair.wopi(second, file_id).lock("other").headers["X-WOPI-Lock"] == "L"
    assert pair.wopi(second, file_id).unlock("L").status_code == 200
    restored = first.client.post(f"/api/v1/files/{file_id}/versions/1/restore", headers=alice.auth)
    assert restored.status_code == 200 and first.content(alice, file_id) == b"v1"


def test_an_onlyoffice_session_on_one_instance_holds_the_file_against_the_other(pair: Pair, ds: DocumentServerStandIn) -> None:
    first, second, alice = pair.first, pair.second, pair.alice
    file_id = first.upload(alice, "plan.docx", b"PK-v1")
    config = first.open_config(alice, file_id)
    session = ds.open(config)
    lock = pair.wopi(second, file_id).lock("W")
    assert lock.status_code == 409 and lock.headers["X-WOPI-LockedByOtherInterface"] == "true"
    assert "OnlyOffice by alice" in lock.headers["X-WOPI-LockFailureReason"]
    upload = second.client.put(f"/api/v1/containers/{alice.home_id}/files/plan.docx", data=b"api", headers=alice.auth)
    assert upload.status_code == 423 and upload.get_json()["lock"]["kind"] == "session"
    # The other instance's editor page joins the session instead of taking the file.
    page, _form = second.editor_page(alice, file_id)
    joined = json.loads(CONFIG_PATTERN.search(page).group(1))  # type: ignore[union-attr]
    assert joined["document"]["key"] == session.key and joined["editorConfig"]["mode"] == "edit"
    ds.edit(session.key, alice.id, b"PK-v2")
    saved = ds.close(session.key, alice.id)
    assert saved is not None and saved.answers == [(200, {"error": 0})]
    assert pair.wopi(second, file_id).lock("W").status_code == 200
    assert second.content(alice, file_id) == b"PK-v2"


class SlowBody(io.RawIOBase):
    """A PutFile body of known length whose second half waits for `hook` (run once the first
    half is sent)."""

    def __init__(self, content: bytes, hook: Callable[[], None]) -> None:
        self.content = content
        self.offset = 0
        self.hook: Callable[[], None] | None = hook

    def __len__(self) -> int:
        return len(self.content)

    def read(self, size: int = -1) -> bytes:
        if self.hook is not None and self.offset >= len(self.content) // 2:
            hook, self.hook = self.hook, None
            hook()
        size = 16384 if size is None or size < 0 else min(size, 16384)
        chunk = self.content[self.offset : self.offset + size]
        self.offset += len(chunk)
        return chunk


def test_a_lock_taken_on_the_other_instance_while_a_put_file_streams_refuses_it(pair: Pair) -> None:
    first, second, alice = pair.first, pair.second, pair.alice
    file_id = first.upload(alice, "big.docx", b"v1")
    saver = pair.wopi(first, file_id)
    assert saver.lock("A").status_code == 200
    engine = services_of(first.app).engine

    def take_over() -> None:
        deadline = time.monotonic() + 10
        with engine.connect() as connection:  # the save passed its first check and is streaming
            while not connection.execute(select(pending_blobs)).first():
                assert time.monotonic() < deadline
                time.sleep(0.01)
                connection.rollback()
        other = pair.wopi(second, file_id)
        assert other.unlock("A").status_code == 200
        assert other.lock("B").status_code == 200

    body = SlowBody(b"y" * 1_000_000, take_over)
    answer: dict[str, Any] = {}

    def send() -> None:
        url = f"{first.base}/wopi/files/{quote(file_id, safe='')}/contents"
        response = requests.post(url, params={"access_token": saver.token}, data=body, timeout=60,
                                 headers={"X-WOPI-Override": "PUT", "X-WOPI-Lock": "A"})
        answer.update(status=response.status_code, lock=response.headers.get("X-WOPI-Lock"))

    sender = threading.Thread(target=send)
    sender.start()
    sender.join(timeout=60)
    assert body.hook is None
    assert answer == {"status": 409, "lock": "B"}
    versions = first.versions(alice, file_id)
    assert [version["version"] for version in versions] == [1]
    assert second.content(alice, file_id) == b"v1"
    with engine.connect() as connection:
        assert connection.execute(select(pending_blobs)).all() == []
    assert len(list(services_of(first.app).blobs.keys())) == 1


def test_instances_list_and_release_the_same_locks(pair: Pair) -> None:
    first, second, alice = pair.first, pair.second, pair.alice
    file_id = first.upload(alice, "notes.docx", b"v1")
    assert pair.wopi(first, file_id).lock("L").status_code == 200
    listed = second.app.test_cli_runner().invoke(args=["lock", "list"])
    assert listed.exit_code == 0
    assert listed.output.split("\t")[:5] == [file_id, "notes.docx", WOPI_APP, "alice", "wopi"]
    released = second.app.test_cli_runner().invoke(args=["lock", "release", file_id])
    assert released.exit_code == 0 and "released the lock of Office (alice, wopi) on notes.docx" in released.output
    assert first.app.test_cli_runner().invoke(args=["lock", "list"]).output == "no file is locked\n"
    answer = first.client.put(f"/api/v1/containers/{alice.home_id}/files/notes.docx", data=b"v2", headers=basic_auth("alice", "secret"))
    assert answer.status_code == 200


def test_what_one_instance_commits_is_what_the_others_next_check_file_info_and_get_file_see(pair: Pair) -> None:
    first, second, alice = pair.first, pair.second, pair.alice
    file_id = first.upload(alice, "memo.docx", b"v1")
    reader = pair.wopi(second, file_id)
    before = reader.check_file_info().get_json()
    assert (before["BaseFileName"], before["Version"], before["UserCanWrite"]) == ("memo.docx", "1", True)
    assert reader.get_file().data == b"v1"

    writer = pair.wopi(first, file_id)
    assert writer.lock("L").status_code == 200
    assert writer.put_file(b"version two", lock="L").status_code == 200
    assert writer.post("PUT_USER_INFO", data=b"theme=dark").status_code == 200
    after = reader.check_file_info().get_json()
    assert (after["Version"], after["Size"], after["UserInfo"]) == ("2", len(b"version two"), "theme=dark")
    assert reader.get_file().data == b"version two"
    assert writer.unlock("L").status_code == 200

    renamed = first.client.patch(f"/api/v1/files/{file_id}", json={"name": "minutes.docx"}, headers=alice.auth)
    assert renamed.status_code == 200
    assert reader.check_file_info().get_json()["BaseFileName"] == "minutes.docx"
    assert first.client.delete(f"/api/v1/files/{file_id}", headers=alice.auth).status_code in (200, 204)
    assert reader.check_file_info().status_code == 404
