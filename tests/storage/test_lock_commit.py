"""The storage service checks every change of a file against its one lock, once before a body
is read and again inside the commit's transaction, on SQLite and on PostgreSQL."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import select

from core.errors import LockConflict
from core.events import LockChanged
from core.ids import ResourceId
from server.services import Services, services_of
from storage.metadata.database import now_utc
from storage.metadata.schema import locks as lock_rows
from storage.metadata.schema import pending_blobs, versions
from storage.types import Lock, LockClaim, LockKind, SaveKind, SaveOrigin

ORIGIN = SaveOrigin(author_id=None, author_name="Test", source="test")
WOPI_LOCK = LockClaim.wopi("L", "Collabora", "u1", grace_seconds=10)


@dataclass
class Store:
    services: Services
    home: ResourceId

    def file(self, name: str = "report.docx", content: bytes = b"v1") -> ResourceId:
        return self.services.storage.create_file(self.home, name, io.BytesIO(content), ORIGIN).id

    def lock(self, file_id: ResourceId, lock_id: str = "L", kind: LockKind = LockKind.WOPI, app: str = "Collabora") -> None:
        wanted = Lock(file_id, lock_id, app, "u1", now_utc() + timedelta(minutes=30), kind, "Alice")
        self.services.locks.update(file_id, lambda _current: wanted)

    def content(self, file_id: ResourceId) -> bytes:
        _version, stream = self.services.storage.open_version(file_id)
        with stream:
            return stream.read()

    def numbers(self, file_id: ResourceId) -> list[int]:
        return [version.number for version in self.services.storage.list_versions(file_id)]

    def assert_nothing_pending(self) -> None:
        with self.services.engine.connect() as connection:
            assert connection.execute(select(pending_blobs)).all() == []
            referenced = {row.blob_key for row in connection.execute(select(versions.c.blob_key))}
        assert set(self.services.blobs.keys()) == referenced


@pytest.fixture
def store(make_app: Callable[..., Flask], database_url: str) -> Store:
    app = make_app(database_url=database_url) if database_url else make_app()
    found = services_of(app)
    return Store(found, found.users.create("carol", "secret").home_id)


def test_a_writer_holding_no_lock_is_refused_every_change_of_a_locked_file(store: Store) -> None:
    storage = store.services.storage
    folder = storage.create_folder(store.home, "Reports")
    file_id = storage.create_file(folder.id, "q1.docx", io.BytesIO(b"v1"), ORIGIN).id
    storage.write_version(file_id, io.BytesIO(b"v2"), ORIGIN)
    store.lock(file_id)
    attempts: list[Callable[[], object]] = [
        lambda: storage.write_version(file_id, io.BytesIO(b"api"), ORIGIN),
        lambda: storage.restore_version(file_id, 1, ORIGIN),
        lambda: storage.rename(file_id, "renamed.docx"),
        lambda: storage.delete(file_id),
        lambda: storage.delete(folder.id),
    ]
    for attempt in attempts:
        with pytest.raises(LockConflict) as refused:
            attempt()
        holder = refused.value.holder
        assert holder is not None and (holder.app_name, holder.user_name, holder.kind) == ("Collabora", "Alice", "wopi")
        assert refused.value.current_lock == "L"
    assert store.numbers(file_id) == [2, 1] and store.content(file_id) == b"v2"
    _first, stream = storage.open_version(file_id, 1)
    with stream:
        assert stream.read() == b"v1", "a refused restore must leave the blob it shares"
    assert storage.stat(file_id).name == "q1.docx"
    store.assert_nothing_pending()
    # The holder may do what the others may not.
    storage.write_version(file_id, io.BytesIO(b"v3"), ORIGIN, holding=WOPI_LOCK)
    storage.rename(file_id, "q1-final.docx", holding=WOPI_LOCK)
    assert store.content(file_id) == b"v3"


class LockChangingStream(io.BytesIO):
    """An upload body that, once it has been half read, lets `change` run: as if another
    client took the file while the body was still on its way."""

    def __init__(self, content: bytes, change: Callable[[], None]) -> None:
        super().__init__(content)
        self.change: Callable[[], None] | None = change

    def read(self, size: int | None = -1) -> bytes:
        if self.change is not None and self.tell() >= len(self.getvalue()) // 2:
            change, self.change = self.change, None
            change()
        return super().read(min(size, 4096) if size and size > 0 else 4096)


@pytest.mark.parametrize("change", ["released", "taken by another client", "expired"])
def test_a_lock_lost_while_the_body_streams_stores_nothing(store: Store, change: str) -> None:
    file_id = store.file(content=b"v1")
    store.lock(file_id)
    locks = store.services.locks

    def lose() -> None:
        if change == "released":
            locks.release(file_id)
            with store.services.engine.begin() as connection:  # long enough ago to be past the grace
                connection.execute(lock_rows.update().values(released_at=now_utc() - timedelta(seconds=60)))
        elif change == "taken by another client":
            locks.release(file_id)
            store.lock(file_id, "L2")
        else:
            expired = Lock(file_id, "L", "Collabora", "u1", now_utc() - timedelta(seconds=60))
            locks.update(file_id, lambda _current: expired)

    body = LockChangingStream(b"x" * 100_000, lose)
    with pytest.raises(LockConflict):
        store.services.storage.write_version(file_id, body, ORIGIN, holding=WOPI_LOCK)
    assert body.change is None, "the body was read before the commit refused it"
    assert store.numbers(file_id) == [1] and store.content(file_id) == b"v1"
    store.assert_nothing_pending()


def test_a_save_racing_its_own_unlock_is_accepted_within_the_grace(store: Store) -> None:
    file_id = store.file(content=b"v1")
    store.lock(file_id)
    store.services.locks.release(file_id)
    store.services.storage.write_version(file_id, io.BytesIO(b"late save"), ORIGIN, holding=WOPI_LOCK)
    assert store.content(file_id) == b"late save"
    for other in (LockClaim.wopi("L", "Office", "u1", grace_seconds=10), LockClaim.wopi("L", "Collabora", "u2", grace_seconds=10),
                  LockClaim.wopi("L", "Collabora", "u1", grace_seconds=0), LockClaim.wopi(None, "Collabora", "u1", grace_seconds=10)):
        with pytest.raises(LockConflict):
            store.services.storage.write_version(file_id, io.BytesIO(b"refused"), ORIGIN, holding=other)
    assert store.content(file_id) == b"late save"


def test_a_session_writes_an_unlocked_file_only_while_it_is_as_the_session_knows_it(store: Store) -> None:
    storage = store.services.storage
    file_id = store.file(content=b"v1")
    key = LockClaim.session("K", "OnlyOffice", "u2", based_on=1)
    store.lock(file_id, "K", LockKind.SESSION, "OnlyOffice")
    store.services.locks.release(file_id)  # the session's lock lapsed; nobody wrote
    saved = storage.write_version(file_id, io.BytesIO(b"session v2"), ORIGIN, holding=key)
    # A later save of the same session, that still thinks it started at version 1: the
    # current version is its own (saved under its key), so it goes ahead.
    storage.write_version(file_id, io.BytesIO(b"session v3"), ORIGIN, holding=key)
    assert [version.number for version in storage.list_versions(file_id)] == [3, 2, 1] and saved.number == 2
    storage.write_version(file_id, io.BytesIO(b"an upload"), ORIGIN)  # someone else writes
    with pytest.raises(LockConflict) as refused:
        storage.write_version(file_id, io.BytesIO(b"session v5"), ORIGIN, holding=key)
    assert refused.value.holder is None and "changed by another writer" in refused.value.message
    assert store.content(file_id) == b"an upload"
    store.assert_nothing_pending()


def test_versions_keep_the_lock_they_were_saved_under_and_the_save_kind(store: Store) -> None:
    file_id = store.file()
    store.lock(file_id)
    origin = SaveOrigin(None, "Alice", "wopi", save_kind=SaveKind.AUTOSAVE, modified_by_user=False)
    store.services.storage.write_version(file_id, io.BytesIO(b"v2"), origin, holding=WOPI_LOCK)
    newest, first = store.services.storage.list_versions(file_id)
    assert (newest.save_kind, newest.modified_by_user) == (SaveKind.AUTOSAVE, False)
    assert (first.save_kind, first.modified_by_user) == (None, None)
    with store.services.engine.connect() as connection:
        rows = connection.execute(select(versions.c.number, versions.c.lock_id).order_by(versions.c.number)).all()
    assert [tuple(row) for row in rows] == [(1, None), (2, "L")]


def test_lock_changes_are_events_and_released_rows_stay_for_the_record(store: Store) -> None:
    seen: list[LockChanged] = []
    store.services.events.subscribe(LockChanged, seen.append)
    file_id = store.file()
    store.lock(file_id, "L")
    store.lock(file_id, "L")  # a refresh: no change
    store.lock(file_id, "L2")
    assert store.services.locks.release(file_id) is not None
    assert store.services.locks.release(file_id) is None
    assert [(event.lock_id, event.change) for event in seen] == [
        ("L", "locked"), ("L2", "relocked"), ("", "released by admin")]
    record = store.services.locks.store.record(file_id)
    assert record is not None and record.lock.lock_id == "L2" and record.released_at is not None
    assert store.services.locks.get(file_id) is None
    assert store.services.locks.active() == []
