"""The app registry's own tables, and the folder of the revisions that make them.

Registrations of external app providers are rows of `app_providers`; ``external.py`` reads
and writes them. The registry is part of the core app, not an extension, so the composition
root (``server/bootstrap.py``) hands `MIGRATIONS` to the metadata store itself; the revisions
there form the ``registry`` Alembic branch.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Column, DateTime, String, Table, Text

from storage.metadata.schema import new_metadata

MIGRATIONS = Path(__file__).resolve().parent / "migrations"

metadata = new_metadata()

app_providers = Table(
    "app_providers",
    metadata,
    Column("name", String(255), primary_key=True),
    Column("payload", Text, nullable=False),
    Column("registered_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
)
