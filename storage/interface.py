"""The storage contract: what every storage composition offers, and what a byte backend must do.

`Storage` is the file/folder/version interface the services use. `BlobStore` is the small
seam a byte backend implements (local disk, WebDAV, …); the metadata half is SQL through
SQLAlchemy Core. Backends turn their native failures into `core.errors` exceptions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, BinaryIO, Protocol

from core.ids import ResourceId
from storage.lock_rules import Operation
from storage.types import LockClaim, Node, SaveOrigin, StoredBlob, Version

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection


class BlobStore(Protocol):
    """Immutable blobs addressed by keys Docbridge chooses (never a user-given name)."""

    def put(self, key: str, content: BinaryIO, *, max_bytes: int | None = None) -> StoredBlob:
        """Store all of `content` under `key`; visible only once complete and durable.

        Raises PayloadTooLarge past `max_bytes`, leaving nothing behind."""
        ...

    def open(self, key: str) -> BinaryIO: ...

    def size(self, key: str) -> int: ...

    def delete(self, key: str) -> None:
        """Remove the blob; a missing key is not an error."""
        ...

    def keys(self) -> Iterator[str]: ...

    def keys_older_than(self, seconds: float) -> Iterator[str]:
        """The keys of blobs stored more than `seconds` ago (by the backend's clock)."""
        ...

    def sweep_temporary(self, older_than_seconds: float) -> int:
        """Remove unfinished writes older than the given age; return how many."""
        ...

    def check_writable(self) -> None: ...


class Storage(Protocol):
    """Files, folders and versions. Every save is a new version; nothing is overwritten.

    Changes of an existing file take `holding`, the lock the writer holds (None: none; see
    `storage.types.LockClaim`), and raise LockConflict when the file's lock does not let
    that writer make them (`storage.lock_rules`), checked again when the change commits."""

    def stat(self, node_id: ResourceId) -> Node: ...

    def stat_with_parent(self, node_id: ResourceId) -> tuple[Node, Node | None]:
        """The node and its folder (None for a space root) in one read."""
        ...

    def ancestors(self, node_id: ResourceId) -> list[Node]:
        """The node's folders from the space root down to its parent."""
        ...

    def list_folder(self, folder_id: ResourceId) -> list[Node]: ...

    def find_child(self, folder_id: ResourceId, name: str) -> Node | None: ...

    def free_child_name(self, folder_id: ResourceId, wanted: str) -> str:
        """`wanted`, or the first ``stem (n).ext`` not taken in the folder."""
        ...

    def create_folder(self, parent_id: ResourceId, name: str) -> Node: ...

    def create_file(
        self,
        parent_id: ResourceId,
        name: str,
        content: BinaryIO,
        origin: SaveOrigin,
        *,
        max_bytes: int | None = None,
    ) -> Node:
        """Create a file with its version 1. AlreadyExists when the name is taken."""
        ...

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
        """Store `content` as the file's new current version (or a recovered one).

        Raises VersionConflict when `expected_version` is given and is not current, and
        LockConflict when the lock refuses the writer (before the body is read, or at the
        commit, when the lock was lost while it streamed: then nothing is stored)."""
        ...

    def check_lock(self, node_id: ResourceId, holding: LockClaim | None, operation: Operation) -> None:
        """LockConflict when the writer could not do `operation` on the node now."""
        ...

    def open_version(self, file_id: ResourceId, number: int | None = None) -> tuple[Version, BinaryIO]:
        """The given version (the current one by default) and its bytes, open for reading."""
        ...

    def list_versions(self, file_id: ResourceId) -> list[Version]: ...

    def restore_version(
        self, file_id: ResourceId, number: int, origin: SaveOrigin, *, holding: LockClaim | None = None
    ) -> Version: ...

    def rename(self, node_id: ResourceId, new_name: str, *, holding: LockClaim | None = None) -> Node: ...

    def delete(self, node_id: ResourceId, *, holding: LockClaim | None = None) -> None:
        """Remove the node, everything under it, and every blob they hold (versions and
        attachments); refused while a file in it is locked."""
        ...

    def store_attachment(
        self,
        file_id: ResourceId,
        kind: str,
        content: BinaryIO,
        *,
        max_bytes: int | None = None,
        record: Callable[[Connection, StoredBlob], None] | None = None,
    ) -> StoredBlob:
        """Keep bytes the file owns besides its versions (an editor's change log); the
        blob goes with the file. `record` writes the caller's reference to ``blob.key`` in
        the transaction that commits the attachment."""
        ...

    def open_attachment(self, key: str) -> BinaryIO:
        """An attachment's bytes; NotFound when no file owns `key`."""
        ...

    def sweep_orphans(self, grace_seconds: float) -> int:
        """Remove blobs whose save never committed, older than the grace period; return how many."""
        ...

    def sweep_unreferenced(self, grace_seconds: float) -> int:
        """Remove blobs older than the grace period that nothing references and no save has
        pending (a power cut can leave them); return how many."""
        ...
