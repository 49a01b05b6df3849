"""wopi host tables: per-user UserInfo

Revision ID: wopi01
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "wopi01"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = ("wopi",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "wopi_user_info",
        sa.Column("user_id", sa.String(255), nullable=False),
        sa.Column("info", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_wopi_user_info")),
    )


def downgrade() -> None:
    op.drop_table("wopi_user_info")
