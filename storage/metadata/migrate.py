"""Apply the metadata store's Alembic migrations: core's, and those of the folders it is given.

Core's revisions live in ``migrations/versions/``. Every other owner of tables (the app
registry, each extension) ships its revisions in a folder of its own, on its own Alembic
branch; whoever composes the app names those folders (``server/bootstrap.py``), so storage
knows none of them. One Alembic environment (``migrations/env.py``) runs them all as one
revision tree: ``version_locations`` is core's folder plus the given ones.

A database may record revisions that none of the folders holds: those of an extension that
is disabled now, or was uninstalled. Its branch is left as it is (tables, rows and recorded
head), and the rest upgrades. An unknown revision may also be core's, written by a newer
Docbridge: so when there are unknown ones, one of the recorded heads must be a core revision
this Docbridge has, or the upgrade stops before changing anything. An extension's branch
keeps core's head recorded on its own by growing from its own root with ``depends_on`` a
core revision (see `core.extensions.Manifest`), never from core's head as down_revision.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, cast

from alembic.config import Config
from alembic.runtime.environment import EnvironmentContext
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import MetaData
from sqlalchemy.engine import Engine

from core.errors import ServerError
from storage.metadata.database import writer_turn

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
CORE_VERSIONS = MIGRATIONS_DIR / "versions"


def _option(value: str) -> str:
    return value.replace("%", "%%")  # ConfigParser interpolation


def alembic_config(
    engine: Engine | None = None,
    version_locations: Iterable[Path] = (),
    target_metadata: MetaData | Sequence[MetaData] | None = None,
) -> Config:
    """The Alembic configuration for core plus `version_locations`.

    `target_metadata` is only for writing a revision with autogenerate: the MetaData of the
    branch the revision is for (core's ``schema.metadata``, or a feature's). It is compared
    with the database alone; tables of other branches are never proposed for dropping.
    """
    config = Config()
    config.set_main_option("script_location", _option(str(MIGRATIONS_DIR)))
    locations = [CORE_VERSIONS, *(Path(location).resolve() for location in version_locations)]
    config.set_main_option("path_separator", "os")
    config.set_main_option("version_locations", _option(os.pathsep.join(str(path) for path in dict.fromkeys(locations))))
    if engine is not None:
        config.set_main_option("sqlalchemy.url", _option(engine.url.render_as_string(hide_password=False)))
    if target_metadata is not None:
        config.attributes["target_metadata"] = target_metadata
    return config


# Revision scripts as read, per folder list and the names and times of their files: a
# process that builds its app more than once (tests, a CLI that opens two databases) imports
# them once, and a folder whose files change is read again.
_read_scripts: dict[tuple[Any, ...], ScriptDirectory] = {}
_read_scripts_lock = threading.Lock()


def _script_files(folder: str) -> tuple[tuple[str, int], ...]:
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return ()  # Alembic says what is wrong with the folder
    return tuple(sorted((entry.name, entry.stat().st_mtime_ns) for entry in entries if entry.name.endswith(".py")))


def _scripts(config: Config) -> ScriptDirectory:
    folders = config.get_version_locations_list() or []
    key = tuple((folder, _script_files(folder)) for folder in folders)
    with _read_scripts_lock:
        script = _read_scripts.get(key)
        if script is None:
            script = _read_scripts[key] = ScriptDirectory.from_config(config)
        return script


def upgrade_to_head(engine: Engine, version_locations: Iterable[Path] = ()) -> None:
    """Bring the database to the head of core and of every branch in `version_locations`,
    in one transaction."""
    config = alembic_config(engine, version_locations)
    script = _scripts(config)
    known = {revision.revision: revision for revision in script.walk_revisions()}
    core = {revision for revision, found in known.items() if Path(found.path).resolve().parent == CORE_VERSIONS}

    def upgrade(recorded: Sequence[str], _context: MigrationContext) -> Any:
        kept = [revision for revision in recorded if revision not in known]
        if kept and not core.intersection(recorded):
            raise ServerError(
                f"the metadata database is at revision(s) {', '.join(sorted(recorded))}: core's is not one this "
                "Docbridge has. Was it upgraded by a newer release?"
            )
        if kept:
            log.warning(
                "the metadata database records revision(s) %s that no migration folder in use holds "
                "(a disabled or removed extension's); their tables are left as they are",
                ", ".join(sorted(kept)),
            )
        applied = tuple(revision for revision in recorded if revision in known)
        # Alembic's own upgrade command hands the recorded tuple on like this; its annotation says str.
        return script._upgrade_revs("heads", cast(str, applied))

    # The writer's turn, so that writers of a running instance wait in the turn's queue
    # rather than poll SQLite's lock while a migration holds it.
    with writer_turn(engine), engine.begin() as connection:
        config.attributes["connection"] = connection
        with EnvironmentContext(config, script, fn=upgrade, destination_rev="heads"):
            script.run_env()


def recorded_heads(engine: Engine) -> set[str]:
    """The revisions the database records as applied heads (one per branch)."""
    with engine.connect() as connection:
        return set(MigrationContext.configure(connection).get_current_heads())


def script_heads(version_locations: Iterable[Path] = ()) -> set[str]:
    """The head revision of every branch in core's folder and the given ones: what
    ``recorded_heads`` reads after an upgrade with the same folders."""
    return set(_scripts(alembic_config(version_locations=version_locations)).get_heads())
