"""What the /api/v1 calls do with files, folders, versions and public links.

The views hand over parsed values (ids, names, header strings, the request stream) and the
caller as a `Principal`; these functions apply the rules and talk to storage and the link
store, raising `core.errors` exceptions. The rules, beyond what `storage.access` decides:

- An upload creates the file, or stores a new version of the one of that name; `If-Match`
  with a version ETag makes it conditional. A visitor who may add files but not see them
  (an uploader link) never replaces anything: the upload takes the first free name.
- A public link cannot rename or delete the node it points to, only what lies below it;
  neither can the recipients of a share: only the owner renames or deletes what is shared.
- Links are made and listed by users with the share permission; an uploader link needs a
  folder. A link the caller may not manage is "not found", like a node they may not see. A
  ``no_download`` link is secure view for its visitors.
- Secure view (`storage.policies`) keeps a file's bytes from the caller: its content and its
  versions' content are refused (`SecureViewRefused`, 403).
- Shares are made by the owner and by recipients whose share allows sharing on; nobody
  grants a role above what they may share (`Permissions.share_up_to`), and a recipient
  cannot share with themselves. A share the caller may not manage is "not found".
- Uploads, renames, deletes and restores hold no lock: while another writer (a WOPI
  client, an ONLYOFFICE session) holds the file, storage refuses them with LockConflict,
  which the API answers 423 naming the holder. Files are shown with their lock.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import IO, BinaryIO, cast

from core.errors import AccessDenied, BadRequest, NotFound
from core.events import FileDownloaded, ShareChanged, ShareGranted, ShareRevoked
from core.ids import ResourceId
from server.services import Services
from storage.access import Permissions, Principal
from storage.types import GranteeKind, Group, Link, LinkRole, Lock, Node, Share, ShareRole, User, Version

UPLOAD_SOURCE = "upload"
RESTORE_SOURCE = "restore"


@dataclass(frozen=True, slots=True)
class Listing:
    """A folder as the caller sees it: the folders above it, what they may do, its children."""

    folder: Node
    path: list[Node]
    permissions: Permissions
    children: list[Node]
    locks: dict[ResourceId, Lock]  # the children locked now
    # The children shared with users or groups, shown to callers who may share.
    shared: frozenset[ResourceId] = frozenset()


@dataclass(frozen=True, slots=True)
class NodeInfo:
    node: Node
    lock: Lock | None
    permissions: Permissions


@dataclass(frozen=True, slots=True)
class Saved:
    file_id: ResourceId
    version: int
    created: bool


@dataclass(frozen=True, slots=True)
class Content:
    file: Node
    version: Version
    stream: BinaryIO


@dataclass(frozen=True, slots=True)
class Received:
    """Something shared with the caller, directly or through a group: the node, the role
    the caller holds on it, who shared it, and the group it came through ("" if direct)."""

    node: Node
    role: ShareRole
    sharer: User | None
    via_group: str


@dataclass(frozen=True, slots=True)
class NewShare:
    """A share request as sent: exactly one of `user` and `group`, the role's name."""

    user: str | None
    group: str | None
    role: str
    can_share: bool = False


@dataclass(frozen=True, slots=True)
class NewLink:
    """A link request as sent: the role's name, the password, the expiry in ISO 8601."""

    role: str
    password: str | None = None
    expires_at: str | None = None
    no_download: bool = False


# --- pure rules --------------------------------------------------------------------------------


def etag_for(version_number: int, sha256: str) -> str:
    """The ETag of one version's bytes: what downloads send and `If-Match` compares."""
    return f"v{version_number}-{sha256[:20]}"


def expected_version(node: Node, if_match: str | None) -> int | None:
    """The version an `If-Match` upload expects (lost-update guard): None when the header is
    absent or `*`, the current version when one of its tags is the current ETag, else -1,
    which no file has, so the save is refused as a conflict."""
    if not if_match or if_match.strip() == "*":
        return None
    current = etag_for(node.version, node.sha256)
    tags = [tag.strip().strip('"').removeprefix("W/").strip('"') for tag in if_match.split(",")]
    return node.version if current in tags else -1


def parse_role(text: str) -> LinkRole:
    try:
        return LinkRole(text)
    except ValueError:
        raise BadRequest("role must be 'viewer', 'editor' or 'uploader'") from None


def parse_expiry(text: str | None) -> datetime | None:
    """An ISO 8601 time with its zone (``Z`` accepted); None for no expiry."""
    if not text:
        return None
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise BadRequest("expires_at must be an ISO 8601 time") from None
    if parsed.tzinfo is None:
        raise BadRequest("expires_at must carry a time zone (e.g. Z)")
    return parsed


def refuse_link_target(principal: Principal, node: Node, action: str) -> None:
    """A public link may change what lies below its node, never the node itself."""
    if principal.link is not None and principal.link.node_id == node.id:
        raise AccessDenied(f"a public link cannot {action} what it points to")


def refuse_share_target(permissions: Permissions, node: Node, action: str) -> None:
    """The recipients of a share change what lies below the shared node, never the node itself."""
    if permissions.via_share is not None and permissions.via_share.node_id == node.id:
        raise AccessDenied(f"only the owner can {action} what is shared")


def parse_share_role(text: str) -> ShareRole:
    try:
        return ShareRole(text)
    except ValueError:
        names = ", ".join(f"'{role.value}'" for role in ShareRole)
        raise BadRequest(f"role must be one of {names}") from None


def check_grant(permissions: Permissions, role: ShareRole) -> None:
    """Nobody grants more than they hold: AccessDenied past `share_up_to`."""
    if permissions.share_up_to is None:
        raise AccessDenied("permission denied to share")
    if role.rank > permissions.share_up_to.rank:
        raise AccessDenied(f"you may share at most as {permissions.share_up_to.value}")


def visible_path(principal: Principal, permissions: Permissions, ancestors: list[Node]) -> list[Node]:
    """The folders above a node that the caller may see: all of them for the owner, from the
    shared (or linked) node down for everyone else."""
    top = None
    if principal.link is not None:
        top = principal.link.node_id
    elif permissions.via_share is not None:
        top = permissions.via_share.node_id
    if top is None:
        return ancestors
    for index, folder in enumerate(ancestors):
        if folder.id == top:
            return ancestors[index:]
    return []


# --- folders and files -----------------------------------------------------------------------


def _upload_limit(found: Services) -> int | None:
    return found.settings.storage.max_upload_bytes or None


def container(found: Services, principal: Principal, container_id: ResourceId) -> Listing:
    folder = found.access.check(principal, container_id)
    if not folder.is_folder:
        raise BadRequest("the id does not point to a folder")
    permissions = found.access.permissions(principal, folder)
    path = visible_path(principal, permissions, found.storage.ancestors(folder.id))
    children = found.storage.list_folder(folder.id)
    locks = found.locks.holding(child.id for child in children if not child.is_folder)
    shared: frozenset[ResourceId] = frozenset()
    if permissions.share:
        marked = found.shares.shared_among(child.id.opaque_id for child in children)
        shared = frozenset(child.id for child in children if child.id.opaque_id in marked)
    return Listing(folder, path, permissions, children, locks, shared)


def create_folder(found: Services, principal: Principal, parent_id: ResourceId, name: str) -> Node:
    parent = found.access.check(principal, parent_id, write=True, read=False)
    return found.storage.create_folder(parent.id, name)


def upload(
    found: Services,
    principal: Principal,
    parent_id: ResourceId,
    name: str,
    content: IO[bytes],
    if_match: str | None = None,
) -> Saved:
    """`PUT /containers/<id>/files/<name>`: a new file, or a new version of the file of
    that name (see the module docstring for the uploader-link and `If-Match` rules)."""
    parent = found.access.check(principal, parent_id, write=True, read=False)
    if not parent.is_folder:
        raise BadRequest("the id does not point to a folder")
    origin = principal.origin(UPLOAD_SOURCE)
    stream = cast(BinaryIO, content)
    if not found.access.permissions(principal, parent).read:
        # A drop-box visitor (uploader link) never sees, and so never replaces, what is there.
        name = found.storage.free_child_name(parent.id, name)
    existing = found.storage.find_child(parent.id, name)
    if existing is None:
        created = found.storage.create_file(parent.id, name, stream, origin, max_bytes=_upload_limit(found))
        return Saved(created.id, created.version, created=True)
    if existing.is_folder:
        raise BadRequest(f"{name!r} is a folder")
    found.access.check(principal, existing.id, write=True, read=False)
    version = found.storage.write_version(
        existing.id,
        stream,
        origin,
        expected_version=expected_version(existing, if_match),
        max_bytes=_upload_limit(found),
    )
    return Saved(existing.id, version.number, created=False)


def node_info(found: Services, principal: Principal, node_id: ResourceId) -> NodeInfo:
    node = found.access.check(principal, node_id)
    return NodeInfo(node, None if node.is_folder else found.locks.get(node.id), found.access.permissions(principal, node))


def open_content(found: Services, principal: Principal, file_id: ResourceId, number: int | None = None) -> Content:
    """The bytes of version `number` (the current one when None); the caller closes them."""
    file = found.access.check(principal, file_id)
    if file.is_folder:
        raise BadRequest("the id does not point to a file")
    found.policies.check_download(principal, file, "download" if number is None else f"download of version {number}")
    version, stream = found.storage.open_version(file.id, number)
    found.events.publish(FileDownloaded(file.id, version.number, principal.user_id))
    return Content(file, version, stream)


def list_versions(found: Services, principal: Principal, file_id: ResourceId) -> list[Version]:
    node = found.access.check(principal, file_id)
    return found.storage.list_versions(node.id)


def restore_version(found: Services, principal: Principal, file_id: ResourceId, number: int) -> Version:
    node = found.access.check(principal, file_id, write=True)
    origin = principal.origin(RESTORE_SOURCE, comment=f"restored from version {number}")
    return found.storage.restore_version(node.id, number, origin)


def rename(found: Services, principal: Principal, node_id: ResourceId, name: str) -> Node:
    node = found.access.check(principal, node_id, write=True)
    refuse_link_target(principal, node, "rename")
    refuse_share_target(found.access.permissions(principal, node), node, "rename")
    return found.storage.rename(node.id, name)


def delete(found: Services, principal: Principal, node_id: ResourceId) -> None:
    node = found.access.check(principal, node_id, write=True)
    refuse_link_target(principal, node, "delete")
    refuse_share_target(found.access.permissions(principal, node), node, "delete")
    found.storage.delete(node.id)


# --- public links ----------------------------------------------------------------------------


def _shareable(found: Services, principal: Principal, node_id: ResourceId) -> Node:
    node = found.access.check(principal, node_id)
    if not found.access.permissions(principal, node).share:
        raise AccessDenied("permission denied to share")
    return node


def create_link(found: Services, principal: Principal, node_id: ResourceId, wanted: NewLink) -> Link:
    node = _shareable(found, principal, node_id)
    role = parse_role(wanted.role)
    if role is LinkRole.UPLOADER and not node.is_folder:
        raise BadRequest("an uploader link needs a folder")
    expires_at = parse_expiry(wanted.expires_at)
    return found.links.create(node.id, role, principal.user_id, password=wanted.password, expires_at=expires_at,
                              no_download=wanted.no_download)


def list_links(found: Services, principal: Principal, node_id: ResourceId) -> list[Link]:
    node = _shareable(found, principal, node_id)
    return found.links.list_for(node.id)


def revoke_link(found: Services, principal: Principal, link_id: str) -> None:
    """Revoke a link; NotFound alike for a missing link and one the caller may not manage."""
    try:
        link = found.links.get(link_id)
        node = found.access.check(principal, link.node_id)
    except NotFound:
        raise NotFound("no such link") from None
    if not found.access.permissions(principal, node).share:
        raise NotFound("no such link")
    found.links.revoke(link.id)


# --- shares with users and groups --------------------------------------------------------------


def _grantee_label(share: Share) -> str:
    return f"{share.grantee_kind.value}:{share.grantee_name}"


def create_share(found: Services, principal: Principal, node_id: ResourceId, wanted: NewShare) -> Share:
    node = found.access.check(principal, node_id)
    permissions = found.access.permissions(principal, node)
    role = parse_share_role(wanted.role)
    if (wanted.user is None) == (wanted.group is None):
        raise BadRequest("name exactly one of 'user' and 'group'")
    if not permissions.share:
        raise AccessDenied("permission denied to share")
    kind, grantee_id = _grantee(found, principal, node, wanted)
    check_grant(permissions, role)
    share = found.shares.create(node.id, kind, grantee_id, role, can_share=wanted.can_share,
                                created_by=principal.user_id)
    found.events.publish(ShareGranted(node.id, share.id, _grantee_label(share), role.value, share.can_share,
                                      principal.user_id))
    return share


def _grantee(found: Services, principal: Principal, node: Node, wanted: NewShare) -> tuple[GranteeKind, str]:
    if wanted.user is not None:
        user = found.users.by_name(wanted.user)  # NotFound: 404 with the error shape
        if user.id == principal.user_id:
            raise BadRequest("you cannot share with yourself")
        if user.id == node.owner_id:
            raise BadRequest("the owner has every right already")
        return GranteeKind.USER, user.id
    assert wanted.group is not None
    return GranteeKind.GROUP, found.groups.by_name(wanted.group).id


def _managed_share(found: Services, principal: Principal, node_id: ResourceId, share_id: str) -> tuple[Node, Share]:
    """A share of the node the caller may change or revoke: the owner may change every share
    of their node, a recipient who may share on the ones they made. Else "not found"."""
    node = found.access.check(principal, node_id)
    try:
        share = found.shares.get(share_id)
    except NotFound:
        raise NotFound("no such share") from None
    permissions = found.access.permissions(principal, node)
    owner = node.owner_id == principal.user_id and principal.link is None
    if share.node_id != node.id or not (owner or (permissions.share and share.created_by == principal.user_id)):
        raise NotFound("no such share")
    return node, share


def list_shares(found: Services, principal: Principal, node_id: ResourceId) -> list[Share]:
    node = _shareable(found, principal, node_id)
    return found.shares.list_for(node.id)


def change_share(found: Services, principal: Principal, node_id: ResourceId, share_id: str,
                 role_text: str | None, can_share: bool | None) -> Share:
    node, share = _managed_share(found, principal, node_id, share_id)
    role = parse_share_role(role_text) if role_text is not None else share.role
    check_grant(found.access.permissions(principal, node), role)
    changed = found.shares.change(share.id, role, share.can_share if can_share is None else can_share)
    found.events.publish(ShareChanged(node.id, changed.id, _grantee_label(changed), changed.role.value,
                                      changed.can_share, principal.user_id))
    return changed


def revoke_share(found: Services, principal: Principal, node_id: ResourceId, share_id: str) -> None:
    node, share = _managed_share(found, principal, node_id, share_id)
    found.shares.revoke(share.id)
    found.events.publish(ShareRevoked(node.id, share.id, _grantee_label(share), principal.user_id))


def shared_with_me(found: Services, principal: Principal) -> list[Received]:
    """What reaches the caller through a share, each node once, with the role the caller
    holds on it (the most generous of every share that reaches it)."""
    group_ids = found.groups.group_ids_of(principal.user_id)
    seen: set[ResourceId] = set()
    received: list[Received] = []
    for share in found.shares.received(principal.user_id, group_ids):
        if share.node_id in seen:
            continue
        seen.add(share.node_id)
        try:
            node = found.storage.stat(share.node_id)
        except NotFound:
            continue
        permissions = found.access.permissions(principal, node)
        if permissions.role is None or permissions.via_share is None:
            continue
        best = permissions.via_share
        received.append(Received(
            node=node,
            role=permissions.role,
            sharer=found.users.find(best.created_by),
            via_group=best.grantee_name if best.grantee_kind is GranteeKind.GROUP else "",
        ))
    return received


def find_people(found: Services, text: str, limit: int = 20) -> tuple[Sequence[User], Sequence[Group]]:
    """Users and groups whose name or display name holds `text`, for the share dialog."""
    text = text.strip()
    if not text:
        raise BadRequest("give q, a part of a name to look for")
    return found.users.search(text, limit), found.groups.search(text, limit)
