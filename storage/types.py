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


@dataclass(frozen=True, slots=True)
class SaveOrigin:
    """Who saves and why. `dedupe_key` makes a save idempotent: a second save with the
    same key for the same file returns the first version instead of adding one.

    `edited_at` is when the edit this save carries was made, as the editor reports it
    (ONLYOFFICE's ``lastsave``). Saves that carry one are ordered by it, not by when they
    arrive: a save whose edit is older than one already stored for the file is kept in
    history and never becomes current."""

    author_id: str | None
    author_name: str
    source: str
    dedupe_key: str | None = None
    recovered: bool = False
    comment: str = ""
    edited_at: datetime | None = None


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


@dataclass(frozen=True, slots=True)
class Lock:
    """A lock on a file, as WOPI and the editors see it. `lock_id` is opaque (≤ 1024 chars)."""

    file_id: ResourceId
    lock_id: str
    app_name: str
    user_id: str | None
    expires_at: datetime
