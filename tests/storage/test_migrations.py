"""The metadata store's migrations: core's folder plus one branch per owner of tables (the
registry, each extension), storage knowing none of the owners."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import MetaData, inspect, text
from sqlalchemy.engine import Engine

import onlyoffice.store
import registry.tables
import storage.metadata.schema
import wopi.store
from app import BUILTIN_EXTENSIONS
from core.errors import ServerError
from server.bootstrap import migration_locations
from storage.metadata.database import make_engine
from storage.metadata.migrate import CORE_VERSIONS, alembic_config, recorded_heads, script_heads, upgrade_to_head
from tests.support.postgres import create_database

ROOT = Path(__file__).resolve().parents[2]
FEATURES = ("onlyoffice", "wopi", "registry", "api", "web", "server")
OWNERS: dict[str, tuple[Path, MetaData, set[str]]] = {
    "core": (CORE_VERSIONS, storage.metadata.schema.metadata, {"0001", "0002", "0003", "0004", "0005", "0006"}),
    "registry": (ROOT / "registry" / "migrations", registry.tables.metadata, {"reg01"}),
    "onlyoffice": (ROOT / "onlyoffice" / "migrations", onlyoffice.store.metadata, {"oo01", "oo02", "oo03"}),
    "wopi": (ROOT / "wopi" / "migrations", wopi.store.metadata, {"wopi01"}),
}


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An empty database: a SQLite file, or a new database on the test PostgreSQL cluster."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'metadata.sqlite3'}"
    else:
        url = create_database(request.getfixturevalue("pg_admin_url"))
    made = make_engine(url)
    yield made
    made.dispose()


def test_storage_imports_no_feature_package() -> None:
    for path in (ROOT / "storage").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names = [alias.name for alias in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names = [node.module]
            for name in names:
                assert name.split(".")[0] not in FEATURES, f"{path.relative_to(ROOT)} imports {name}"


def test_each_owner_keeps_its_revisions_in_its_own_folder() -> None:
    script = ScriptDirectory.from_config(alembic_config(version_locations=migration_locations(BUILTIN_EXTENSIONS)))
    found: dict[Path, set[str]] = {}
    for revision in script.walk_revisions():
        found.setdefault(Path(revision.path).resolve().parent, set()).add(revision.revision)
    assert found == {folder: revisions for folder, _metadata, revisions in OWNERS.values()}
    assert script.get_revision("oo01").branch_labels == {"onlyoffice"}
    assert script.get_revision("wopi01").branch_labels == {"wopi"}
    assert script.get_revision("reg01").branch_labels == {"registry"}


def test_core_alone_makes_only_core_tables(engine: Engine) -> None:
    upgrade_to_head(engine)
    assert recorded_heads(engine) == script_heads()
    assert set(inspect(engine).get_table_names()) == set(storage.metadata.schema.metadata.tables) | {"alembic_version"}


def test_every_branch_reaches_its_head_and_matches_the_tables_in_code(engine: Engine) -> None:
    upgrade_to_head(engine, migration_locations(BUILTIN_EXTENSIONS))
    upgrade_to_head(engine, migration_locations(BUILTIN_EXTENSIONS))  # a second start changes nothing
    assert recorded_heads(engine) == script_heads(migration_locations(BUILTIN_EXTENSIONS))
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection,
            opts={"compare_type": True, "include_object": lambda _o, _n, kind, reflected, other: not (
                kind == "table" and reflected and other is None)},
        )
        for owner, (_folder, metadata, _revisions) in OWNERS.items():
            assert compare_metadata(context, metadata) == [], owner


def test_a_database_a_newer_release_upgraded_is_refused_untouched(engine: Engine) -> None:
    locations = migration_locations(BUILTIN_EXTENSIONS)
    upgrade_to_head(engine, locations)
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '9999' WHERE version_num = :head"),
                           {"head": next(iter(script_heads()))})
    with pytest.raises(ServerError, match="newer release"):
        upgrade_to_head(engine, locations)
    assert recorded_heads(engine) == {"9999"} | (script_heads(locations) - script_heads())


def test_a_disabled_branch_is_left_as_it_is(engine: Engine) -> None:
    upgrade_to_head(engine, migration_locations(BUILTIN_EXTENSIONS))
    upgrade_to_head(engine, migration_locations([]))  # both drivers disabled
    assert recorded_heads(engine) == script_heads(migration_locations(BUILTIN_EXTENSIONS))
    assert {"onlyoffice_documents", "wopi_user_info"} <= set(inspect(engine).get_table_names())
