"""Who may see and change what.

Owners have full access to their spaces. A public link grants its role on its node and
everything below it. A share grants its role to its user, or to every member of its
group, on its node and everything below it; where several shares reach a node, the most
generous role wins (viewer < form_filler < commenter < reviewer < editor), and the caller
may share on when any of them allows it, up to the most generous role among those that do.
A node the caller may not see is "not found", never "forbidden", so ids of other people's
files reveal nothing."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from core.errors import AccessDenied, InvalidToken, NotFound
from core.ids import ResourceId
from core.tokens import AccessGrant, ViewMode
from storage.metadata.groups import GroupStore
from storage.metadata.links import LinkStore
from storage.metadata.shares import ShareStore
from storage.metadata.users import UserStore
from storage.service import StorageService
from storage.types import GranteeKind, Link, LinkRole, Node, SaveOrigin, Share, ShareRole, User

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
    """What the caller may do with one node. `role` is what they may do in an editor
    (EDITOR for owners); `share_up_to` the most generous role they may grant, None when
    they may not share. `shared_with` is True when access comes from a share, not
    ownership; `via_share` names the share that gives `role`."""

    read: bool = False
    write: bool = False
    share: bool = False
    role: ShareRole | None = None
    share_up_to: ShareRole | None = None
    via_share: Share | None = None

    @property
    def shared_with(self) -> bool:
        return self.via_share is not None


NO_PERMISSIONS = Permissions()
OWNER_PERMISSIONS = Permissions(
    read=True, write=True, share=True, role=ShareRole.EDITOR, share_up_to=ShareRole.EDITOR
)


def link_permissions(role: LinkRole) -> Permissions:
    if role is LinkRole.EDITOR:
        return Permissions(read=True, write=True, role=ShareRole.EDITOR)
    if role is LinkRole.VIEWER:
        return Permissions(read=True, role=ShareRole.VIEWER)
    return Permissions(write=True)  # uploader: may add files, not see them


def role_permissions(role: ShareRole) -> Permissions:
    """What a share's role allows, before sharing on is looked at."""
    return Permissions(read=True, write=role is ShareRole.EDITOR, role=role)


def most_generous(roles: Iterable[ShareRole]) -> ShareRole | None:
    return max(roles, key=lambda role: role.rank, default=None)


def permissions_for(
    principal: Principal,
    node: Node,
    ancestor_ids: Sequence[ResourceId],
    shares: Iterable[Share] = (),
    group_ids: frozenset[str] = frozenset(),
) -> Permissions:
    """Pure rule: what `principal` may do with `node`, whose folders are `ancestor_ids`,
    given the shares that may reach it and the groups the principal is a member of."""
    if principal.link is not None:
        if principal.link.node_id == node.id or principal.link.node_id in ancestor_ids:
            return link_permissions(principal.link.role)
        return NO_PERMISSIONS
    if node.owner_id == principal.user_id:
        return OWNER_PERMISSIONS
    reached = {node.id, *ancestor_ids}
    reaching = [
        share
        for share in shares
        if share.node_id in reached
        and (
            (share.grantee_kind is GranteeKind.USER and share.grantee_id == principal.user_id)
            or (share.grantee_kind is GranteeKind.GROUP and share.grantee_id in group_ids)
        )
    ]
    best = max(reaching, key=lambda share: (share.role.rank, share.can_share), default=None)
    if best is None:
        return NO_PERMISSIONS
    share_up_to = most_generous(share.role for share in reaching if share.can_share)
    allowed = role_permissions(best.role)
    return Permissions(
        read=allowed.read,
        write=allowed.write,
        share=share_up_to is not None,
        role=best.role,
        share_up_to=share_up_to,
        via_share=best,
    )


# The roles between viewer and editor: they change a document only in the ways an editor
# that knows them allows (comments, tracked changes, form fields).
LIMITED_ROLES = frozenset({ShareRole.FORM_FILLER, ShareRole.COMMENTER, ShareRole.REVIEWER})


def ceiling_of(permissions: Permissions, *, limited_roles_enforced: bool = False) -> ViewMode | None:
    """The highest view mode these permissions allow, None when the file cannot be opened.

    A role between viewer and editor opens for writing only in an editor that enforces it
    (`limited_roles_enforced`: ONLYOFFICE's comment, review and form-filling modes); every
    other app opens it read-only."""
    if permissions.write and permissions.read:
        return ViewMode.WRITE
    if permissions.read and limited_roles_enforced and permissions.role in LIMITED_ROLES:
        return ViewMode.WRITE
    if permissions.read:
        return ViewMode.READ
    return None


class Access:
    def __init__(self, storage: StorageService, shares: ShareStore, groups: GroupStore) -> None:
        self.storage = storage
        self.shares = shares
        self.groups = groups

    def permissions(self, principal: Principal, node: Node) -> Permissions:
        if principal.link is None and node.owner_id == principal.user_id:
            return OWNER_PERMISSIONS
        ancestor_ids = [folder.id for folder in self.storage.ancestors(node.id)]
        if principal.link is not None:
            return permissions_for(principal, node, ancestor_ids)
        group_ids = self.groups.group_ids_of(principal.user_id)
        reaching = self.shares.reaching(
            [node.id.opaque_id, *(folder.opaque_id for folder in ancestor_ids)], principal.user_id, group_ids
        )
        return permissions_for(principal, node, ancestor_ids, reaching, group_ids)

    def ceiling(self, principal: Principal, node: Node, *, limited_roles_enforced: bool = False) -> ViewMode | None:
        return ceiling_of(self.permissions(principal, node), limited_roles_enforced=limited_roles_enforced)

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
