"""What the ONLYOFFICE driver remembers: document keys and sessions, who is editing, which
callback saves were already stored, each saved version's history and changes.zip, and the
conflict copy a session's saves go to once the file was taken from it.

The tables are the driver's own (`metadata`), created by the revisions in
``onlyoffice/migrations/`` on the ``onlyoffice`` Alembic branch. Key changes are compare-and-set inside one write transaction,
so several Docbridge instances on one database agree on a file's key.

A version's changes.zip is an attachment of its file in storage (`StorageService.
store_attachment`): in the blob store, shared by every instance, removed with the file and
known to the orphan sweep. The history row names it by blob key and is written in the
transaction that commits the attachment. Archives that earlier releases kept under
``<data_dir>/onlyoffice/changes`` are moved there at start-up (`adopt_legacy_changes`).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy import Column, DateTime, Integer, String, Table, Text, delete, insert, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from core.errors import BadRequest, NotFound
from core.ids import parse_resource_id
from onlyoffice.keys import document_key
from storage.interface import Storage
from storage.metadata.database import now_utc, read_connection, utc, write_transaction
from storage.metadata.schema import new_metadata
from storage.types import StoredBlob

log = logging.getLogger(__name__)

metadata = new_metadata()

CHANGES_KIND = "onlyoffice-changes"
_LEGACY_CHANGES_NAME = re.compile(r"^[0-9a-f]{64}\.zip$")

documents = Table(
    "onlyoffice_documents",
    metadata,
    Column("file_id", String(400), primary_key=True),
    # The key editors of this file share now; NULL after a final save until the next open.
    Column("doc_key", String(128), nullable=True),
    Column("base_version", Integer, nullable=False),
    # The version the session last wrote (forcesave); an open at it keeps the key.
    Column("session_version", Integer, nullable=False),
    Column("epoch", Integer, nullable=False, default=0),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    # The key of the session that was live when the file changed under it (another writer
    # saved while its lock had lapsed): its late saves are kept as a conflict copy.
    Column("spent_key", String(128), nullable=True),
)

presence = Table(
    "onlyoffice_presence",
    metadata,
    Column("file_id", String(400), primary_key=True),
    Column("user_id", String(64), primary_key=True),
    Column("user_name", String(255), nullable=False, default=""),
    Column("editing", Integer, nullable=False, default=0),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

saves = Table(
    "onlyoffice_saves",
    metadata,
    Column("dedupe_key", String(128), primary_key=True),
    Column("file_id", String(400), nullable=False),
    Column("version", Integer, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

history = Table(
    "onlyoffice_history",
    metadata,
    Column("file_id", String(400), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("doc_key", String(128), nullable=False),
    Column("history_json", Text, nullable=False, default=""),
    # The blob key of the version's changes.zip, an attachment of the file in storage.
    Column("changes_blob", String(64), nullable=True),
    # Only rows of earlier releases: the archive's file name under <data_dir>/onlyoffice/changes,
    # until `adopt_legacy_changes` moves it into the blob store.
    Column("changes_name", String(128), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
)


# A session whose save could not go into its file (another writer changed or holds it)
# keeps that save, and its later ones, in one conflict copy beside the file.
conflicts = Table(
    "onlyoffice_conflicts",
    metadata,
    Column("doc_key", String(128), primary_key=True),
    Column("file_id", String(400), nullable=False),
    Column("copy_id", String(400), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)


@dataclass(frozen=True, slots=True)
class SessionState:
    """A live session's key and the versions it knows as its own: the one it started
    from, and the one it last saved (the same until a forcesave)."""

    doc_key: str
    base_version: int
    session_version: int


@dataclass(frozen=True, slots=True)
class HistoryRecord:
    version: int
    doc_key: str
    history: dict[str, Any]
    has_changes: bool
    created: datetime


class _AlreadyAdopted(Exception):
    """Another process moved this legacy archive first."""


class OnlyofficeStore:
    def __init__(self, engine: Engine, storage: Storage, key_salt: bytes, legacy_changes_dir: Path) -> None:
        self.engine = engine
        self.storage = storage
        self.key_salt = key_salt
        self.legacy_changes_dir = legacy_changes_dir

    # --- document keys -----------------------------------------------------------------

    def current_key(self, file_id: str) -> str | None:
        with read_connection(self.engine) as connection:
            row = connection.execute(select(documents.c.doc_key).where(documents.c.file_id == file_id)).first()
        return row.doc_key if row else None

    def spent_key(self, file_id: str) -> str | None:
        """The key of the last session the file changed under, if any."""
        with read_connection(self.engine) as connection:
            row = connection.execute(select(documents.c.spent_key).where(documents.c.file_id == file_id)).first()
        return row.spent_key if row else None

    def key_for_open(self, file_id: str, version: int) -> str:
        """The key an editor opening `file_id` at `version` must use.

        The live session's key while the file is at the version the session started from
        or last wrote; otherwise (first open, after a final save, or the file changed by
        another route) a new key derived from the version and the file's key epoch."""
        for _attempt in range(2):
            try:
                with write_transaction(self.engine) as connection:
                    row = connection.execute(select(documents).where(documents.c.file_id == file_id)).first()
                    if row is not None and row.doc_key and version in (row.base_version, row.session_version):
                        return str(row.doc_key)
                    epoch = int(row.epoch) if row is not None else 0
                    values: dict[str, Any] = {}
                    if row is not None and row.doc_key:
                        epoch += 1  # the file changed under a live key: that key is spent
                        values["spent_key"] = row.doc_key
                    key = document_key(self.key_salt, file_id, version, epoch)
                    values.update(doc_key=key, base_version=version, session_version=version, epoch=epoch,
                                  updated_at=now_utc())
                    if row is None:
                        connection.execute(insert(documents).values(file_id=file_id, **values))
                    else:
                        connection.execute(update(documents).where(documents.c.file_id == file_id).values(**values))
                    return key
            except IntegrityError:
                continue  # another instance inserted first: read its key
        raise RuntimeError("could not settle a document key")

    def session(self, file_id: str, doc_key: str) -> SessionState | None:
        """The session of `doc_key` while it is the file's current key, else None."""
        with read_connection(self.engine) as connection:
            row = connection.execute(
                select(documents).where(documents.c.file_id == file_id, documents.c.doc_key == doc_key)
            ).first()
        if row is None:
            return None
        return SessionState(str(row.doc_key), int(row.base_version), int(row.session_version))

    def wrote_during_session(self, file_id: str, doc_key: str, version: int) -> None:
        """A forcesave stored `version`: the session (and its key) goes on at it."""
        with write_transaction(self.engine) as connection:
            connection.execute(
                update(documents)
                .where(documents.c.file_id == file_id, documents.c.doc_key == doc_key)
                .values(session_version=version, updated_at=now_utc())
            )

    def end_session(self, file_id: str, doc_key: str, *, rotate: bool) -> None:
        """The session of `doc_key` is over. With `rotate`, its key is spent: the next open
        gets a new one (a new key epoch)."""
        with write_transaction(self.engine) as connection:
            if rotate:
                connection.execute(
                    update(documents)
                    .where(documents.c.file_id == file_id, documents.c.doc_key == doc_key)
                    .values(doc_key=None, epoch=documents.c.epoch + 1, updated_at=now_utc())
                )
            connection.execute(update(presence).where(presence.c.file_id == file_id).values(editing=0))

    # --- presence and names ------------------------------------------------------------

    def remember_user(self, file_id: str, user_id: str, user_name: str) -> None:
        """Record the display name of a user who opened the editor (authors of saves)."""
        now = now_utc()
        with write_transaction(self.engine) as connection:
            changed = connection.execute(
                update(presence).where(presence.c.file_id == file_id, presence.c.user_id == user_id)
                .values(user_name=user_name, updated_at=now)
            ).rowcount
            if not changed:
                connection.execute(insert(presence).values(file_id=file_id, user_id=user_id, user_name=user_name,
                                                           editing=0, updated_at=now))

    def record_editors(self, file_id: str, user_ids: Iterable[str]) -> None:
        editing = set(user_ids)
        now = now_utc()
        with write_transaction(self.engine) as connection:
            connection.execute(update(presence).where(presence.c.file_id == file_id).values(editing=0))
            for user_id in editing:
                changed = connection.execute(
                    update(presence).where(presence.c.file_id == file_id, presence.c.user_id == user_id)
                    .values(editing=1, updated_at=now)
                ).rowcount
                if not changed:
                    connection.execute(insert(presence).values(file_id=file_id, user_id=user_id, user_name="",
                                                               editing=1, updated_at=now))

    def editors(self, file_id: str) -> list[str]:
        with read_connection(self.engine) as connection:
            rows = connection.execute(
                select(presence.c.user_id).where(presence.c.file_id == file_id, presence.c.editing == 1)
                .order_by(presence.c.user_id)
            ).all()
        return [row.user_id for row in rows]

    def user_name(self, file_id: str, user_id: str) -> str:
        with read_connection(self.engine) as connection:
            row = connection.execute(
                select(presence.c.user_name).where(presence.c.file_id == file_id, presence.c.user_id == user_id)
            ).first()
        return str(row.user_name) if row and row.user_name else ""

    # --- callback dedupe ---------------------------------------------------------------

    def handled_version(self, dedupe_key: str) -> int | None:
        with read_connection(self.engine) as connection:
            row = connection.execute(select(saves.c.version).where(saves.c.dedupe_key == dedupe_key)).first()
        return int(row.version) if row else None

    def record_handled(self, dedupe_key: str, file_id: str, version: int) -> None:
        try:
            with write_transaction(self.engine) as connection:
                connection.execute(insert(saves).values(dedupe_key=dedupe_key, file_id=file_id, version=version,
                                                        created_at=now_utc()))
        except IntegrityError:
            pass  # a concurrent retry recorded the same save

    # --- conflict copies ---------------------------------------------------------------

    def conflict_copy(self, doc_key: str) -> str | None:
        """The id of the conflict copy the session of `doc_key` saves into, if it has one."""
        with read_connection(self.engine) as connection:
            row = connection.execute(select(conflicts.c.copy_id).where(conflicts.c.doc_key == doc_key)).first()
        return str(row.copy_id) if row else None

    def remember_conflict_copy(self, doc_key: str, file_id: str, copy_id: str) -> None:
        with write_transaction(self.engine) as connection:
            connection.execute(delete(conflicts).where(conflicts.c.doc_key == doc_key))
            connection.execute(insert(conflicts).values(doc_key=doc_key, file_id=file_id, copy_id=copy_id,
                                                        created_at=now_utc()))

    # --- version history ---------------------------------------------------------------

    def save_history(self, file_id: str, version: int, doc_key: str, history_object: dict[str, Any] | None,
                     changes: BinaryIO | None) -> None:
        """Keep the callback's ``history`` and the ``changesurl`` archive for `version`; the
        archive goes into the blob store as an attachment of the file, and the history row
        commits with it."""
        values = {"file_id": file_id, "version": version, "doc_key": doc_key,
                  "history_json": json.dumps(history_object or {}), "created_at": now_utc()}

        def record(connection: Connection, blob: StoredBlob) -> None:
            connection.execute(insert(history).values(**values, changes_blob=blob.key))

        try:
            if changes is None:
                with write_transaction(self.engine) as connection:
                    connection.execute(insert(history).values(**values))
            else:
                self.storage.store_attachment(parse_resource_id(file_id), CHANGES_KIND, changes, record=record)
        except IntegrityError:
            pass  # a replay of the same save; its attachment was undone with the row

    def history(self, file_id: str) -> dict[int, HistoryRecord]:
        with read_connection(self.engine) as connection:
            rows = connection.execute(select(history).where(history.c.file_id == file_id)).all()
        return {
            int(row.version): HistoryRecord(int(row.version), str(row.doc_key), json.loads(row.history_json or "{}"),
                                            bool(row.changes_blob or row.changes_name), utc(row.created_at))
            for row in rows
        }

    def open_changes(self, file_id: str, version: int) -> BinaryIO | None:
        with read_connection(self.engine) as connection:
            row = connection.execute(
                select(history.c.changes_blob, history.c.changes_name)
                .where(history.c.file_id == file_id, history.c.version == version)
            ).first()
        if row is None:
            return None
        if row.changes_blob:
            try:
                return self.storage.open_attachment(str(row.changes_blob))
            except NotFound:
                return None
        legacy = self._legacy_path(row.changes_name)
        if legacy is None:
            return None
        try:
            return open(legacy, "rb")  # not moved yet: on this instance's disk, or nowhere
        except FileNotFoundError:
            return None

    def _legacy_path(self, name: str | None) -> Path | None:
        if not name or not _LEGACY_CHANGES_NAME.match(name):
            return None
        return self.legacy_changes_dir / name

    def adopt_legacy_changes(self) -> int:
        """Move the changes.zip files earlier releases kept under the data directory into
        the blob store; return how many were moved.

        Each file becomes an attachment, and its row's ``changes_blob`` is set (and
        ``changes_name`` cleared) in the transaction that commits it; only then is the file
        deleted. The row's update is compare-and-set, so processes starting at once move
        each file once. Rows whose file is not on this disk (another instance wrote it)
        are left for that instance."""
        if not self.legacy_changes_dir.is_dir():
            return 0
        with read_connection(self.engine) as connection:
            rows = connection.execute(
                select(history.c.file_id, history.c.version, history.c.changes_name)
                .where(history.c.changes_name.is_not(None), history.c.changes_blob.is_(None))
            ).all()
        moved = 0
        for row in rows:
            path = self._legacy_path(row.changes_name)
            if path is None:
                continue
            try:
                handle = open(path, "rb")
            except FileNotFoundError:
                continue
            with handle:
                try:
                    self.storage.store_attachment(parse_resource_id(str(row.file_id)), CHANGES_KIND, handle,
                                                  record=_adopt(str(row.file_id), int(row.version),
                                                                str(row.changes_name)))
                except _AlreadyAdopted:
                    continue
                except (NotFound, BadRequest) as error:
                    log.warning("onlyoffice: changes of file=%s version=%s not moved: %s", row.file_id, row.version,
                                error.message)
                    continue
            path.unlink(missing_ok=True)
            moved += 1
        if moved:
            log.info("onlyoffice: moved %d changes.zip file(s) from %s into the blob store", moved,
                     self.legacy_changes_dir)
        try:
            self.legacy_changes_dir.rmdir()  # only when nothing is left in it
        except OSError:
            pass
        return moved

    def forget_file(self, file_id: str) -> None:
        with write_transaction(self.engine) as connection:
            for table in (documents, presence, history):
                connection.execute(delete(table).where(table.c.file_id == file_id))
            connection.execute(delete(conflicts).where((conflicts.c.file_id == file_id) | (conflicts.c.copy_id == file_id)))


def _adopt(file_id: str, version: int, name: str) -> Callable[[Connection, StoredBlob], None]:
    """The `record` step of moving one legacy archive: point its row at the new blob."""

    def record(connection: Connection, blob: StoredBlob) -> None:
        moved = connection.execute(
            update(history)
            .where(history.c.file_id == file_id, history.c.version == version, history.c.changes_name == name)
            .values(changes_blob=blob.key, changes_name=None)
        ).rowcount
        if moved != 1:
            raise _AlreadyAdopted(name)

    return record
