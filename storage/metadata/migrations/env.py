"""Alembic environment: runs on the connection Docbridge hands over, or on sqlalchemy.url.

Upgrades need no table definitions. Autogenerate compares the database with the MetaData
the caller puts in ``config.attributes["target_metadata"]`` (see ``migrate.alembic_config``),
core's when none is given, and never proposes dropping a table that MetaData does not
define: that table belongs to another branch.
"""

from __future__ import annotations

from typing import Any

from alembic import context
from sqlalchemy import create_engine
from sqlalchemy.engine import Connection

import storage.metadata.schema as schema

config = context.config
target_metadata = config.attributes.get("target_metadata", schema.metadata)


def include_object(item: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    return not (type_ == "table" and reflected and compare_to is None)


def run() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run_on(connection)
        return
    engine = create_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.begin() as connection:
        _run_on(connection)


def _run_on(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        include_object=include_object,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run()
