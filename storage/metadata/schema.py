"""Core tables of the metadata store: users, spaces, files and folders, versions, links,
locks. Their schema changes are the Alembic revisions in ``migrations/versions/``.

A feature with tables of its own (the app registry, an editor driver, a third-party
extension) defines them in its own package, on a MetaData from `new_metadata`, and ships
their revisions in its own folder on its own Alembic branch; see ``migrate.py``."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_name)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s",
    "pk": "pk_%(table_name)s",
}


def new_metadata() -> MetaData:
    """A MetaData for a feature's own tables, naming constraints as core's do (and as
    ``op.f`` names them in revisions)."""
    return MetaData(naming_convention=NAMING_CONVENTION)


metadata = new_metadata()

users = Table(
    "users",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("name", String(255), nullable=False, unique=True),
    Column("display_name", String(255), nullable=False),
    Column("email", String(255), nullable=False, default=""),
    Column("password_hash", Text, nullable=True),
    Column("is_admin", Boolean, nullable=False, default=False),
    Column("home_space_id", String(64), nullable=False),
    Column("oidc_subject", String(255), nullable=True, unique=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

user_tokens = Table(
    "user_tokens",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("user_id", String(64), ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("label", String(255), nullable=False, default=""),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

spaces = Table(
    "spaces",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("owner_id", String(64), ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("name", String(255), nullable=False),
)

nodes = Table(
    "nodes",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("space_id", String(64), ForeignKey("spaces.id", ondelete="CASCADE"), nullable=False),
    Column("parent_id", String(64), ForeignKey("nodes.id", ondelete="CASCADE"), nullable=True),
    Column("name", String(255), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("mimetype", String(255), nullable=False),
    Column("current_version", Integer, nullable=False, default=0),
    Column("size", BigInteger, nullable=False, default=0),
    Column("sha256", String(64), nullable=False, default=""),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("modified_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("parent_id", "name", name="uq_nodes_parent_name"),
)

versions = Table(
    "versions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("node_id", String(64), ForeignKey("nodes.id", ondelete="CASCADE"), nullable=False),
    Column("number", Integer, nullable=False),
    Column("blob_key", String(64), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("author_id", String(64), nullable=True),
    Column("author_name", String(255), nullable=False, default=""),
    Column("source", String(32), nullable=False),
    Column("recovered", Boolean, nullable=False, default=False),
    Column("dedupe_key", String(512), nullable=True),
    Column("comment", Text, nullable=False, default=""),
    Column("created_at", DateTime(timezone=True), nullable=False),
    # When the edit this version holds was made, as the editor reported it (ONLYOFFICE's
    # lastsave); saves are made current in this order, not in the order they arrive.
    Column("edited_at", DateTime(timezone=True), nullable=True),
    # The lock the writer held (a WOPI lock string, a session's document key): a session
    # recognises its own saves by it. NULL for writers that hold none.
    Column("lock_id", String(1024), nullable=True),
    # What the editor said about the save: autosave, exit-save or save; and whether the
    # user changed anything (Collabora). NULL where it said nothing.
    Column("save_kind", String(16), nullable=True),
    Column("modified_by_user", Boolean, nullable=True),
    UniqueConstraint("node_id", "number", name="uq_versions_node_number"),
    UniqueConstraint("node_id", "dedupe_key", name="uq_versions_node_dedupe"),
)

# A blob written but not yet referenced by a committed version. A row older than the grace
# period means the writer died between the blob rename and the metadata commit.
pending_blobs = Table(
    "pending_blobs",
    metadata,
    Column("blob_key", String(64), primary_key=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

# A blob a file owns besides its versions (an editor's change log, …), written on the save
# path and committed here; `kind` says which part of Docbridge keeps it. Storage removes
# these blobs with their file, and the orphan sweep counts them as referenced.
attachments = Table(
    "attachments",
    metadata,
    Column("blob_key", String(64), primary_key=True),
    Column("node_id", String(64), ForeignKey("nodes.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(64), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

links = Table(
    "links",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("token", String(64), nullable=False, unique=True),
    Column("node_id", String(64), ForeignKey("nodes.id", ondelete="CASCADE"), nullable=False),
    Column("role", String(16), nullable=False),
    Column("password_hash", Text, nullable=True),
    Column("expires_at", DateTime(timezone=True), nullable=True),
    Column("created_by", String(64), ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    # Secure view for whoever comes through the link: no download, no print, no copy.
    Column("no_download", Boolean, nullable=False, default=False),
)

# One row per file that was ever locked: the lock it has, or had (released_at set, or
# expires_at past). Every writer's lock: a WOPI client's (kind "wopi") or an editing
# session's (kind "session", lock_id its document key).
locks = Table(
    "locks",
    metadata,
    Column("node_id", String(64), ForeignKey("nodes.id", ondelete="CASCADE"), primary_key=True),
    Column("lock_id", String(1024), nullable=False),
    Column("app_name", String(255), nullable=False, default=""),
    Column("user_id", String(64), nullable=True),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("kind", String(16), nullable=False, server_default="wopi"),
    Column("user_name", String(255), nullable=False, server_default=""),
    Column("released_at", DateTime(timezone=True), nullable=True),
)

groups = Table(
    "groups",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("name", String(255), nullable=False, unique=True),
    Column("display_name", String(255), nullable=False),
    Column("source", String(16), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

group_members = Table(
    "group_members",
    metadata,
    Column("group_id", String(64), ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", String(64), ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("added_at", DateTime(timezone=True), nullable=False),
)

# A grantee is a user or a group; a share is deleted with its node, its grantee or its sharer.
shares = Table(
    "shares",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("node_id", String(64), ForeignKey("nodes.id", ondelete="CASCADE"), nullable=False),
    Column("user_id", String(64), ForeignKey("users.id", ondelete="CASCADE"), nullable=True),
    Column("group_id", String(64), ForeignKey("groups.id", ondelete="CASCADE"), nullable=True),
    Column("role", String(16), nullable=False),
    Column("can_share", Boolean, nullable=False, default=False),
    Column("created_by", String(64), ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("node_id", "user_id", name="uq_shares_node_user"),
    UniqueConstraint("node_id", "group_id", name="uq_shares_node_group"),
)

# Secure-view and watermark rules admins manage over the API (the settings file's own are
# not stored). The list columns hold JSON arrays of names or resource ids.
policies = Table(
    "policies",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("name", String(255), nullable=False, unique=True),
    Column("groups", Text, nullable=False),
    Column("share_roles", Text, nullable=False),
    Column("links", String(16), nullable=True),
    Column("folders", Text, nullable=False),
    Column("secure_view", Boolean, nullable=False, default=False),
    Column("watermark", Text, nullable=False, default=""),
    Column("created_by", String(64), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

Index("ix_versions_node_id", versions.c.node_id)
Index("ix_shares_user_id", shares.c.user_id)
Index("ix_shares_group_id", shares.c.group_id)
Index("ix_group_members_user_id", group_members.c.user_id)
Index("ix_nodes_space_id", nodes.c.space_id)
Index("ix_links_node_id", links.c.node_id)
Index("ix_attachments_node_id", attachments.c.node_id)
