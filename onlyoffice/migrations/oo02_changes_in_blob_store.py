"""onlyoffice_history.changes_blob: a version's changes.zip lives in the blob store

Revision ID: oo02
Revises: oo01

Until now the changes.zip of a saved version was a file under
``<data_dir>/onlyoffice/changes`` named by ``changes_name``: outside the blob store, so not
shared by instances over WebDAV, not swept, and left behind when its file was deleted. From
this revision it is an attachment of its file in storage (the core ``attachments`` table,
revision 0003), and ``changes_blob`` holds the attachment's blob key.

Existing archives are moved at start-up, not here: a migration has no blob store to write
to. Whenever Docbridge starts with the ONLYOFFICE driver enabled it looks for rows that
still name a ``changes_name``, stores each file it finds under its own data directory as
an attachment, sets ``changes_blob`` and clears ``changes_name`` in the same transaction,
and then deletes the file. Rows whose file sits on another instance's disk wait for that
instance's start; until they are moved, a request for them is still served from the disk
that holds them. ``changes_name`` stays for those rows and is never written again.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "oo02"
down_revision: str | Sequence[str] | None = "oo01"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("onlyoffice_history") as batch:
        batch.add_column(sa.Column("changes_blob", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("onlyoffice_history") as batch:
        batch.drop_column("changes_blob")
