"""The storage contract: every composition (SQLite or PostgreSQL metadata × local or WebDAV
bytes) must behave the same.

The suite drives the app's own StorageService (the Storage implementation the views use)
and checks what is left on disk or on the WebDAV server by looking there directly, not by
asking the code under test.
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import Connection, insert, select

from core.bodies import CompleteBody
from core.errors import (
    AlreadyExists,
    BadRequest,
    IncompleteBody,
    InvalidName,
    LockConflict,
    NotFound,
    PayloadTooLarge,
    StorageUnavailable,
    VersionConflict,
)
from core.ids import ResourceId
from server.services import Services, services_of
from storage.metadata.database import now_utc
from storage.metadata.schema import attachments, pending_blobs, versions
from storage.service import StorageService
from storage.types import Lock, SaveOrigin, StoredBlob
from storage.webdav.blobs import WebDavBlobStore
from tests.support.webdav import WebDavServer, nginx_webdav

ORIGIN = SaveOrigin(author_id=None, author_name="Contract", source="test")


DAV_CREDENTIALS = ("docbridge", "dav-secret")


@pytest.fixture(scope="module")
def webdav_server() -> Iterator[WebDavServer]:
    """Plain nginx: no PROPFIND, listing through its JSON index."""
    with nginx_webdav() as server:
        yield server


@pytest.fixture(scope="module")
def propfind_server() -> Iterator[WebDavServer]:
    """nginx with the dav-ext module (PROPFIND, as most WebDAV servers) behind Basic auth."""
    with nginx_webdav(propfind=True, credentials=DAV_CREDENTIALS) as server:
        yield server


def webdav_settings(server: WebDavServer, prefix: str, credentials: tuple[str, str] | None = None) -> dict[str, Any]:
    settings = {"backend": "webdav", "webdav_url": f"{server.url}{prefix}/"}
    if credentials:
        settings.update(webdav_username=credentials[0], webdav_password=credentials[1])
    return settings


@dataclass
class Composition:
    """One storage composition under test, plus independent views of what it stored."""

    app: Flask
    services: Services
    home: ResourceId
    backend: str
    blob_root: Path
    data_dir: Path

    @property
    def storage(self) -> StorageService:
        return self.services.storage

    def stored_blobs(self) -> set[str]:
        """Names of finished blob files, read straight from the disk behind the backend."""
        return {path.name for path in self.blob_root.glob("*/**/*") if path.is_file() and path.parent.name != "tmp"}

    def temporary_files(self) -> list[str]:
        temporary = self.blob_root / "tmp"
        return sorted(path.name for path in temporary.glob("*.part")) if temporary.exists() else []

    def referenced_blobs(self) -> set[str]:
        """Blob keys the metadata holds: every version's, and every attachment's."""
        with self.services.engine.connect() as connection:
            return {
                row.blob_key
                for table in (versions, attachments)
                for row in connection.execute(select(table.c.blob_key))
            }

    def attachment_keys(self) -> set[str]:
        with self.services.engine.connect() as connection:
            return {row.blob_key for row in connection.execute(select(attachments.c.blob_key))}

    def pending(self) -> list[str]:
        with self.services.engine.connect() as connection:
            return [row.blob_key for row in connection.execute(select(pending_blobs.c.blob_key))]

    def assert_clean(self) -> None:
        """Every stored blob belongs to a version or an attachment; no pending mark, no
        temporary file."""
        assert self.stored_blobs() == self.referenced_blobs()
        assert self.pending() == []
        assert self.temporary_files() == []


@pytest.fixture(params=["local", "webdav", "webdav-propfind"])
def composition(
    request: pytest.FixtureRequest, make_app: Callable[..., Flask], database_url: str, tmp_path: Path
) -> Composition:
    overrides: dict[str, Any] = {"database_url": database_url} if database_url else {}
    if request.param == "webdav":
        server: WebDavServer = request.getfixturevalue("webdav_server")
        prefix = uuid.uuid4().hex
        overrides["storage"] = webdav_settings(server, prefix)
        blob_root = server.root / prefix
    elif request.param == "webdav-propfind":
        server = request.getfixturevalue("propfind_server")
        prefix = uuid.uuid4().hex
        overrides["storage"] = webdav_settings(server, prefix, DAV_CREDENTIALS)
        blob_root = server.root / prefix
    else:
        blob_root = tmp_path / "data" / "blobs"
    app = make_app(**overrides)
    found = services_of(app)
    # Pooled PostgreSQL connections must be closed, not left to the garbage collector.
    request.addfinalizer(found.engine.dispose)
    user = found.users.create("carol", "secret")
    return Composition(app, found, user.home_id, request.param, blob_root, tmp_path / "data")


def content(text: str) -> io.BytesIO:
    return io.BytesIO(text.encode())


def read_version(storage: StorageService, file_id: ResourceId, number: int | None = None) -> bytes:
    _, stream = storage.open_version(file_id, number)
    with stream:
        return stream.read()


# --- files and folders -------------------------------------------------------------------


def test_create_list_stat_and_find_child(composition: Composition) -> None:
    storage = composition.storage
    folder = storage.create_folder(composition.home, "Reports")
    created = storage.create_file(folder.id, "q1.docx", content("first quarter"), ORIGIN)
    storage.create_file(composition.home, "notes.txt", content("n"), ORIGIN)

    stat = storage.stat(created.id)
    assert (stat.name, stat.version, stat.size) == ("q1.docx", 1, len("first quarter"))
    assert stat.sha256 == hashlib.sha256(b"first quarter").hexdigest()
    assert stat.mimetype == "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    assert stat.parent_id == folder.id and not stat.is_folder
    assert [node.name for node in storage.list_folder(composition.home)] == ["Reports", "notes.txt"]
    assert [node.id for node in storage.list_folder(folder.id)] == [created.id]
    assert [node.id for node in storage.ancestors(created.id)] == [composition.home, folder.id]
    found = storage.find_child(folder.id, "q1.docx")
    assert found is not None and found.id == created.id
    assert storage.find_child(folder.id, "q2.docx") is None
    assert read_version(storage, created.id) == b"first quarter"
    composition.assert_clean()


def test_a_node_is_read_with_its_folder(composition: Composition) -> None:
    storage = composition.storage
    folder = storage.create_folder(composition.home, "Reports")
    created = storage.create_file(folder.id, "q1.docx", content("first quarter"), ORIGIN)

    node, parent = storage.stat_with_parent(created.id)
    assert node == storage.stat(created.id)
    assert parent == storage.stat(folder.id)
    home, above_home = storage.stat_with_parent(composition.home)
    assert home == storage.stat(composition.home) and above_home is None
    with pytest.raises(NotFound):
        storage.stat_with_parent(ResourceId(created.id.storage_id, created.id.space_id, "no-such-node"))


def test_taken_names_are_refused(composition: Composition) -> None:
    storage = composition.storage
    storage.create_file(composition.home, "a.txt", content("one"), ORIGIN)
    storage.create_folder(composition.home, "docs")
    with pytest.raises(AlreadyExists):
        storage.create_file(composition.home, "a.txt", content("two"), ORIGIN)
    with pytest.raises(AlreadyExists):
        storage.create_folder(composition.home, "a.txt")
    with pytest.raises(AlreadyExists):
        storage.create_file(composition.home, "docs", content("three"), ORIGIN)
    assert read_version(storage, storage.find_child(composition.home, "a.txt").id) == b"one"  # type: ignore[union-attr]
    composition.assert_clean()


INVALID_NAMES = ["a/b", "a\\b", "nul\x00byte", "bell\x07", "tab\tname", ".", "..", "", "x" * 256, "é" * 128]


def test_invalid_names_are_refused_everywhere(composition: Composition) -> None:
    storage = composition.storage
    existing = storage.create_file(composition.home, "ok.txt", content("ok"), ORIGIN)
    for name in INVALID_NAMES:
        with pytest.raises(InvalidName):
            storage.create_folder(composition.home, name)
        with pytest.raises(InvalidName):
            storage.create_file(composition.home, name, content("bad"), ORIGIN)
        with pytest.raises(InvalidName):
            storage.rename(existing.id, name)
    assert [node.name for node in storage.list_folder(composition.home)] == ["ok.txt"]
    composition.assert_clean()


def test_longest_allowed_name_is_accepted(composition: Composition) -> None:
    name = "é" * 127 + "x"  # 255 bytes in UTF-8
    node = composition.storage.create_file(composition.home, name, content("long"), ORIGIN)
    assert composition.storage.stat(node.id).name == name


# --- versions ----------------------------------------------------------------------------


def test_every_save_is_a_new_version(composition: Composition) -> None:
    storage = composition.storage
    file = storage.create_file(composition.home, "plan.xlsx", content("v1"), ORIGIN)
    second = storage.write_version(file.id, content("v2"), ORIGIN)
    third = storage.write_version(file.id, content("v3"), ORIGIN)
    assert (second.number, third.number) == (2, 3) and third.is_current

    node = storage.stat(file.id)
    assert (node.version, node.size, node.sha256) == (3, 2, hashlib.sha256(b"v3").hexdigest())
    listed = storage.list_versions(file.id)
    assert sorted((item.number, item.is_current) for item in listed) == [(1, False), (2, False), (3, True)]
    assert [read_version(storage, file.id, number) for number in (1, 2, 3)] == [b"v1", b"v2", b"v3"]
    assert read_version(storage, file.id) == b"v3"
    with pytest.raises(NotFound):
        storage.open_version(file.id, 4)
    composition.assert_clean()


def test_opening_names_what_is_missing(composition: Composition) -> None:
    storage = composition.storage
    folder = storage.create_folder(composition.home, "drafts")
    file = storage.create_file(folder.id, "memo.txt", content("v1"), ORIGIN)
    storage.write_version(file.id, content("v2"), ORIGIN)

    version, stream = storage.open_version(file.id)
    with stream:
        assert (version.number, version.is_current, stream.read()) == (2, True, b"v2")
    first, stream = storage.open_version(file.id, 1)
    with stream:
        assert (first.number, first.is_current, first.size, stream.read()) == (1, False, 2, b"v1")

    with pytest.raises(NotFound, match="no version 3"):
        storage.open_version(file.id, 3)
    with pytest.raises(BadRequest, match="does not point to a file"):
        storage.open_version(folder.id)
    elsewhere = ResourceId(file.id.storage_id, folder.id.opaque_id, file.id.opaque_id)
    with pytest.raises(NotFound, match="no such file"):
        storage.open_version(elsewhere)
    with pytest.raises(NotFound, match="no such file"):
        storage.open_version(ResourceId("other-storage", file.id.space_id, file.id.opaque_id))
    composition.assert_clean()


def test_expected_version_guards_against_lost_updates(composition: Composition) -> None:
    storage = composition.storage
    file = storage.create_file(composition.home, "memo.txt", content("v1"), ORIGIN)
    storage.write_version(file.id, content("v2"), ORIGIN, expected_version=1)
    with pytest.raises(VersionConflict) as raised:
        storage.write_version(file.id, content("stale"), ORIGIN, expected_version=1)
    assert raised.value.current_version == 2
    assert sorted(item.number for item in storage.list_versions(file.id)) == [1, 2]
    assert read_version(storage, file.id) == b"v2"
    composition.assert_clean()


def test_a_dedupe_key_makes_a_save_idempotent(composition: Composition) -> None:
    storage = composition.storage
    file = storage.create_file(composition.home, "doc.docx", content("v1"), ORIGIN)
    origin = SaveOrigin(author_id=None, author_name="DS", source="onlyoffice", dedupe_key="key-1|save-7")
    first = storage.write_version(file.id, content("saved"), origin)
    again = storage.write_version(file.id, content("saved"), origin)
    assert first.number == again.number == 2
    assert len(storage.list_versions(file.id)) == 2
    composition.assert_clean()


def test_a_recovered_version_is_listed_but_not_current(composition: Composition) -> None:
    storage = composition.storage
    file = storage.create_file(composition.home, "doc.docx", content("v1"), ORIGIN)
    recovered = storage.write_version(
        file.id, content("what the editor still had"), SaveOrigin(None, "DS", "onlyoffice", recovered=True)
    )
    assert recovered.number == 2 and recovered.recovered and not recovered.is_current
    assert storage.stat(file.id).version == 1
    assert read_version(storage, file.id) == b"v1"
    assert read_version(storage, file.id, 2) == b"what the editor still had"
    listed = {item.number: item for item in storage.list_versions(file.id)}
    assert listed[1].is_current and listed[2].recovered and not listed[2].is_current
    composition.assert_clean()


def test_saves_are_made_current_in_the_order_of_their_edits(composition: Composition) -> None:
    storage = composition.storage
    file = storage.create_file(composition.home, "doc.docx", content("v1"), ORIGIN)
    edited = now_utc()

    def editor_save(text: str, at: Any) -> Any:
        return storage.write_version(file.id, content(text), SaveOrigin(None, "DS", "onlyoffice", edited_at=at))

    newer = editor_save("the final save", edited)
    older = editor_save("a forcesave that arrived late", edited - timedelta(seconds=5))
    assert newer.is_current and not older.is_current and not older.recovered
    assert older.edited == edited - timedelta(seconds=5)
    assert storage.stat(file.id).version == newer.number
    assert read_version(storage, file.id) == b"the final save"
    assert read_version(storage, file.id, older.number) == b"a forcesave that arrived late"
    listed = {item.number: item for item in storage.list_versions(file.id)}
    assert listed[older.number].edited == edited - timedelta(seconds=5) and not listed[older.number].is_current
    # A later edit, and a save that carries no edit time (an upload), become current as ever.
    assert editor_save("the next session", edited + timedelta(seconds=1)).is_current
    assert storage.write_version(file.id, content("an upload"), ORIGIN).is_current
    assert not editor_save("older than everything stored", edited).is_current
    assert read_version(storage, file.id) == b"an upload"
    composition.assert_clean()


def test_max_bytes_refuses_and_leaves_nothing_behind(composition: Composition) -> None:
    storage = composition.storage
    file = storage.create_file(composition.home, "small.bin", content("v1"), ORIGIN)
    big = io.BytesIO(b"x" * (3 * 1024 * 1024))
    with pytest.raises(PayloadTooLarge):
        storage.write_version(file.id, big, ORIGIN, max_bytes=2 * 1024 * 1024)
    with pytest.raises(PayloadTooLarge):
        storage.create_file(composition.home, "big.bin", io.BytesIO(b"y" * 4096), ORIGIN, max_bytes=4095)
    assert storage.find_child(composition.home, "big.bin") is None
    assert len(storage.list_versions(file.id)) == 1 and read_version(storage, file.id) == b"v1"
    exact = storage.write_version(file.id, io.BytesIO(b"z" * 4096), ORIGIN, max_bytes=4096)
    assert exact.number == 2
    composition.assert_clean()


def test_restore_makes_a_new_current_version_and_keeps_history(composition: Composition) -> None:
    storage = composition.storage
    file = storage.create_file(composition.home, "deck.pptx", content("original"), ORIGIN)
    storage.write_version(file.id, content("mistake"), ORIGIN)
    restored = storage.restore_version(file.id, 1, SaveOrigin(None, "Carol", "restore"))
    assert restored.number == 3 and restored.is_current
    assert read_version(storage, file.id) == b"original"
    assert [read_version(storage, file.id, number) for number in (1, 2, 3)] == [b"original", b"mistake", b"original"]
    with pytest.raises(NotFound):
        storage.restore_version(file.id, 9, ORIGIN)
    # The restored version shares the original's blob; deleting the file removes it once.
    storage.delete(file.id)
    composition.assert_clean()
    assert composition.stored_blobs() == set()


def test_large_content_round_trips_through_the_backend(composition: Composition) -> None:
    payload = hashlib.sha256(b"seed").digest() * (5 * 1024 * 1024 // 32 + 7)
    file = composition.storage.create_file(composition.home, "big.bin", io.BytesIO(payload), ORIGIN)
    assert composition.storage.stat(file.id).sha256 == hashlib.sha256(payload).hexdigest()
    assert read_version(composition.storage, file.id) == payload


# --- rename and delete -----------------------------------------------------------------------


def test_rename_keeps_the_id_and_refuses_taken_names(composition: Composition) -> None:
    storage = composition.storage
    file = storage.create_file(composition.home, "draft.txt", content("text"), ORIGIN)
    storage.create_file(composition.home, "final.docx", content("other"), ORIGIN)
    folder = storage.create_folder(composition.home, "Archive")

    renamed = storage.rename(file.id, "draft.docx")
    assert renamed.id == file.id and renamed.name == "draft.docx"
    assert renamed.mimetype.endswith("wordprocessingml.document")
    with pytest.raises(AlreadyExists):
        storage.rename(file.id, "final.docx")
    with pytest.raises(AlreadyExists):
        storage.rename(folder.id, "final.docx")
    assert storage.rename(folder.id, "Old").id == folder.id
    assert read_version(storage, file.id) == b"text"
    assert sorted(node.name for node in storage.list_folder(composition.home)) == ["Old", "draft.docx", "final.docx"]


def test_delete_removes_the_subtree_and_its_blobs(composition: Composition) -> None:
    storage = composition.storage
    keep = storage.create_file(composition.home, "keep.txt", content("keep"), ORIGIN)
    top = storage.create_folder(composition.home, "Project")
    inner = storage.create_folder(top.id, "Drafts")
    files = [
        storage.create_file(top.id, "a.txt", content("a"), ORIGIN),
        storage.create_file(inner.id, "b.txt", content("b"), ORIGIN),
    ]
    storage.write_version(files[1].id, content("b2"), ORIGIN)
    assert len(composition.stored_blobs()) == 4

    storage.delete(top.id)
    for node in (top, inner, *files):
        with pytest.raises(NotFound):
            storage.stat(node.id)
    assert [node.name for node in storage.list_folder(composition.home)] == ["keep.txt"]
    assert len(composition.stored_blobs()) == 1
    assert read_version(storage, keep.id) == b"keep"
    composition.assert_clean()


# --- attachments ---------------------------------------------------------------------------------


def test_an_attachment_is_stored_and_read_back(composition: Composition) -> None:
    storage = composition.storage
    file = storage.create_file(composition.home, "report.docx", content("v1"), ORIGIN)
    payload = b"PK changes of version 1" * 1000
    stored = storage.store_attachment(file.id, "editor-changes", io.BytesIO(payload))
    assert (stored.size, stored.sha256) == (len(payload), hashlib.sha256(payload).hexdigest())
    with storage.open_attachment(stored.key) as stream:
        assert stream.read() == payload
    with composition.services.engine.connect() as connection:
        row = connection.execute(select(attachments).where(attachments.c.blob_key == stored.key)).one()
    assert (row.node_id, row.kind, row.size) == (file.id.opaque_id, "editor-changes", len(payload))
    assert stored.key in composition.stored_blobs()
    # An attachment is no version: the file's history and current bytes are unchanged.
    assert [item.number for item in storage.list_versions(file.id)] == [1]
    assert read_version(storage, file.id) == b"v1"
    with pytest.raises(NotFound):
        storage.open_attachment(uuid.uuid4().hex)
    composition.assert_clean()


def test_the_callers_reference_commits_with_the_attachment_or_not_at_all(composition: Composition) -> None:
    storage = composition.storage
    file = storage.create_file(composition.home, "report.docx", content("v1"), ORIGIN)
    seen: list[str] = []

    def record(connection: Connection, blob: StoredBlob) -> None:
        seen.append(blob.key)
        assert connection.execute(select(attachments.c.blob_key).where(attachments.c.blob_key == blob.key)).first()

    kept = storage.store_attachment(file.id, "editor-changes", content("kept"), record=record)
    assert seen == [kept.key]

    def refuse(connection: Connection, blob: StoredBlob) -> None:
        raise VersionConflict("the caller's row is taken", None, 1)

    with pytest.raises(VersionConflict):
        storage.store_attachment(file.id, "editor-changes", content("undone"), record=refuse)
    with pytest.raises(NotFound):
        storage.store_attachment(ResourceId(file.id.storage_id, file.id.space_id, "gone"), "x", content("no file"))
    assert composition.attachment_keys() == {kept.key}
    composition.assert_clean()


def test_the_sweep_removes_an_orphaned_attachment_and_keeps_referenced_ones(composition: Composition) -> None:
    storage = composition.storage
    file = storage.create_file(composition.home, "report.docx", content("v1"), ORIGIN)
    kept = storage.store_attachment(file.id, "editor-changes", content("referenced"))
    # A crash between the blob and the commit of an attachment: a pending mark and a whole blob.
    orphan = uuid.uuid4().hex
    with composition.services.engine.begin() as connection:
        connection.execute(insert(pending_blobs).values(blob_key=orphan, created_at=now_utc()))
        # A stale mark on a committed attachment's blob must not make the sweep delete it.
        connection.execute(insert(pending_blobs).values(blob_key=kept.key, created_at=now_utc()))
    composition.services.blobs.put(orphan, content("changes never committed"))
    assert {orphan, kept.key} <= composition.stored_blobs()

    assert storage.sweep_orphans(0) == 1
    assert orphan not in composition.stored_blobs()
    with storage.open_attachment(kept.key) as stream:
        assert stream.read() == b"referenced"
    composition.assert_clean()


def test_deleting_a_file_removes_its_attachments(composition: Composition) -> None:
    storage = composition.storage
    folder = storage.create_folder(composition.home, "Project")
    inner = storage.create_file(folder.id, "inner.docx", content("inner"), ORIGIN)
    alone = storage.create_file(composition.home, "alone.docx", content("alone"), ORIGIN)
    other = storage.create_file(composition.home, "other.docx", content("other"), ORIGIN)
    gone = [storage.store_attachment(node.id, "editor-changes", content(f"of {node.name}")).key
            for node in (inner, alone, alone)]
    stays = storage.store_attachment(other.id, "editor-changes", content("of other")).key

    storage.delete(alone.id)
    storage.delete(folder.id)
    assert composition.attachment_keys() == {stays}
    assert not set(gone) & composition.stored_blobs()
    for key in gone:
        with pytest.raises(NotFound):
            storage.open_attachment(key)
    with pytest.raises(NotFound):
        storage.store_attachment(alone.id, "editor-changes", content("too late"))
    composition.assert_clean()


def test_deleting_a_user_removes_the_attachments_of_their_files(composition: Composition) -> None:
    found = composition.services
    dave = found.users.create("dave", "secret")
    file = found.storage.create_file(dave.home_id, "mine.docx", content("mine"), ORIGIN)
    key = found.storage.store_attachment(file.id, "editor-changes", content("my changes")).key
    found.users.delete("dave")
    assert key not in composition.stored_blobs() and composition.attachment_keys() == set()
    composition.assert_clean()


# --- failures and concurrency -------------------------------------------------------------------


def run_concurrently(work: Callable[[int], None], count: int) -> list[BaseException]:
    """Run `work(index)` in `count` threads released together; return what they raised."""
    barrier = threading.Barrier(count)
    errors: list[BaseException] = []

    def run(index: int) -> None:
        try:
            barrier.wait()
            work(index)
        except BaseException as error:  # handed back to the test, which asserts on it
            errors.append(error)

    threads = [threading.Thread(target=run, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


class BrokenUpload(io.RawIOBase):
    """A request body that dies after `good_bytes`, as when a client disconnects mid-upload."""

    def __init__(self, good_bytes: int) -> None:
        self.remaining = good_bytes

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self.remaining <= 0:
            raise ConnectionResetError("client went away")
        count = min(len(buffer), self.remaining)
        buffer[:count] = b"p" * count
        self.remaining -= count
        return count


def test_an_interrupted_write_leaves_the_previous_version_current(composition: Composition) -> None:
    storage = composition.storage
    file = storage.create_file(composition.home, "report.docx", content("v1"), ORIGIN)
    with pytest.raises(ConnectionResetError):
        storage.write_version(file.id, io.BufferedReader(BrokenUpload(3 * 1024 * 1024 + 5)), ORIGIN)
    with pytest.raises(ConnectionResetError):
        storage.create_file(composition.home, "new.docx", io.BufferedReader(BrokenUpload(1000)), ORIGIN)

    node = storage.stat(file.id)
    assert (node.version, node.sha256) == (1, hashlib.sha256(b"v1").hexdigest())
    assert [item.number for item in storage.list_versions(file.id)] == [1]
    assert read_version(storage, file.id) == b"v1"
    assert storage.find_child(composition.home, "new.docx") is None
    composition.assert_clean()


def test_a_body_cut_off_before_its_length_stores_nothing(composition: Composition) -> None:
    storage = composition.storage
    file = storage.create_file(composition.home, "report.docx", content("v1"), ORIGIN)
    declared = 3 * 1024 * 1024
    arrived = io.BytesIO(b"x" * (declared - 1000))
    with pytest.raises(IncompleteBody):
        storage.write_version(file.id, CompleteBody(arrived, declared), ORIGIN)
    with pytest.raises(IncompleteBody):
        storage.create_file(composition.home, "new.docx", CompleteBody(io.BytesIO(b"x" * 10), 11), ORIGIN)
    assert [item.number for item in storage.list_versions(file.id)] == [1]
    assert read_version(storage, file.id) == b"v1"
    assert storage.find_child(composition.home, "new.docx") is None
    composition.assert_clean()


def test_concurrent_writers_never_lose_or_duplicate_a_version(composition: Composition) -> None:
    storage = composition.storage
    file = storage.create_file(composition.home, "shared.txt", content("start"), ORIGIN)
    writers, saves_each = 6, 4
    results: list[int] = []
    lock = threading.Lock()

    def write(writer: int) -> None:
        for save in range(saves_each):
            version = storage.write_version(file.id, content(f"writer {writer} save {save}"), ORIGIN)
            with lock:
                results.append(version.number)

    assert run_concurrently(write, writers) == []
    total = writers * saves_each
    assert sorted(results) == list(range(2, total + 2))
    listed = storage.list_versions(file.id)
    assert sorted(item.number for item in listed) == list(range(1, total + 2))
    contents = {read_version(storage, file.id, number) for number in range(2, total + 2)}
    assert contents == {f"writer {w} save {s}".encode() for w in range(writers) for s in range(saves_each)}
    assert storage.stat(file.id).version == total + 1
    composition.assert_clean()


def test_the_blob_store_lists_exactly_the_finished_blobs(composition: Composition) -> None:
    storage = composition.storage
    file = storage.create_file(composition.home, "a.txt", content("a"), ORIGIN)
    storage.write_version(file.id, content("b"), ORIGIN)
    assert set(composition.services.blobs.keys()) == composition.stored_blobs() == composition.referenced_blobs()
    assert len(composition.stored_blobs()) == 2


# --- locks on PostgreSQL ------------------------------------------------------------------------


def test_lock_compare_and_set_grants_one_lock_under_concurrency(
    request: pytest.FixtureRequest, make_app: Callable[..., Flask], pg_url: str
) -> None:
    found = services_of(make_app(database_url=pg_url))
    request.addfinalizer(found.engine.dispose)
    home = found.users.create("dave", "secret").home_id
    file = found.storage.create_file(home, "locked.docx", content("v1"), ORIGIN)
    contenders = 12
    granted: list[str] = []
    refused: list[str] = []
    guard = threading.Lock()

    def lock_for(lock_id: str) -> Callable[[Lock | None], Lock | None]:
        def decide(current: Lock | None) -> Lock | None:
            if current is not None and current.lock_id != lock_id:
                raise LockConflict("locked by another client", current.lock_id)
            return Lock(file.id, lock_id, "wopi-test", None, now_utc() + timedelta(minutes=30))

        return decide

    def contend(index: int) -> None:
        lock_id = f"lock-{index}"
        try:
            found.locks.update(file.id, lock_for(lock_id))
            with guard:
                granted.append(lock_id)
        except LockConflict as conflict:
            with guard:
                refused.append(conflict.current_lock)

    assert run_concurrently(contend, contenders) == []
    assert len(granted) == 1 and len(refused) == contenders - 1
    held = found.locks.get(file.id)
    assert held is not None and held.lock_id == granted[0]
    assert set(refused) == {granted[0]}

    # Unlocking is compare-and-set too: only the holder's lock id releases it.
    def unlock(lock_id: str) -> Callable[[Lock | None], Lock | None]:
        def decide(current: Lock | None) -> Lock | None:
            if current is None or current.lock_id != lock_id:
                raise LockConflict("not your lock", current.lock_id if current else "")
            return None

        return decide

    with pytest.raises(LockConflict):
        found.locks.update(file.id, unlock("lock-intruder"))
    assert found.locks.update(file.id, unlock(granted[0])) is None
    assert found.locks.get(file.id) is None


def test_the_sweep_removes_what_a_crash_left_and_nothing_else(composition: Composition) -> None:
    storage = composition.storage
    file = storage.create_file(composition.home, "kept.txt", content("kept"), ORIGIN)
    # A crash during a write leaves a temporary file ...
    temporary = composition.blob_root / "tmp"
    temporary.mkdir(parents=True, exist_ok=True)
    (temporary / f"{uuid.uuid4().hex}.part").write_bytes(b"half a file")
    stale = temporary / f"{uuid.uuid4().hex}.part"
    stale.write_bytes(b"left two hours ago")
    two_hours_ago = time.time() - 7200
    os.utime(stale, (two_hours_ago, two_hours_ago))
    # ... and a crash between the blob and the commit, a pending mark and a whole blob.
    orphan = uuid.uuid4().hex
    with composition.services.engine.begin() as connection:
        connection.execute(insert(pending_blobs).values(blob_key=orphan, created_at=now_utc()))
    composition.services.blobs.put(orphan, content("never committed"))
    assert orphan in composition.stored_blobs()

    # Only what is older than the grace period goes: young leftovers may be a save still running.
    assert storage.sweep_orphans(3600) == 1
    assert len(composition.temporary_files()) == 1 and stale.name not in composition.temporary_files()
    assert composition.pending() == [orphan]
    assert storage.sweep_orphans(0) == 2
    composition.assert_clean()
    assert read_version(storage, file.id) == b"kept"


def test_the_http_api_streams_through_the_backend(composition: Composition) -> None:
    client = composition.app.test_client()
    auth = {"Authorization": "Basic " + base64.b64encode(b"carol:secret").decode()}
    payload = bytes(range(256)) * (3 * 4096 + 1)
    response = client.put(f"/api/v1/containers/{composition.home}/files/data.bin", data=payload, headers=auth)
    assert response.status_code == 201, response.get_data(as_text=True)
    file_id = response.get_json()["file_id"]

    response = client.get(f"/api/v1/files/{file_id}/content", headers=auth)
    assert response.status_code == 200
    assert response.headers["Content-Length"] == str(len(payload))
    assert response.get_data() == payload
    response.close()
    response = client.get(f"/api/v1/files/{file_id}/content", headers={**auth, "Range": "bytes=1000-1009"})
    assert response.status_code == 206 and response.get_data() == payload[1000:1010]
    response.close()


def test_webdav_credentials_are_sent_and_refusals_reported(propfind_server: WebDavServer) -> None:
    url = f"{propfind_server.url}{uuid.uuid4().hex}/"
    key = uuid.uuid4().hex
    refused = WebDavBlobStore(url, username=DAV_CREDENTIALS[0], password="wrong")
    with pytest.raises(StorageUnavailable, match="HTTP 401"):
        refused.put(key, content("secret plans"))
    accepted = WebDavBlobStore(url, username=DAV_CREDENTIALS[0], password=DAV_CREDENTIALS[1])
    stored = accepted.put(key, content("secret plans"))
    assert (stored.size, list(accepted.keys())) == (len("secret plans"), [key])
    with pytest.raises(StorageUnavailable, match="HTTP 401"):
        refused.open(key)


def test_an_unreachable_webdav_server_fails_saves_cleanly(make_app: Callable[..., Flask]) -> None:
    with nginx_webdav() as server:
        found = services_of(make_app(storage=webdav_settings(server, "gone")))
        home = found.users.create("erin", "secret").home_id
        file = found.storage.create_file(home, "a.txt", content("v1"), ORIGIN)
    with pytest.raises(StorageUnavailable):
        found.storage.write_version(file.id, content("v2"), ORIGIN)
    with pytest.raises(StorageUnavailable):
        found.storage.create_file(home, "b.txt", content("b"), ORIGIN)
    with pytest.raises(StorageUnavailable):
        found.storage.open_version(file.id)
    assert [item.number for item in found.storage.list_versions(file.id)] == [1]
    assert [node.name for node in found.storage.list_folder(home)] == ["a.txt"]
    with found.engine.connect() as connection:
        assert list(connection.execute(select(pending_blobs.c.blob_key))) == []
