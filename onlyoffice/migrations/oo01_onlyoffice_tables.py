"""onlyoffice driver tables: document keys, presence, callback dedupe, version history

Revision ID: oo01
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "oo01"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = ("onlyoffice",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "onlyoffice_documents",
        sa.Column("file_id", sa.String(400), nullable=False),
        sa.Column("doc_key", sa.String(128), nullable=True),
        sa.Column("base_version", sa.Integer(), nullable=False),
        sa.Column("session_version", sa.Integer(), nullable=False),
        sa.Column("epoch", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("file_id", name=op.f("pk_onlyoffice_documents")),
    )
    op.create_table(
        "onlyoffice_presence",
        sa.Column("file_id", sa.String(400), nullable=False),
        sa.Column("user_id", sa.String(64), nullable=False),
        sa.Column("user_name", sa.String(255), nullable=False),
        sa.Column("editing", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("file_id", "user_id", name=op.f("pk_onlyoffice_presence")),
    )
    op.create_table(
        "onlyoffice_saves",
        sa.Column("dedupe_key", sa.String(128), nullable=False),
        sa.Column("file_id", sa.String(400), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("dedupe_key", name=op.f("pk_onlyoffice_saves")),
    )
    op.create_table(
        "onlyoffice_history",
        sa.Column("file_id", sa.String(400), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("doc_key", sa.String(128), nullable=False),
        sa.Column("history_json", sa.Text(), nullable=False),
        sa.Column("changes_name", sa.String(128), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("file_id", "version", name=op.f("pk_onlyoffice_history")),
    )


def downgrade() -> None:
    for table in ("onlyoffice_history", "onlyoffice_saves", "onlyoffice_presence", "onlyoffice_documents"):
        op.drop_table(table)
