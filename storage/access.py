"""Who may see and change what. Owners have full access to their spaces; a public link
grants its role on its node and everything below it. A node the caller may not see is
"not found", never "forbidden", so ids of other people's files reveal nothing."""

from __future__ import annotations

from dataclasses import dataclass

from core.errors import AccessDenied, NotFound
from core.ids import ResourceId
from core.tokens import ViewMode
from storage.service import StorageService
from storage.types import Link, LinkRole, Node


@dataclass(frozen=True, slots=True)
class Principal:
    """Whoever is calling: a user, or an anonymous visitor holding a public link."""

    user_id: str
    name: str
    display_name: str
    is_admin: bool = False
    link: Link | None = None

    @property
    def is_public(self) -> bool:
        return self.link is not None


@dataclass(frozen=True, slots=True)
class Permissions:
    read: bool = False
    write: bool = False
    share: bool = False


NO_PERMISSIONS = Permissions()


def link_permissions(role: LinkRole) -> Permissions:
    if role is LinkRole.EDITOR:
        return Permissions(read=True, write=True)
    if role is LinkRole.VIEWER:
        return Permissions(read=True)
    return Permissions(write=True)  # uploader: may add files, not see them


def permissions_for(principal: Principal, node: Node, ancestor_ids: set[ResourceId]) -> Permissions:
    """Pure rule: what `principal` may do with `node`, whose folders are `ancestor_ids`."""
    if principal.link is not None:
        if principal.link.node_id == node.id or principal.link.node_id in ancestor_ids:
            return link_permissions(principal.link.role)
        return NO_PERMISSIONS
    if node.owner_id == principal.user_id:
        return Permissions(read=True, write=True, share=True)
    return NO_PERMISSIONS


def ceiling_of(permissions: Permissions) -> ViewMode | None:
    """The highest view mode these permissions allow, None when the file cannot be opened."""
    if permissions.write and permissions.read:
        return ViewMode.WRITE
    if permissions.read:
        return ViewMode.READ
    return None


class Access:
    def __init__(self, storage: StorageService) -> None:
        self.storage = storage

    def permissions(self, principal: Principal, node: Node) -> Permissions:
        ancestor_ids: set[ResourceId] = set()
        if principal.link is not None:
            ancestor_ids = {folder.id for folder in self.storage.ancestors(node.id)}
        return permissions_for(principal, node, ancestor_ids)

    def ceiling(self, principal: Principal, node: Node) -> ViewMode | None:
        return ceiling_of(self.permissions(principal, node))

    def check(self, principal: Principal, node_id: ResourceId, *, write: bool = False, read: bool = True) -> Node:
        """The node if the caller may do what is asked; NotFound when they may not even see it."""
        node = self.storage.stat(node_id)
        allowed = self.permissions(principal, node)
        if not allowed.read and not allowed.write:
            raise NotFound("no such file or folder")
        if read and not allowed.read:
            raise AccessDenied("permission denied")
        if write and not allowed.write:
            raise AccessDenied("permission denied")
        return node
