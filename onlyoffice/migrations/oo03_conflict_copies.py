"""onlyoffice driver: the conflict copy each session's saves go to once its file was taken,
and the key of the session the file last changed under

Revision ID: oo03
Revises: oo02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "oo03"
down_revision: str | Sequence[str] | None = "oo02"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("onlyoffice_documents") as batch:
        batch.add_column(sa.Column("spent_key", sa.String(128), nullable=True))
    op.create_table(
        "onlyoffice_conflicts",
        sa.Column("doc_key", sa.String(128), nullable=False),
        sa.Column("file_id", sa.String(400), nullable=False),
        sa.Column("copy_id", sa.String(400), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("doc_key", name=op.f("pk_onlyoffice_conflicts")),
    )


def downgrade() -> None:
    op.drop_table("onlyoffice_conflicts")
    with op.batch_alter_table("onlyoffice_documents") as batch:
        batch.drop_column("spent_key")
