"""app registry: app_providers, the registrations of external app providers

Revision ID: reg01
Revises: (the root of the registry's branch; depends on core 0001)

Before the registry owned its migrations, core revision 0001 made this table. 0001 no longer
does, and this revision makes it instead; its id was never recorded anywhere before, so
every database runs it once:

- a new database has no app_providers: it is created here;
- a database migrated by an earlier release already has it, made by 0001 with the same
  columns and holding live registrations: it is left exactly as it is, rows included, and
  only the registry's head (reg01) is recorded.

Either way the database ends with one app_providers table owned by the registry's branch.
Changing 0001 was the only way to give the table to the registry without touching the
history already recorded in databases (their 0001 stays applied as it was); making the
creation conditional is what lets both kinds of database take the same path from here.
Downgrading drops the table whichever way it came.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "reg01"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("registry",)
depends_on: str | Sequence[str] | None = "0001"


def upgrade() -> None:
    if sa.inspect(op.get_bind()).has_table("app_providers"):
        return  # made by 0001 of an earlier release; keep it and its registrations
    op.create_table(
        "app_providers",
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_app_providers")),
    )


def downgrade() -> None:
    op.drop_table("app_providers")
