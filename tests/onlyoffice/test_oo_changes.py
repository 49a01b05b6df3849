"""Where a version's changes.zip lives: in the blob store, as an attachment of its file.

Two Docbridge instances share one database and one WebDAV server but have data directories
of their own, as two machines behind a load balancer do: the changes.zip one instance stored
is served by the other, and deleting the file removes it from the WebDAV tree. An install
upgraded from a release that kept changes.zip under ``<data_dir>/onlyoffice/changes`` gets
its archives moved into the blob store at start-up.
"""

from __future__ import annotations

import io
import json
import uuid
import zipfile
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import Flask
from sqlalchemy import select, update

from onlyoffice.store import history
from server.services import services_of
from storage.metadata.schema import attachments
from tests.conftest import TestUser, basic_auth
from tests.onlyoffice.conftest import CONFIG_PATTERN, DS_SECRET, Docbridge
from tests.onlyoffice.ds_standin import DocumentServerStandIn
from tests.support.net import free_port, serve_wsgi
from tests.support.webdav import WebDavServer, nginx_webdav

ORIGINAL = b"PK-original-docx-bytes"
EDITED = b"PK-edited-docx-bytes"
SHARED_SECRET = "instances-share-this-secret-" + "0123456789abcdef" * 2


@pytest.fixture
def webdav() -> Iterator[WebDavServer]:
    with nginx_webdav() as server:
        yield server


@dataclass
class Pair:
    a: Docbridge
    b: Docbridge
    data_dirs: tuple[Path, Path]
    blob_root: Path  # the WebDAV collection's folder on disk, read without Docbridge


@pytest.fixture
def pair(make_app: Callable[..., Flask], database_url: str, webdav: WebDavServer, ds: DocumentServerStandIn,
         tmp_path: Path) -> Iterator[Pair]:
    """Instances A and B: one database, one WebDAV collection, one secret, two data dirs."""
    prefix = uuid.uuid4().hex
    shared_database = database_url or f"sqlite:///{tmp_path / 'shared.sqlite3'}"
    with ExitStack() as stack:
        instances = []
        data_dirs = []
        for name in ("a", "b"):
            port = free_port()
            base = f"http://127.0.0.1:{port}"
            data_dir = tmp_path / name
            app = make_app(
                data_dir=str(data_dir), secret_key=SHARED_SECRET, database_url=shared_database, public_url=base,
                storage={"backend": "webdav", "webdav_url": f"{webdav.url}{prefix}/"},
                onlyoffice={"document_server_url": ds.base, "jwt_secret": DS_SECRET, "timeout_seconds": 10,
                            "docbridge_url_for_document_server": base},
            )
            stack.enter_context(serve_wsgi(app, port))
            instances.append(Docbridge(app, base, app.test_client()))
            data_dirs.append(data_dir)
        yield Pair(instances[0], instances[1], (data_dirs[0], data_dirs[1]), webdav.root / prefix)


def _user(instance: Docbridge, name: str) -> TestUser:
    user = services_of(instance.app).users.create(name, "secret")
    return TestUser(user.id, user.name, "secret", str(user.home_id), basic_auth(name, "secret"))


def _blob_files(root: Path) -> set[str]:
    return {path.name for path in root.glob("*/*") if path.is_file() and path.parent.name != "tmp"}


def _attachment_keys(instance: Docbridge) -> set[str]:
    with services_of(instance.app).engine.connect() as connection:
        return {row.blob_key for row in connection.execute(select(attachments.c.blob_key))}


def _served_changes(ds: DocumentServerStandIn) -> bytes:
    """The changes.zip the stand-in handed over with its last save."""
    [save] = [record for record in ds.callbacks if record.body.get("changesurl")]
    return ds.cache[save.body["changesurl"].split("/")[6]][0]


def test_changes_stored_by_one_instance_are_served_by_the_other_and_go_with_the_file(
        pair: Pair, ds: DocumentServerStandIn) -> None:
    a, b = pair.a, pair.b
    alice = _user(a, "alice")
    file_id = a.upload(alice, "Report.docx", ORIGINAL)
    page, form = a.editor_page(alice, file_id)
    session = ds.open(json.loads(CONFIG_PATTERN.search(page).group(1)))  # type: ignore[union-attr]
    ds.edit(session.key, alice.id, EDITED)
    saved = ds.close(session.key, alice.id)
    assert saved is not None and saved.answers == [(200, {"error": 0})]
    assert saved.url.startswith(a.base)  # instance A stored the save

    [key] = _attachment_keys(a)
    assert key in _blob_files(pair.blob_root)
    for data_dir in pair.data_dirs:
        assert not (data_dir / "onlyoffice").exists()  # nothing of it on either instance's disk

    token = form["access_token"]
    data = b.client.post("/onlyoffice/history-data", json={"access_token": token, "version": 2}).get_json()
    assert data["changesUrl"].startswith(f"{b.base}/onlyoffice/changes?t=")
    served = requests.get(data["changesUrl"], timeout=10)
    assert served.status_code == 200, served.text
    assert served.content == _served_changes(ds)
    with zipfile.ZipFile(io.BytesIO(served.content)) as archive:
        assert json.loads(archive.read("changes.json"))[0]["user"]["id"] == alice.id

    deleted = b.client.delete(f"/api/v1/files/{file_id}", headers=alice.auth)
    assert deleted.status_code in (200, 204), deleted.get_data(as_text=True)
    assert _attachment_keys(a) == set()
    assert key not in _blob_files(pair.blob_root)
    assert _blob_files(pair.blob_root) == set()  # versions and changes: nothing of the file is left
    assert requests.get(data["changesUrl"], timeout=10).status_code == 404
    with services_of(a.app).engine.connect() as connection:
        assert connection.execute(select(history).where(history.c.file_id == file_id)).first() is None


def test_changes_kept_on_disk_by_an_earlier_release_move_into_the_blob_store_at_start(
        make_app: Callable[..., Flask], ds: DocumentServerStandIn) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    settings: dict[str, Any] = {
        "public_url": base,
        "onlyoffice": {"document_server_url": ds.base, "jwt_secret": DS_SECRET, "docbridge_url_for_document_server": base},
    }
    first = make_app(**settings)
    found = services_of(first)
    with serve_wsgi(first, port):
        docbridge = Docbridge(first, base, first.test_client())
        alice = _user(docbridge, "alice")
        file_id = docbridge.upload(alice, "Report.docx", ORIGINAL)
        page, form = docbridge.editor_page(alice, file_id)
        session = ds.open(json.loads(CONFIG_PATTERN.search(page).group(1)))  # type: ignore[union-attr]
        ds.edit(session.key, alice.id, EDITED)
        ds.close(session.key, alice.id)
    archive = _served_changes(ds)
    # Make the row and the disk what an earlier release left: the archive as a file, named
    # in changes_name, and no attachment.
    [key] = _attachment_keys(docbridge)
    legacy_name = "ab" * 32 + ".zip"
    legacy_dir = found.settings.data_dir / "onlyoffice" / "changes"
    legacy_dir.mkdir(parents=True)
    (legacy_dir / legacy_name).write_bytes(archive)
    with found.engine.begin() as connection:
        connection.execute(update(history).where(history.c.file_id == file_id)
                           .values(changes_blob=None, changes_name=legacy_name))
        connection.execute(attachments.delete())
    found.blobs.delete(key)
    found.engine.dispose()

    restarted = make_app(**settings)  # the same data directory and database
    again = services_of(restarted)
    [moved] = _attachment_keys(Docbridge(restarted, base, restarted.test_client()))
    assert not legacy_dir.exists()
    with again.engine.connect() as connection:
        row = connection.execute(select(history).where(history.c.file_id == file_id)).one()
    assert (row.changes_blob, row.changes_name) == (moved, None)
    with again.storage.open_attachment(moved) as stream:
        assert stream.read() == archive
    data = restarted.test_client().post("/onlyoffice/history-data",
                                        json={"access_token": form["access_token"], "version": 2}).get_json()
    changes = restarted.test_client().get(data["changesUrl"].removeprefix(base))
    assert changes.status_code == 200 and changes.get_data() == archive
