"""A throw-away PostgreSQL cluster in a temporary directory on a free loopback port.

It never touches a system cluster. Root cannot run initdb, so as root the cluster runs as
the `postgres` system user that Debian's package creates.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.support.net import free_port


def _binary(name: str) -> str:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)
    if not candidates:
        raise RuntimeError(f"PostgreSQL's {name} is not installed: run `make test`, which installs it")
    return candidates[0]


def postgres_version() -> str:
    completed = subprocess.run([_binary("postgres"), "--version"], capture_output=True, text=True, timeout=10, check=False)
    return completed.stdout.strip().removeprefix("postgres (PostgreSQL) ")


def _as_owner(command: list[str], owner: str | None) -> list[str]:
    return ["runuser", "-u", owner, "--", *command] if owner else command


@contextmanager
def postgres_cluster(*, durable: bool = False) -> Iterator[str]:
    """Yield an admin URL (postgresql://postgres@127.0.0.1:PORT/postgres).

    Tests run it with fsync off; `durable` keeps PostgreSQL's own defaults (fsync on,
    synchronous commit), for benchmarks whose figures must include the commit's flush."""
    owner = "postgres" if os.geteuid() == 0 else None
    root = Path(tempfile.mkdtemp(prefix="docbridge-pg-"))
    data = root / "data"
    if owner:
        record = pwd.getpwnam(owner)
        os.chown(root, record.pw_uid, record.pw_gid)
    port = free_port()
    subprocess.run(
        _as_owner([_binary("initdb"), "-D", str(data), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync"], owner),
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c max_connections=200"
    if not durable:
        options += " -c fsync=off"
    subprocess.run(
        _as_owner([_binary("pg_ctl"), "-D", str(data), "-o", options, "-l", str(root / "log"), "-w", "start"], owner),
        check=True,
        stdout=subprocess.DEVNULL,
    )
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(
            _as_owner([_binary("pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"], owner),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        shutil.rmtree(root, ignore_errors=True)


def create_database(admin_url: str, template: str | None = None) -> str:
    """A fresh database on the cluster (a copy of `template` when given); returns its URL."""
    import psycopg

    name = "t_" + uuid.uuid4().hex[:16]
    suffix = f' TEMPLATE "{template}"' if template else ""
    deadline = time.monotonic() + 10
    while True:
        try:
            with psycopg.connect(admin_url, autocommit=True) as connection:
                connection.execute(f'CREATE DATABASE "{name}"{suffix}')
            break
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
    return admin_url.rsplit("/", 1)[0] + "/" + name


def migrated_template(admin_url: str) -> str:
    """A database with every migration of core, the registry and the built-in extensions
    applied, to copy per test instead of migrating each."""
    from app import BUILTIN_EXTENSIONS
    from server.bootstrap import migration_locations
    from storage.metadata.database import make_engine
    from storage.metadata.migrate import upgrade_to_head

    url = create_database(admin_url)
    engine = make_engine(url)
    try:
        upgrade_to_head(engine, migration_locations(BUILTIN_EXTENSIONS))
    finally:
        engine.dispose()
    return url.rsplit("/", 1)[1]
