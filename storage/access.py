"""Who may see and change what. Owners have full access to their spaces; a public link
grants its role on its node and everything below it. A node the caller may not see is
"not found", never "forbidden", so ids of other people's files reveal nothing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from core.errors import AccessDenied, InvalidToken, NotFound
from core.ids import ResourceId
from core.tokens import AccessGrant, ViewMode
from storage.metadata.links import LinkStore
from storage.metadata.users import UserStore
from storage.service import StorageService
from storage.types import Link, LinkRole, Node, SaveOrigin, User

GUEST_NAME = "Guest"


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

    def origin(self, source: str, *, comment: str = "") -> SaveOrigin:
        """A save by this principal: users are authors by id, link visitors by name only."""
        return SaveOrigin(
            author_id=None if self.is_public else self.user_id,
            author_name=self.display_name or self.name,
            source=source,
            comment=comment,
        )


def principal_for_user(user: User) -> Principal:
    return Principal(user_id=user.id, name=user.name, display_name=user.display_name, is_admin=user.is_admin)


def principal_for_link(link: Link, guest_name: str = "") -> Principal:
    return Principal(user_id=f"public-{link.id}", name="public", display_name=guest_name or GUEST_NAME, link=link)


def principal_from_grant(grant: AccessGrant, users: UserStore, links: LinkStore, now: datetime) -> Principal:
    """Whom an access token stands for, as things are now: its user, or the visitor of its
    public link. InvalidToken when the user is gone or the link was revoked or has expired,
    so a token dies with what it was issued for."""
    if grant.link_id:
        try:
            link = links.get(grant.link_id)
        except NotFound:
            raise InvalidToken("the public link was revoked") from None
        if link.expires_at is not None and link.expires_at <= now:
            raise InvalidToken("the public link has expired")
        return principal_for_link(link, str(grant.claims.get("name") or ""))
    user = users.find(grant.user_id)
    if user is None:
        raise InvalidToken("the access token's user no longer exists")
    return principal_for_user(user)


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
