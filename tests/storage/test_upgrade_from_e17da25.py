"""A metadata store migrated by e17da25 (every table made from storage/'s one Alembic
folder, the registry's app_providers by core revision 0001) upgrades to today's layout,
where the registry and each driver own their branch, without losing a row, and Docbridge
serves what it held.

The fixtures are that release's own dumps (see fixtures/make_metadata_e17da25.py), loaded
the way an admin restores a backup: the SQLite one into ``data_dir/metadata.sqlite3``, the
PostgreSQL one with psql, and the blobs they point at under ``data_dir/blobs``.
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import MetaData, inspect, text
from sqlalchemy.engine import Engine

import onlyoffice.store
import registry.tables
import storage.metadata.schema
import wopi.store
from app import BUILTIN_EXTENSIONS
from server.bootstrap import migration_locations
from server.services import services_of
from storage.metadata.database import make_engine
from storage.metadata.migrate import recorded_heads, upgrade_to_head
from tests.conftest import basic_auth
from tests.support.postgres import _binary, create_database

FIXTURES = Path(__file__).parent / "fixtures"
HEADS = {"0003", "oo02", "wopi01", "reg01"}
OLD_USER, OLD_PASSWORD = "olive", "olive-password"  # as make_metadata_e17da25.py made them
CODE_METADATA: tuple[MetaData, ...] = (
    storage.metadata.schema.metadata,
    registry.tables.metadata,
    onlyoffice.store.metadata,
    wopi.store.metadata,
)


def restored(dialect: str, data_dir: Path, pg_admin_url: Callable[[], str]) -> str:
    """Restore e17da25's dump for `dialect` and its blobs into `data_dir`; the database URL
    to give Docbridge ("" for the default SQLite file in the data directory)."""
    data_dir.mkdir(parents=True)
    shutil.copytree(FIXTURES / "blobs-e17da25", data_dir / "blobs")
    if dialect == "sqlite":
        with sqlite3.connect(data_dir / "metadata.sqlite3") as connection:
            connection.executescript((FIXTURES / "metadata-e17da25.sql").read_text())
        return ""
    url = create_database(pg_admin_url())
    subprocess.run(
        [_binary("psql"), "--quiet", "--no-psqlrc", "-v", "ON_ERROR_STOP=1", "--dbname", url,
         "--file", str(FIXTURES / "metadata-e17da25.postgresql.sql")],
        check=True, capture_output=True,
    )
    return url


def schema_of(engine: Engine) -> dict[str, dict[str, tuple[str, bool]]]:
    """table -> column -> (type, nullable), as the database reports them."""
    inspector = inspect(engine)
    return {
        table: {column["name"]: (str(column["type"]), bool(column["nullable"])) for column in inspector.get_columns(table)}
        for table in inspector.get_table_names()
    }


def fresh_schema(dialect: str, tmp_path: Path, pg_admin_url: Callable[[], str]) -> dict[str, dict[str, tuple[str, bool]]]:
    """The schema today's migrations give a new database of `dialect`."""
    url = f"sqlite:///{tmp_path / 'fresh.sqlite3'}" if dialect == "sqlite" else create_database(pg_admin_url())
    engine = make_engine(url)
    try:
        upgrade_to_head(engine, migration_locations(BUILTIN_EXTENSIONS))
        return schema_of(engine)
    finally:
        engine.dispose()


def rows(engine: Engine, sql: str, **parameters: str) -> list[Any]:
    with engine.connect() as connection:
        return [tuple(row) for row in connection.execute(text(sql), parameters)]


@pytest.mark.parametrize("dialect", ["sqlite", pytest.param("postgresql", marks=pytest.mark.slow)])
def test_a_database_migrated_by_e17da25_upgrades_and_is_served(
    dialect: str, tmp_path: Path, make_app: Callable[..., Flask], request: pytest.FixtureRequest
) -> None:
    def pg_admin_url() -> str:
        return str(request.getfixturevalue("pg_admin_url"))

    url = restored(dialect, tmp_path / "data", pg_admin_url)
    app = make_app(database_url=url) if url else make_app()
    engine = services_of(app).engine

    assert recorded_heads(engine) == HEADS
    upgraded = schema_of(engine)
    assert upgraded == fresh_schema(dialect, tmp_path, pg_admin_url)
    for metadata in CODE_METADATA:
        for table in metadata.tables.values():
            assert set(table.columns.keys()) == set(upgraded[table.name]), table.name

    [(olive_id,)] = rows(engine, "SELECT id FROM users WHERE name = :name", name=OLD_USER)
    [(file_node, version)] = rows(engine, "SELECT id, current_version FROM nodes WHERE name = 'report.txt'")
    assert version == 2
    assert len(rows(engine, "SELECT number FROM versions WHERE node_id = :node", node=file_node)) == 2
    assert rows(engine, "SELECT name FROM app_providers") == [("Sketch",)]
    assert rows(engine, "SELECT info FROM wopi_user_info WHERE user_id = :user", user=olive_id) == [('{"theme": "dark"}',)]
    [(file_id, doc_key)] = rows(engine, "SELECT file_id, doc_key FROM onlyoffice_documents")
    assert file_id.endswith(f"!{file_node}") and doc_key
    assert rows(engine, "SELECT user_name FROM onlyoffice_presence") == [("Olive Old",)]

    client = app.test_client()
    auth = basic_auth(OLD_USER, OLD_PASSWORD)
    listed = client.get(f"/api/v1/files/{file_id}/versions", headers=auth)
    assert listed.status_code == 200, listed.get_data(as_text=True)
    assert sorted((item["version"], item["current"]) for item in listed.get_json()["versions"]) == [(1, False), (2, True)]
    assert client.get(f"/api/v1/files/{file_id}/versions/1/content", headers=auth).data == b"first draft\n"
    assert client.get(f"/api/v1/files/{file_id}/versions/2/content", headers=auth).data == b"second draft\n"
    assert client.get(f"/api/v1/files/{file_id}/content", headers=auth).data == b"second draft\n"
    svg = [entry for entry in client.get("/app/list").get_json()["mime-types"] if entry["mime_type"] == "image/svg+xml"]
    assert [provider["name"] for entry in svg for provider in entry["app_providers"]] == ["Sketch"]
    assert onlyoffice.store.OnlyofficeStore(engine, tmp_path, b"salt").current_key(file_id) == doc_key
    assert wopi.store.UserInfoStore(engine).get(olive_id) == '{"theme": "dark"}'
