"""Alembic environment: runs on the connection Docbridge hands over, or on sqlalchemy.url."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

import storage.metadata.schema as schema

# Extensions' tables live on the same MetaData; importing them here lets autogenerate see them.
try:  # an extension package that is absent contributes no tables
    import onlyoffice.store  # noqa: F401
except ImportError:
    pass
try:
    import wopi.store  # noqa: F401
except ImportError:
    pass

config = context.config
target_metadata = schema.metadata


def run() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run_on(connection)
        return
    engine = create_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.begin() as connection:
        _run_on(connection)


def _run_on(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run()
