"""Plain values that cross the storage boundary."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from core.ids import ResourceId

FOLDER_MIMETYPE = "httpd/unix-directory"


class NodeKind(enum.StrEnum):
    FILE = "file"
    FOLDER = "folder"


@dataclass(frozen=True, slots=True)
class Node:
    """A file or folder as it is now. `version` is 0 for folders."""

    id: ResourceId
    kind: NodeKind
    name: str
    parent_id: ResourceId | None
    owner_id: str
    mimetype: str
    size: int
    version: int
    sha256: str
    created: datetime
    modified: datetime

    @property
    def is_folder(self) -> bool:
        return self.kind is NodeKind.FOLDER

    @property
    def extension(self) -> str:
        """Lower-case extension without the dot, "" when the name has none."""
        stem, dot, ext = self.name.rpartition(".")
        return ext.lower() if dot and stem else ""


class SaveKind(enum.StrEnum):
    """Why an editor saved, where it says: on its own timer, when the last editor left, or
    because someone asked (a Save button, a command)."""

    AUTOSAVE = "autosave"
    EXIT_SAVE = "exit-save"
    SAVE = "save"


@dataclass(frozen=True, slots=True)
class Version:
    """One stored state of a file. A recovered version is listed but never became current;
    neither did one whose edit was older than an edit already stored (`edited` says when
    the editor made it, where the editor tells)."""

    file_id: ResourceId
    number: int
    size: int
    sha256: str
    author_id: str | None
    author_name: str
    created: datetime
    is_current: bool
    recovered: bool
    source: str
    comment: str
    edited: datetime | None = None
    save_kind: SaveKind | None = None
    modified_by_user: bool | None = None


@dataclass(frozen=True, slots=True)
class SaveOrigin:
    """Who saves and why. `dedupe_key` makes a save idempotent: a second save with the
    same key for the same file returns the first version instead of adding one.

    `edited_at` is when the edit this save carries was made, as the editor reports it
    (ONLYOFFICE's ``lastsave``). Saves that carry one are ordered by it, not by when they
    arrive: a save whose edit is older than one already stored for the file is kept in
    history and never becomes current.

    `save_kind` and `modified_by_user` record what the editor said about the save
    (Collabora's ``X-COOL-WOPI-IsAutosave``/``IsExitSave``/``IsModifiedByUser``, the
    ONLYOFFICE callback status); None where it said nothing."""

    author_id: str | None
    author_name: str
    source: str
    dedupe_key: str | None = None
    recovered: bool = False
    comment: str = ""
    edited_at: datetime | None = None
    save_kind: SaveKind | None = None
    modified_by_user: bool | None = None


@dataclass(frozen=True, slots=True)
class StoredBlob:
    key: str
    size: int
    sha256: str


@dataclass(frozen=True, slots=True)
class User:
    id: str
    name: str
    display_name: str
    email: str
    is_admin: bool
    home_id: ResourceId


class LinkRole(enum.StrEnum):
    VIEWER = "viewer"
    EDITOR = "editor"
    UPLOADER = "uploader"


@dataclass(frozen=True, slots=True)
class Link:
    """A public link to a file or folder."""

    id: str
    token: str
    node_id: ResourceId
    role: LinkRole
    has_password: bool
    expires_at: datetime | None
    created_by: str
    created: datetime
    # Secure view for the link's visitors: no download, no print, no copy.
    no_download: bool = False


class ShareRole(enum.StrEnum):
    """What a share lets its recipients do, from the least generous to the most.

    viewer reads; form_filler also fills in a document's forms; commenter also comments;
    reviewer also changes the document with changes tracked; editor changes it freely and,
    for a folder, adds, renames and deletes what is inside."""

    VIEWER = "viewer"
    FORM_FILLER = "form_filler"
    COMMENTER = "commenter"
    REVIEWER = "reviewer"
    EDITOR = "editor"

    @property
    def rank(self) -> int:
        return _ROLE_RANKS[self]


_ROLE_RANKS = {role: rank for rank, role in enumerate(ShareRole)}


class GranteeKind(enum.StrEnum):
    USER = "user"
    GROUP = "group"


@dataclass(frozen=True, slots=True)
class Group:
    id: str
    name: str
    display_name: str
    # "local": managed by admins; "oidc": kept in step with the identity provider's claim.
    source: str


@dataclass(frozen=True, slots=True)
class Share:
    """A file or folder shared with a user or a group; a folder share reaches everything
    below it."""

    id: str
    node_id: ResourceId
    grantee_kind: GranteeKind
    grantee_id: str
    grantee_name: str
    role: ShareRole
    can_share: bool
    created_by: str
    created: datetime


class LockKind(enum.StrEnum):
    """What holds a file's lock."""

    WOPI = "wopi"  # a WOPI client's lock (Lock, RefreshLock, UnlockAndRelock); lock_id is its string
    SESSION = "session"  # an editor session shared by its co-editors (ONLYOFFICE); lock_id is its document key


@dataclass(frozen=True, slots=True)
class Lock:
    """The one lock a file has, whoever took it. `lock_id` is opaque (≤ 1024 chars): a WOPI
    client's lock string, or the document key of an editing session. `user_id` and
    `user_name` name who took it (for a session: who opened it first)."""

    file_id: ResourceId
    lock_id: str
    app_name: str
    user_id: str | None
    expires_at: datetime
    kind: LockKind = LockKind.WOPI
    user_name: str = ""
    created_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class LockClaim:
    """What a writer holds when it changes a file, for the lock check (`storage.lock_rules`).

    No claim (None where a `holding` parameter takes one) is a writer that holds no lock:
    the file API, the web UI, a PutRelativeFile target; it may change only unlocked files.
    A WOPI claim presents the client's ``X-WOPI-Lock`` (None when it sent none); a session
    claim presents the editing session's document key and `based_on`, the latest version
    the session knows to be its starting point or its own save. `grace_seconds` is how long
    after its lock ended a WOPI client's save with that lock is still accepted (the unlock
    and save race)."""

    kind: LockKind
    lock_id: str | None
    app_name: str
    user_id: str | None
    based_on: int | None = None
    grace_seconds: float = 0.0

    @classmethod
    def wopi(cls, lock_id: str | None, app_name: str, user_id: str | None, *, grace_seconds: float = 0.0) -> LockClaim:
        return cls(LockKind.WOPI, lock_id or None, app_name, user_id, grace_seconds=grace_seconds)

    @classmethod
    def session(cls, key: str, app_name: str, user_id: str | None, *, based_on: int | None = None) -> LockClaim:
        return cls(LockKind.SESSION, key, app_name, user_id, based_on=based_on)
