"""The storage service: files, folders and versions over a blob store and SQL metadata.

Every save follows one path: record the blob as pending, write it (temp file, fsync,
rename), then in one transaction insert the version row, move the file's current version
and clear the pending mark. A crash before that commit leaves the previous version current
and an orphan blob that `sweep_orphans` removes; nothing partial is ever visible. The
blob and the version's commit are fsynced before a save is answered; the pending mark is
not (it need only survive the process dying), so a power cut can at worst leave a blob that
nothing references and no mark names.

Attachments are the other bytes a file owns (an editor's change log, for one): they take the
same path, with an ``attachments`` row in place of the version row, and go with their file.
So every byte Docbridge keeps is in the blob store, shared by every instance over it, and
every blob is referenced by a version or an attachment or is an orphan the sweep removes.

Every change of a file (a save, a restore, a rename, a delete) is checked against the
file's lock (`storage.lock_rules`) with what the writer says it holds (`holding`): once
before a body is streamed, and again inside the commit's transaction, where it counts. So
a lock lost while a body streamed refuses the save, and nothing is stored.
"""

from __future__ import annotations

import logging
import os
import secrets
import time
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import UTC, timedelta
from typing import Any, BinaryIO

from sqlalchemy import Integer, and_, bindparam, delete, func, insert, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from core.errors import AlreadyExists, BadRequest, LockConflict, NotFound, VersionConflict
from core.events import EventBus, FileCreated, FileDeleted, FileRenamed, VersionSaved
from core.filetypes import guess_mimetype
from core.ids import ResourceId, new_opaque_id
from storage.interface import BlobStore
from storage.lock_rules import Operation, decide_write, describe, holder_of, shown_lock_id
from storage.metadata.database import cached_read, is_postgresql, now_utc, read_connection, utc, write_transaction
from storage.metadata.locks import active_among, read_record
from storage.metadata.schema import attachments, nodes, pending_blobs, spaces, versions
from storage.names import free_name, validate_name
from storage.types import (
    FOLDER_MIMETYPE,
    LockClaim,
    LockKind,
    Node,
    NodeKind,
    SaveKind,
    SaveOrigin,
    StoredBlob,
    Version,
)

log = logging.getLogger(__name__)

_KEYS_PER_QUERY = 500

_NODE_COLUMNS = (
    nodes.c.id,
    nodes.c.space_id,
    nodes.c.parent_id,
    nodes.c.name,
    nodes.c.kind,
    nodes.c.mimetype,
    nodes.c.current_version,
    nodes.c.size,
    nodes.c.sha256,
    nodes.c.created_at,
    nodes.c.modified_at,
    spaces.c.owner_id,
)

# The statements every request runs are built once: building one costs several times more
# than running it on SQLite.
_NODE_BY_ID = (
    select(*_NODE_COLUMNS)
    .join(spaces, spaces.c.id == nodes.c.space_id)
    .where(nodes.c.id == bindparam("node_id"), nodes.c.space_id == bindparam("space_id"))
)
_NODE_BY_ID_FOR_UPDATE = _NODE_BY_ID.with_for_update(of=nodes)
_PARENT = nodes.alias("parent")
_PARENT_PREFIX = "folder_"  # not "parent_": the node has a parent_id column
_NODE_AND_PARENT_BY_ID = (
    select(*_NODE_COLUMNS, *(_PARENT.c[column.name].label(_PARENT_PREFIX + column.name) for column in _NODE_COLUMNS
                             if column.table is nodes))
    .join(spaces, spaces.c.id == nodes.c.space_id)
    .outerjoin(_PARENT, and_(_PARENT.c.id == nodes.c.parent_id, _PARENT.c.space_id == nodes.c.space_id))
    .where(nodes.c.id == bindparam("node_id"), nodes.c.space_id == bindparam("space_id"))
)
_VERSION_BY_NUMBER = select(versions).where(
    versions.c.node_id == bindparam("node_id"), versions.c.number == bindparam("number")
)
# Every download: the version (the current one when no number is given) of a file, with the
# file's current version number, in one statement.
_VERSION_OF_FILE = (
    select(versions, nodes.c.current_version.label("file_current_version"))
    .join(nodes, nodes.c.id == versions.c.node_id)
    .where(
        nodes.c.id == bindparam("node_id"),
        nodes.c.space_id == bindparam("space_id"),
        nodes.c.kind == NodeKind.FILE.value,
        versions.c.number == func.coalesce(bindparam("number", type_=Integer), nodes.c.current_version),
    )
)
# Every save runs these.
_HIGHEST_VERSION = select(func.max(versions.c.number)).where(versions.c.node_id == bindparam("node_id"))
_VERSION_BY_DEDUPE_KEY = select(versions).where(
    versions.c.node_id == bindparam("node_id"), versions.c.dedupe_key == bindparam("dedupe_key")
)
_LATEST_EDIT = select(func.max(versions.c.edited_at)).where(
    versions.c.node_id == bindparam("node_id"), versions.c.recovered.is_(False)
)
_INSERT_VERSION = insert(versions)
_MAKE_CURRENT = (
    update(nodes)
    .where(nodes.c.id == bindparam("node_id"))
    .values(
        current_version=bindparam("new_version"),
        size=bindparam("new_size"),
        sha256=bindparam("new_sha256"),
        modified_at=bindparam("new_modified_at"),
    )
)
_TOUCH_FOLDER = update(nodes).where(nodes.c.id == bindparam("node_id")).values(modified_at=bindparam("new_modified_at"))
_MARK_PENDING = insert(pending_blobs)
_CLEAR_PENDING = delete(pending_blobs).where(pending_blobs.c.blob_key == bindparam("key"))

BLOB_KEY_BUCKET_SECONDS = 10


def new_blob_key(now: float | None = None) -> str:
    """32 hex digits: a 10-second time bucket (4 digits, round every 7.6 days), then 112
    random bits. Blob stores shard by the leading digits (local: ``ab/cd/``), so saves close
    in time share a folder: with random keys nearly every save made and fsynced a new one
    until the store held some 100,000 blobs (docs/benchmarks.md, "PutFile")."""
    bucket = int((time.time() if now is None else now) // BLOB_KEY_BUCKET_SECONDS) % 0x10000
    return f"{bucket:04x}{secrets.token_hex(14)}"


class StorageService:
    def __init__(
        self,
        engine: Engine,
        blobs: BlobStore,
        storage_id: str,
        events: EventBus,
        *,
        fault_injection: str = "",
    ) -> None:
        self.engine = engine
        self.blobs = blobs
        self.storage_id = storage_id
        self.events = events
        self._fault_injection = fault_injection

    # --- spaces -------------------------------------------------------------------------

    def create_space(self, connection: Connection, owner_id: str, name: str, kind: str = "personal") -> ResourceId:
        """Create a space and its root folder inside the caller's transaction."""
        space_id = new_opaque_id()
        now = now_utc()
        connection.execute(insert(spaces).values(id=space_id, owner_id=owner_id, kind=kind, name=name))
        root = ResourceId(self.storage_id, space_id, space_id)
        _insert_node(connection, space_id, None, name, NodeKind.FOLDER, now, space_id=space_id)
        return root

    def space_blob_keys(self, connection: Connection, space_ids: Iterable[str]) -> set[str]:
        """The keys of every blob the spaces' files hold: versions and attachments."""
        space_ids = list(space_ids)
        keys: set[str] = set()
        for table in (versions, attachments):
            rows = connection.execute(
                select(table.c.blob_key).join(nodes, nodes.c.id == table.c.node_id).where(
                    nodes.c.space_id.in_(space_ids)
                )
            )
            keys.update(row.blob_key for row in rows)
        return keys

    def delete_unreferenced_blobs(self, keys: Iterable[str]) -> None:
        keys = set(keys)
        if not keys:
            return
        with read_connection(self.engine) as connection:
            still_used = _referenced(connection, keys)
        for key in keys - still_used:
            self.blobs.delete(key)

    # --- reading ------------------------------------------------------------------------

    def stat(self, node_id: ResourceId) -> Node:
        return cached_read(self.engine, ("node", node_id), lambda connection: self._stat(connection, node_id))

    def stat_with_parent(self, node_id: ResourceId) -> tuple[Node, Node | None]:
        if node_id.storage_id != self.storage_id:
            raise NotFound("no such file or folder")

        def load(connection: Connection) -> tuple[Node, Node | None]:
            row = connection.execute(
                _NODE_AND_PARENT_BY_ID, {"node_id": node_id.opaque_id, "space_id": node_id.space_id}
            ).first()
            if row is None:
                raise NotFound("no such file or folder")
            parent_found = getattr(row, _PARENT_PREFIX + "id") is not None
            return self._node(row), self._node(row, _PARENT_PREFIX) if parent_found else None

        return cached_read(self.engine, ("node and parent", node_id), load)

    def _stat(self, connection: Connection, node_id: ResourceId, *, for_update: bool = False) -> Node:
        if node_id.storage_id != self.storage_id:
            raise NotFound("no such file or folder")
        query = _NODE_BY_ID_FOR_UPDATE if for_update and is_postgresql(connection) else _NODE_BY_ID
        row = connection.execute(query, {"node_id": node_id.opaque_id, "space_id": node_id.space_id}).first()
        if row is None:
            raise NotFound("no such file or folder")
        return self._node(row)

    def _node(self, row: Any, prefix: str = "") -> Node:
        """The node a row holds; `prefix` names the columns of a joined node (its owner is
        the row's: a node and its folder share their space)."""
        space_id = row.space_id

        def column(name: str) -> Any:
            return getattr(row, prefix + name)

        parent_id = column("parent_id")
        return Node(
            id=ResourceId(self.storage_id, space_id, column("id")),
            kind=NodeKind(column("kind")),
            name=column("name"),
            parent_id=ResourceId(self.storage_id, space_id, parent_id) if parent_id else None,
            owner_id=row.owner_id,
            mimetype=column("mimetype"),
            size=column("size"),
            version=column("current_version"),
            sha256=column("sha256"),
            created=utc(column("created_at")),
            modified=utc(column("modified_at")),
        )

    def ancestors(self, node_id: ResourceId) -> list[Node]:
        chain: list[Node] = []
        with read_connection(self.engine) as connection:
            current = self._stat(connection, node_id)
            while current.parent_id is not None:
                current = self._stat(connection, current.parent_id)
                chain.append(current)
        chain.reverse()
        return chain

    def list_folder(self, folder_id: ResourceId) -> list[Node]:
        with read_connection(self.engine) as connection:
            folder = self._stat(connection, folder_id)
            if not folder.is_folder:
                raise BadRequest("not a folder")
            rows = connection.execute(
                select(*_NODE_COLUMNS)
                .join(spaces, spaces.c.id == nodes.c.space_id)
                .where(nodes.c.parent_id == folder_id.opaque_id)
                .order_by(nodes.c.kind.desc(), nodes.c.name)
            )
            return [self._node(row) for row in rows]

    def free_child_name(self, folder_id: ResourceId, wanted: str) -> str:
        """`wanted`, or the first ``stem (n).ext`` not taken in the folder."""
        return free_name(wanted, lambda name: self.find_child(folder_id, name) is not None)

    def find_child(self, folder_id: ResourceId, name: str) -> Node | None:
        with read_connection(self.engine) as connection:
            row = connection.execute(
                select(*_NODE_COLUMNS)
                .join(spaces, spaces.c.id == nodes.c.space_id)
                .where(nodes.c.parent_id == folder_id.opaque_id, nodes.c.name == name)
            ).first()
            return self._node(row) if row else None

    def _version(self, row: Any, file_id: ResourceId, current: int) -> Version:
        return Version(
            file_id=file_id,
            number=row.number,
            size=row.size,
            sha256=row.sha256,
            author_id=row.author_id,
            author_name=row.author_name,
            created=utc(row.created_at),
            is_current=row.number == current,
            recovered=row.recovered,
            source=row.source,
            comment=row.comment,
            edited=utc(row.edited_at) if row.edited_at is not None else None,
            save_kind=SaveKind(row.save_kind) if row.save_kind else None,
            modified_by_user=row.modified_by_user,
        )

    def list_versions(self, file_id: ResourceId) -> list[Version]:
        with read_connection(self.engine) as connection:
            node = self._require_file(connection, file_id)
            rows = connection.execute(
                select(versions).where(versions.c.node_id == file_id.opaque_id).order_by(versions.c.number.desc())
            )
            return [self._version(row, file_id, node.version) for row in rows]

    def open_version(self, file_id: ResourceId, number: int | None = None) -> tuple[Version, BinaryIO]:
        version, blob_key = self.version_blob(file_id, number)
        return version, self.blobs.open(blob_key)

    def version_blob(self, file_id: ResourceId, number: int | None = None) -> tuple[Version, str]:
        """The version and the key of its blob (for backends that can serve a blob directly)."""
        return cached_read(
            self.engine, ("version", file_id, number), lambda connection: self._version_blob(connection, file_id, number)
        )

    def _version_blob(self, connection: Connection, file_id: ResourceId, number: int | None) -> tuple[Version, str]:
        if file_id.storage_id == self.storage_id:
            found = connection.execute(
                _VERSION_OF_FILE, {"node_id": file_id.opaque_id, "space_id": file_id.space_id, "number": number}
            ).first()
            if found is not None:
                return self._version(found, file_id, found.file_current_version), found.blob_key
        # Not found: read again step by step for the error that says which part is missing.
        node = self._require_file(connection, file_id)
        wanted = node.version if number is None else number
        row = connection.execute(_VERSION_BY_NUMBER, {"node_id": file_id.opaque_id, "number": wanted}).first()
        if row is None:
            raise NotFound(f"no version {wanted}")
        return self._version(row, file_id, node.version), row.blob_key

    def _require_file(self, connection: Connection, file_id: ResourceId, *, for_update: bool = False) -> Node:
        node = self._stat(connection, file_id, for_update=for_update)
        if node.is_folder:
            raise BadRequest("the id does not point to a file")
        return node

    def _require_folder(self, connection: Connection, folder_id: ResourceId) -> Node:
        node = self._stat(connection, folder_id)
        if not node.is_folder:
            raise BadRequest("the parent id does not point to a folder")
        return node

    # --- writing ------------------------------------------------------------------------

    def create_folder(self, parent_id: ResourceId, name: str) -> Node:
        validate_name(name)
        node_id = new_opaque_id()
        now = now_utc()
        try:
            with write_transaction(self.engine) as connection:
                self._require_folder(connection, parent_id)
                self._ensure_free(connection, parent_id, name)
                _insert_node(connection, node_id, parent_id, name, NodeKind.FOLDER, now)
        except IntegrityError:
            raise AlreadyExists(f"{name!r} already exists") from None
        return self.stat(ResourceId(self.storage_id, parent_id.space_id, node_id))

    def _ensure_free(self, connection: Connection, parent_id: ResourceId, name: str) -> None:
        taken = connection.execute(
            select(nodes.c.id).where(nodes.c.parent_id == parent_id.opaque_id, nodes.c.name == name)
        ).first()
        if taken is not None:
            raise AlreadyExists(f"{name!r} already exists")

    def create_file(
        self,
        parent_id: ResourceId,
        name: str,
        content: BinaryIO,
        origin: SaveOrigin,
        *,
        max_bytes: int | None = None,
    ) -> Node:
        validate_name(name)
        with read_connection(self.engine) as connection:
            self._require_folder(connection, parent_id)
            self._ensure_free(connection, parent_id, name)
        blob = self._store_blob(content, max_bytes)
        node_id = new_opaque_id()
        now = now_utc()
        try:
            with write_transaction(self.engine) as connection:
                self._require_folder(connection, parent_id)
                self._ensure_free(connection, parent_id, name)
                _insert_node(connection, node_id, parent_id, name, NodeKind.FILE, now, blob)
                self._insert_version(connection, node_id, 1, blob, origin, now)
                self._touch_folder(connection, parent_id, now)
        except BaseException as error:
            self._discard_blob(blob.key)
            if isinstance(error, IntegrityError):
                raise AlreadyExists(f"{name!r} already exists") from None
            raise
        file_id = ResourceId(self.storage_id, parent_id.space_id, node_id)
        self.events.publish(FileCreated(file_id, parent_id, name, origin.author_id))
        self.events.publish(VersionSaved(file_id, 1, blob.size, origin.author_id, origin.source, False))
        return self.stat(file_id)

    def write_version(
        self,
        file_id: ResourceId,
        content: BinaryIO,
        origin: SaveOrigin,
        *,
        expected_version: int | None = None,
        max_bytes: int | None = None,
        holding: LockClaim | None = None,
    ) -> Version:
        with read_connection(self.engine) as connection:
            _, existing = self._precondition(connection, file_id, origin, expected_version, holding, for_update=False)
        if existing is not None:
            return existing
        blob = self._store_blob(content, max_bytes)
        return self._commit_version(file_id, blob, origin, expected_version, holding)

    def check_lock(self, node_id: ResourceId, holding: LockClaim | None, operation: Operation) -> None:
        """Raise LockConflict when the writer holding `holding` could not do `operation` on
        the node now. The change itself checks again when it commits."""
        with read_connection(self.engine) as connection:
            node = self._stat(connection, node_id)
            if not node.is_folder:
                self._check_lock(connection, node, holding, operation, now_utc(), for_update=False)

    def _check_lock(
        self,
        connection: Connection,
        node: Node,
        holding: LockClaim | None,
        operation: Operation,
        now: Any,
        *,
        for_update: bool,
    ) -> None:
        record = read_record(connection, node.id, for_update=for_update)
        own_version = False
        if holding is not None and holding.kind is LockKind.SESSION and operation is Operation.CONTENT:
            own_version = self._is_own_version(connection, node, holding)
        decision = decide_write(record, holding, operation, now, file_size=node.size, own_version=own_version)
        decision.raise_if_refused()

    def _is_own_version(self, connection: Connection, node: Node, holding: LockClaim) -> bool:
        """Whether the file's current version is the one the session started from, or one
        it saved itself (under its key)."""
        if holding.based_on is not None and node.version == holding.based_on:
            return True
        saved_under = connection.execute(
            select(versions.c.lock_id).where(versions.c.node_id == node.id.opaque_id, versions.c.number == node.version)
        ).scalar()
        return saved_under is not None and saved_under == holding.lock_id

    def _commit_version(
        self,
        file_id: ResourceId,
        blob: StoredBlob,
        origin: SaveOrigin,
        expected_version: int | None,
        holding: LockClaim | None,
        *,
        shared_blob: bool = False,
    ) -> Version:
        """Commit `blob` as the file's new version. A save that does not commit removes its
        blob, unless the blob is `shared_blob` (a restore reuses an older version's)."""
        now = now_utc()

        def discard() -> None:
            if not shared_blob:
                self._discard_blob(blob.key)

        if origin.edited_at is not None:
            # SQLite keeps times without their zone: store and compare them in UTC.
            origin = replace(origin, edited_at=origin.edited_at.astimezone(UTC))
        try:
            with write_transaction(self.engine) as connection:
                node, existing = self._precondition(
                    connection, file_id, origin, expected_version, holding, for_update=True
                )
                if existing is not None:
                    discard()
                    return existing
                highest = connection.execute(_HIGHEST_VERSION, {"node_id": file_id.opaque_id}).scalar_one()
                number = (highest or 0) + 1
                superseded = self._newer_edit_stored(connection, file_id, origin)
                if superseded and not origin.comment:
                    origin = replace(origin, comment="an older edit than one already saved; kept in history")
                self._insert_version(connection, file_id.opaque_id, number, blob, origin, now, holding)
                makes_current = not origin.recovered and not superseded
                if makes_current:
                    connection.execute(
                        _MAKE_CURRENT,
                        {
                            "node_id": file_id.opaque_id,
                            "new_version": number,
                            "new_size": blob.size,
                            "new_sha256": blob.sha256,
                            "new_modified_at": now,
                        },
                    )
                current = number if makes_current else node.version
        except IntegrityError:
            discard()
            with read_connection(self.engine) as connection:
                node = self._require_file(connection, file_id)
                existing = self._deduplicated(connection, file_id, origin, node.version)
            if existing is not None:
                return existing
            raise VersionConflict("another save happened at the same time", expected_version, node.version) from None
        except BaseException:
            discard()
            raise
        self.events.publish(
            VersionSaved(file_id, number, blob.size, origin.author_id, origin.source, origin.recovered)
        )
        return Version(
            file_id=file_id,
            number=number,
            size=blob.size,
            sha256=blob.sha256,
            author_id=origin.author_id,
            author_name=origin.author_name,
            created=now,
            is_current=number == current,
            recovered=origin.recovered,
            source=origin.source,
            comment=origin.comment,
            edited=origin.edited_at,
            save_kind=origin.save_kind,
            modified_by_user=origin.modified_by_user,
        )

    def _newer_edit_stored(self, connection: Connection, file_id: ResourceId, origin: SaveOrigin) -> bool:
        """Whether the file already has a version holding a later edit than this save's.

        Runs inside the commit's write transaction (the file's row locked on PostgreSQL,
        the database's writer lock on SQLite), so two instances committing saves of one
        file at once still agree on their order."""
        if origin.edited_at is None:
            return False
        latest = connection.execute(_LATEST_EDIT, {"node_id": file_id.opaque_id}).scalar_one()
        return latest is not None and utc(latest) > origin.edited_at

    def _precondition(
        self,
        connection: Connection,
        file_id: ResourceId,
        origin: SaveOrigin,
        expected_version: int | None,
        holding: LockClaim | None,
        *,
        for_update: bool,
    ) -> tuple[Node, Version | None]:
        """The file, and the version an identical earlier save made (a replay) or None when
        the save may go ahead; VersionConflict when the caller expected another version,
        LockConflict when the writer does not hold the lock the save needs. A recovered
        version never becomes current, so it needs none."""
        node = self._require_file(connection, file_id, for_update=for_update)
        existing = self._deduplicated(connection, file_id, origin, node.version)
        if existing is not None:
            return node, existing
        if not origin.recovered:
            self._check_lock(connection, node, holding, Operation.CONTENT, now_utc(), for_update=for_update)
        if expected_version is not None and node.version != expected_version:
            raise VersionConflict("the file has changed", expected_version, node.version)
        return node, None

    def _deduplicated(
        self, connection: Connection, file_id: ResourceId, origin: SaveOrigin, current: int
    ) -> Version | None:
        if not origin.dedupe_key:
            return None
        row = connection.execute(
            _VERSION_BY_DEDUPE_KEY, {"node_id": file_id.opaque_id, "dedupe_key": origin.dedupe_key}
        ).first()
        return self._version(row, file_id, current) if row else None

    def _insert_version(
        self,
        connection: Connection,
        node_opaque_id: str,
        number: int,
        blob: StoredBlob,
        origin: SaveOrigin,
        now: Any,
        holding: LockClaim | None = None,
    ) -> None:
        connection.execute(
            _INSERT_VERSION,
            {
                "node_id": node_opaque_id,
                "number": number,
                "blob_key": blob.key,
                "size": blob.size,
                "sha256": blob.sha256,
                "author_id": origin.author_id,
                "author_name": origin.author_name,
                "source": origin.source,
                "recovered": origin.recovered,
                "dedupe_key": origin.dedupe_key,
                "comment": origin.comment,
                "created_at": now,
                "edited_at": origin.edited_at,
                "lock_id": holding.lock_id if holding is not None else None,
                "save_kind": origin.save_kind.value if origin.save_kind is not None else None,
                "modified_by_user": origin.modified_by_user,
            },
        )
        connection.execute(_CLEAR_PENDING, {"key": blob.key})

    def _touch_folder(self, connection: Connection, folder_id: ResourceId, now: Any) -> None:
        connection.execute(_TOUCH_FOLDER, {"node_id": folder_id.opaque_id, "new_modified_at": now})

    def _store_blob(self, content: BinaryIO, max_bytes: int | None) -> StoredBlob:
        key = new_blob_key()
        # The mark need only outlive a crash of this process, not a power cut: the blob is
        # fsynced after it, so at worst a power cut leaves an unmarked blob that nothing
        # references, which `sweep_unreferenced` removes. Without the fsync the mark costs
        # a WAL append instead of a disk flush on every save.
        with write_transaction(self.engine, durable=False) as connection:
            connection.execute(_MARK_PENDING, {"blob_key": key, "created_at": now_utc()})
        try:
            blob = self.blobs.put(key, content, max_bytes=max_bytes)
        except BaseException:
            self._forget_pending(key)
            raise
        if self._fault_injection == "exit-after-blob":
            log.critical("fault injection: exiting between the blob rename and the metadata commit")
            os._exit(99)
        return blob

    def _discard_blob(self, key: str) -> None:
        self.blobs.delete(key)
        self._forget_pending(key)

    def _forget_pending(self, key: str) -> None:
        with write_transaction(self.engine, durable=False) as connection:
            connection.execute(_CLEAR_PENDING, {"key": key})

    # --- attachments ------------------------------------------------------------------------

    def store_attachment(
        self,
        file_id: ResourceId,
        kind: str,
        content: BinaryIO,
        *,
        max_bytes: int | None = None,
        record: Callable[[Connection, StoredBlob], None] | None = None,
    ) -> StoredBlob:
        """Keep `content` as a blob the file owns besides its versions, on the save path:
        pending mark, blob written (temporary name, fsync, rename), then one transaction
        that records the attachment and clears the mark.

        `record`, when given, runs inside that transaction with the stored blob, so the
        caller's own row naming ``blob.key`` commits together with the attachment or not at
        all; whatever it raises undoes the attachment and is raised again. The blob is
        removed when the file is deleted. NotFound when the file does not exist (then, or
        by the time the attachment commits)."""
        with read_connection(self.engine) as connection:
            self._require_file(connection, file_id)
        blob = self._store_blob(content, max_bytes)
        try:
            with write_transaction(self.engine) as connection:
                self._require_file(connection, file_id, for_update=True)
                connection.execute(
                    insert(attachments).values(
                        blob_key=blob.key,
                        node_id=file_id.opaque_id,
                        kind=kind,
                        size=blob.size,
                        sha256=blob.sha256,
                        created_at=now_utc(),
                    )
                )
                connection.execute(_CLEAR_PENDING, {"key": blob.key})
                if record is not None:
                    record(connection, blob)
        except BaseException:
            self._discard_blob(blob.key)
            raise
        return blob

    def open_attachment(self, key: str) -> BinaryIO:
        """The bytes of an attachment, open for reading; NotFound when no file owns `key`
        (it was never stored, or went with its file)."""
        with read_connection(self.engine) as connection:
            row = connection.execute(select(attachments.c.blob_key).where(attachments.c.blob_key == key)).first()
        if row is None:
            raise NotFound("no such attachment")
        return self.blobs.open(key)

    def restore_version(
        self, file_id: ResourceId, number: int, origin: SaveOrigin, *, holding: LockClaim | None = None
    ) -> Version:
        """Make a copy of version `number` the new current version; history is kept."""
        old, blob_key = self.version_blob(file_id, number)
        # Blobs are immutable, so the new version can share the old one's blob.
        blob = StoredBlob(key=blob_key, size=old.size, sha256=old.sha256)
        return self._commit_version(file_id, blob, origin, None, holding, shared_blob=True)

    def rename(self, node_id: ResourceId, new_name: str, *, holding: LockClaim | None = None) -> Node:
        """Rename a file or folder; the id stays. A file's modified time is when its content
        last changed, so a rename leaves it (WOPI clients compare it to detect changes)."""
        validate_name(new_name)
        try:
            with write_transaction(self.engine) as connection:
                node = self._stat(connection, node_id, for_update=True)
                if node.parent_id is None:
                    raise BadRequest("a space's root folder cannot be renamed")
                if not node.is_folder:
                    self._check_lock(connection, node, holding, Operation.RENAME, now_utc(), for_update=True)
                if node.name == new_name:
                    return node
                self._ensure_free(connection, node.parent_id, new_name)
                values: dict[str, Any] = {"name": new_name}
                if node.is_folder:
                    values["modified_at"] = now_utc()
                else:
                    values["mimetype"] = guess_mimetype(new_name)
                connection.execute(update(nodes).where(nodes.c.id == node_id.opaque_id).values(**values))
        except IntegrityError:
            raise AlreadyExists(f"{new_name!r} already exists") from None
        self.events.publish(FileRenamed(node_id, node.name, new_name))
        return self.stat(node_id)

    def delete(self, node_id: ResourceId, *, holding: LockClaim | None = None) -> None:
        """Delete a file, or a folder with everything in it. Refused (LockConflict) while
        the file, or any file in the folder, is locked by another writer."""
        with write_transaction(self.engine) as connection:
            node = self._stat(connection, node_id, for_update=True)
            if node.parent_id is None:
                raise BadRequest("a space's root folder cannot be deleted")
            now = now_utc()
            if not node.is_folder:
                self._check_lock(connection, node, holding, Operation.DELETE, now, for_update=True)
            subtree = self._subtree_ids(connection, node_id.opaque_id)
            if node.is_folder:
                self._refuse_locked_content(connection, node, subtree, now)
            keys: set[str] = set()
            for table in (versions, attachments):
                keys.update(
                    row.blob_key
                    for row in connection.execute(select(table.c.blob_key).where(table.c.node_id.in_(subtree)))
                )
                connection.execute(delete(table).where(table.c.node_id.in_(subtree)))
            for opaque_id in reversed(subtree):
                connection.execute(delete(nodes).where(nodes.c.id == opaque_id))
        self.delete_unreferenced_blobs(keys)
        self.events.publish(FileDeleted(node_id, node.name))

    def _refuse_locked_content(self, connection: Connection, folder: Node, subtree: list[str], now: Any) -> None:
        ids = [ResourceId(self.storage_id, folder.id.space_id, opaque_id) for opaque_id in subtree[1:]]
        held = active_among(connection, ids, now)
        if held:
            lock = held[0]
            reason = f"a file in the folder is {describe(lock)}"
            raise LockConflict(reason, shown_lock_id(lock), reason, holder_of(lock))

    def _subtree_ids(self, connection: Connection, root_opaque_id: str) -> list[str]:
        """The node and everything under it, parents before children."""
        found = [root_opaque_id]
        frontier = [root_opaque_id]
        while frontier:
            children = [
                row.id for row in connection.execute(select(nodes.c.id).where(nodes.c.parent_id.in_(frontier)))
            ]
            found.extend(children)
            frontier = children
        return found

    # --- maintenance ----------------------------------------------------------------------

    def sweep_orphans(self, grace_seconds: float) -> int:
        """Remove blobs whose save never committed (of a version or an attachment), and
        temporary files of writes that died. Returns how many were removed."""
        cutoff = now_utc() - timedelta(seconds=grace_seconds)
        with read_connection(self.engine) as connection:
            stale = [
                row.blob_key
                for row in connection.execute(
                    select(pending_blobs.c.blob_key).where(pending_blobs.c.created_at <= cutoff)
                )
            ]
            referenced = _referenced(connection, stale) if stale else set()
        for key in stale:
            if key not in referenced:
                self.blobs.delete(key)
        if stale:
            with write_transaction(self.engine) as connection:
                connection.execute(delete(pending_blobs).where(and_(pending_blobs.c.blob_key.in_(stale))))
        removed_temporary = self.blobs.sweep_temporary(grace_seconds)
        removed = len([key for key in stale if key not in referenced]) + removed_temporary
        if removed:
            log.info("removed %d orphan blob(s) left by interrupted saves", removed)
        return removed

    def sweep_unreferenced(self, grace_seconds: float) -> int:
        """Remove blobs older than the grace period that no version or attachment holds and
        no save has marked pending: what a power cut leaves when it loses a pending mark
        (written without fsync) after the blob itself reached the disk. Returns how many.

        The blobs are listed before the database is read, and a save commits its pending
        mark before it writes its blob: so every listed blob of a save under way is marked
        or referenced by the time of that read. The grace period guards a save whose blob
        appears in a listing that ran long (a remote store)."""
        listed = sorted(self.blobs.keys_older_than(grace_seconds))
        unreferenced: list[str] = []
        with self.engine.connect() as connection:
            # In batches: a query's bound values are limited (SQLite: 32766).
            for start in range(0, len(listed), _KEYS_PER_QUERY):
                batch = listed[start : start + _KEYS_PER_QUERY]
                kept = _referenced(connection, batch) | _pending(connection, batch)
                unreferenced.extend(key for key in batch if key not in kept)
        for key in unreferenced:
            self.blobs.delete(key)
        if unreferenced:
            log.info("removed %d blob(s) that nothing references and no save has pending", len(unreferenced))
        return len(unreferenced)


def _referenced(connection: Connection, keys: Iterable[str]) -> set[str]:
    """Those of `keys` that a version or an attachment holds."""
    wanted = list(keys)
    found: set[str] = set()
    for table in (versions, attachments):
        found.update(
            row.blob_key for row in connection.execute(select(table.c.blob_key).where(table.c.blob_key.in_(wanted)))
        )
    return found


def _pending(connection: Connection, keys: Iterable[str]) -> set[str]:
    """Those of `keys` that a save has marked pending."""
    wanted = list(keys)
    return {
        row.blob_key
        for row in connection.execute(select(pending_blobs.c.blob_key).where(pending_blobs.c.blob_key.in_(wanted)))
    }


def _insert_node(
    connection: Connection,
    node_id: str,
    parent_id: ResourceId | None,
    name: str,
    kind: NodeKind,
    now: Any,
    blob: StoredBlob | None = None,
    *,
    space_id: str | None = None,
) -> None:
    """Insert a folder, or a file whose version 1 is `blob`."""
    connection.execute(
        insert(nodes).values(
            id=node_id,
            space_id=space_id or (parent_id.space_id if parent_id else node_id),
            parent_id=parent_id.opaque_id if parent_id else None,
            name=name,
            kind=kind.value,
            mimetype=FOLDER_MIMETYPE if kind is NodeKind.FOLDER else guess_mimetype(name),
            current_version=1 if blob else 0,
            size=blob.size if blob else 0,
            sha256=blob.sha256 if blob else "",
            created_at=now,
            modified_at=now,
        )
    )
