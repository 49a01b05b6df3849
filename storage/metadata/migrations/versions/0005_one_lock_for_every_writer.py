"""one lock for every writer: lock kinds and holders, released locks, who saved a version under which lock and why

locks: kind (wopi | session), user_name, released_at (a released lock's row stays, so a
WOPI save racing its Unlock can be recognised). versions: lock_id (the lock the writer
held), save_kind (autosave | exit-save | save), modified_by_user.

Revision ID: 0005
Revises: 0004
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("locks") as batch:
        batch.add_column(sa.Column("kind", sa.String(16), nullable=False, server_default="wopi"))
        batch.add_column(sa.Column("user_name", sa.String(255), nullable=False, server_default=""))
        batch.add_column(sa.Column("released_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("versions") as batch:
        batch.add_column(sa.Column("lock_id", sa.String(1024), nullable=True))
        batch.add_column(sa.Column("save_kind", sa.String(16), nullable=True))
        batch.add_column(sa.Column("modified_by_user", sa.Boolean(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("versions") as batch:
        batch.drop_column("modified_by_user")
        batch.drop_column("save_kind")
        batch.drop_column("lock_id")
    with op.batch_alter_table("locks") as batch:
        batch.drop_column("released_at")
        batch.drop_column("user_name")
        batch.drop_column("kind")
