"""A third-party extension installed as a distribution with a `docbridge.extensions` entry
point is found, ordered, and wired in like a built-in one, and ships its own tables."""

from __future__ import annotations

import io
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import inspect

from server.services import services_of
from storage.metadata.migrate import recorded_heads
from storage.types import SaveOrigin

EXTENSION_SOURCE = textwrap.dedent(
    """
    from sqlalchemy import Column, Integer, String, Table, insert, select

    from core.events import VersionSaved
    from core.extensions import ExtensionKind, Manifest
    from storage.metadata.database import write_transaction
    from storage.metadata.schema import new_metadata

    MANIFEST = Manifest(
        id="{ext_id}", name="Counter", version="2.0.0", licence="MIT",
        kind=ExtensionKind.LISTENER, requires={requires!r}, after=("audit-log",),
        migrations="migrations",
    )
    metadata = new_metadata()
    counted = Table(
        "{ext_id}_counted",
        metadata,
        Column("file_id", String(400), primary_key=True),
        Column("version", Integer, primary_key=True),
    )
    saved = []

    def register(context):
        engine = context.services.engine

        def count(event):
            saved.append(event)
            with write_transaction(engine) as connection:
                connection.execute(insert(counted).values(file_id=str(event.file_id), version=event.version))

        context.services.events.subscribe(VersionSaved, count)

    def rows(engine):
        with engine.connect() as connection:
            return [tuple(row) for row in connection.execute(select(counted.c.file_id, counted.c.version))]
    """
)

# The extension's own Alembic branch: a root labelled with its id, needing core's first revision.
MIGRATION_SOURCE = textwrap.dedent(
    '''
    """{ext_id}: the versions it counted

    Revision ID: {ext_id}01
    """

    import sqlalchemy as sa
    from alembic import op

    revision = "{ext_id}01"
    down_revision = None
    branch_labels = ("{ext_id}",)
    depends_on = "0001"


    def upgrade():
        op.create_table(
            "{ext_id}_counted",
            sa.Column("file_id", sa.String(400), nullable=False),
            sa.Column("version", sa.Integer(), nullable=False),
            sa.PrimaryKeyConstraint("file_id", "version", name=op.f("pk_{ext_id}_counted")),
        )


    def downgrade():
        op.drop_table("{ext_id}_counted")
    '''
)


@pytest.fixture
def install_extension(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., str]]:
    """Install the package `module` as a distribution with a `docbridge.extensions` entry
    point; its migrations folder sits beside the module that holds its manifest."""
    site = tmp_path / "site"
    site.mkdir()
    monkeypatch.syspath_prepend(str(site))
    modules: list[str] = []

    def install(module: str, ext_id: str, requires: dict[str, str]) -> str:
        package = site / module
        (package / "migrations").mkdir(parents=True)
        (package / "__init__.py").write_text(EXTENSION_SOURCE.format(ext_id=ext_id, requires=requires))
        (package / "migrations" / f"{ext_id}01_counted.py").write_text(MIGRATION_SOURCE.format(ext_id=ext_id))
        info = site / f"{module}-2.0.0.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {module}\nVersion: 2.0.0\n")
        (info / "entry_points.txt").write_text(f"[docbridge.extensions]\n{ext_id} = {module}\n")
        modules.append(module)
        return module

    yield install
    for module in modules:
        sys.modules.pop(module, None)


def test_entry_point_extension_is_loaded_and_listens(make_app: Callable[..., Flask], install_extension: Callable[..., str]) -> None:
    module = install_extension("docbridge_counter", "counter", {"docbridge": ">=0.1", "audit-log": ">=1"})
    app = make_app()
    output = app.test_cli_runner().invoke(args=["extensions", "list"]).output
    lines = output.splitlines()
    assert "counter\t2.0.0\tevent-listener\tdocbridge_counter\tenabled" in lines
    assert [line.split("\t")[0] for line in lines].index("counter") > [line.split("\t")[0] for line in lines].index("audit-log")
    found = services_of(app)
    user = found.users.create("gail", "pw")
    found.storage.create_file(user.home_id, "x.txt", io.BytesIO(b"x"), SaveOrigin(user.id, "gail", "upload"))
    assert len(sys.modules[module].saved) == 1


def test_entry_point_extension_with_unmet_range_is_disabled(make_app: Callable[..., Flask], install_extension: Callable[..., str]) -> None:
    install_extension("docbridge_future", "future", {"docbridge": ">=5"})
    output = make_app().test_cli_runner().invoke(args=["extensions", "list"]).output
    assert "future\t2.0.0\tevent-listener\tdocbridge_future\tdisabled: requires 'docbridge' >=5, but 0.1.0 is installed" in output


def test_an_extension_ships_its_own_table_and_migration(make_app: Callable[..., Flask], install_extension: Callable[..., str]) -> None:
    module = install_extension("docbridge_counter", "counter", {"docbridge": ">=0.1"})
    found = services_of(make_app())
    assert "counter_counted" in inspect(found.engine).get_table_names()
    assert "counter01" in recorded_heads(found.engine)
    user = found.users.create("gail", "pw")
    node = found.storage.create_file(user.home_id, "x.txt", io.BytesIO(b"x"), SaveOrigin(user.id, "gail", "upload"))
    found.storage.write_version(node.id, io.BytesIO(b"xy"), SaveOrigin(user.id, "gail", "upload"))
    assert sorted(sys.modules[module].rows(found.engine)) == [(str(node.id), 1), (str(node.id), 2)]


def test_a_disabled_extension_s_migration_is_not_applied(make_app: Callable[..., Flask], install_extension: Callable[..., str]) -> None:
    install_extension("docbridge_counter", "counter", {"docbridge": ">=0.1"})
    found = services_of(make_app(extensions={"disabled": ["counter"]}))
    assert "counter_counted" not in inspect(found.engine).get_table_names()
    assert recorded_heads(found.engine) == {"0003", "oo02", "wopi01", "reg01"}


def test_disabling_an_extension_later_keeps_its_table_for_when_it_comes_back(
    make_app: Callable[..., Flask], install_extension: Callable[..., str]
) -> None:
    module = install_extension("docbridge_counter", "counter", {"docbridge": ">=0.1"})
    found = services_of(make_app())
    user = found.users.create("gail", "pw")
    node = found.storage.create_file(user.home_id, "x.txt", io.BytesIO(b"x"), SaveOrigin(user.id, "gail", "upload"))

    without = services_of(make_app(extensions={"disabled": ["counter"]}))
    without.storage.write_version(node.id, io.BytesIO(b"xy"), SaveOrigin(user.id, "gail", "upload"))
    assert "counter01" in recorded_heads(without.engine)

    again = services_of(make_app())
    assert sys.modules[module].rows(again.engine) == [(str(node.id), 1)]
