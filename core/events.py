"""In-process events the services publish, for listeners that extensions subscribe: what
happened to files, who shared what with whom, who opened and downloaded what.

A listener runs after the change is committed. A failing listener is logged and never fails
the save that published the event.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from core.ids import ResourceId

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class FileCreated:
    file_id: ResourceId
    parent_id: ResourceId
    name: str
    user_id: str | None


@dataclass(frozen=True, slots=True)
class VersionSaved:
    file_id: ResourceId
    version: int
    size: int
    user_id: str | None
    source: str
    recovered: bool


@dataclass(frozen=True, slots=True)
class FileRenamed:
    file_id: ResourceId
    old_name: str
    new_name: str


@dataclass(frozen=True, slots=True)
class FileDeleted:
    file_id: ResourceId
    name: str


@dataclass(frozen=True, slots=True)
class LockChanged:
    """A file was locked, unlocked, or its lock replaced by another. `change` says which:
    ``locked``, ``unlocked``, ``relocked`` or ``released by admin``; the other fields
    describe the lock held afterwards (or, when unlocked, the one released)."""

    file_id: ResourceId
    lock_id: str  # "" when the file was unlocked
    app_name: str
    user_id: str | None = None
    kind: str = ""
    change: str = ""


@dataclass(frozen=True, slots=True)
class ShareGranted:
    node_id: ResourceId
    share_id: str
    grantee: str  # "user:<name>" or "group:<name>"
    role: str
    can_share: bool
    actor_id: str


@dataclass(frozen=True, slots=True)
class ShareChanged:
    node_id: ResourceId
    share_id: str
    grantee: str
    role: str
    can_share: bool
    actor_id: str


@dataclass(frozen=True, slots=True)
class ShareRevoked:
    node_id: ResourceId
    share_id: str
    grantee: str
    actor_id: str


@dataclass(frozen=True, slots=True)
class FileOpened:
    """A file opened in an app through the registry."""

    file_id: ResourceId
    app_name: str
    view_mode: str
    actor_id: str


@dataclass(frozen=True, slots=True)
class FileDownloaded:
    file_id: ResourceId
    version: int
    actor_id: str


@dataclass(frozen=True, slots=True)
class ConflictCopySaved:
    """A save that could not become the file's new version (another writer changed or
    holds the file) was kept as a new file beside it, so no edit is lost."""

    file_id: ResourceId  # the file the save was meant for
    copy_id: ResourceId
    copy_name: str
    owner_id: str  # who owns the file (and is to be told)
    author_id: str | None
    author_name: str
    reason: str


@dataclass(frozen=True, slots=True)
class DownloadRefused:
    """Secure view kept a file's bytes from someone: a download, a copy, an unsigned WOPI
    GetFile. `action` says which; `rules` names what imposed secure view."""

    file_id: ResourceId
    action: str
    actor_id: str
    rules: str


Event = (
    FileCreated
    | VersionSaved
    | FileRenamed
    | FileDeleted
    | LockChanged
    | ShareGranted
    | ShareChanged
    | ShareRevoked
    | FileOpened
    | FileDownloaded
    | ConflictCopySaved
    | DownloadRefused
)
E = TypeVar("E")


class EventBus:
    def __init__(self) -> None:
        self._listeners: dict[type, list[Callable[[Any], None]]] = defaultdict(list)

    def subscribe(self, event_type: type[E], listener: Callable[[E], None]) -> None:
        self._listeners[event_type].append(listener)

    def publish(self, event: Event) -> None:
        for listener in self._listeners.get(type(event), ()):
            try:
                listener(event)
            except Exception:  # a listener's failure must never undo or fail a save
                log.exception("event listener %r failed on %s", listener, type(event).__name__)
