"""Write transactions: SQLite writers queue on the writer's turn (a flock beside the
database) rather than SQLite's busy handler, and a transaction asked not to be durable
gives up only the fsync of its own commit, on SQLite and on PostgreSQL."""

from __future__ import annotations

import base64
import io
import sqlite3
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event, select

from server.services import Services, services_of
from storage.metadata.database import WRITE_OPTION, make_engine, write_transaction, writer_turn
from storage.metadata.schema import pending_blobs
from storage.types import SaveOrigin

ORIGIN = SaveOrigin(author_id=None, author_name="Writer", source="test")


@pytest.fixture
def sqlite_services(make_app: Callable[..., Flask]) -> Services:
    return services_of(make_app())


def test_concurrent_savers_on_sqlite_all_commit_in_sequence_without_the_busy_handler(
    sqlite_services: Services,
) -> None:
    found = sqlite_services
    engine = found.engine

    # With no busy timeout, a second writer reaching BEGIN IMMEDIATE while another holds
    # SQLite's lock fails at once: every save committing shows the turn serialised them.
    @event.listens_for(engine, "connect")
    def no_busy_wait(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.execute("PRAGMA busy_timeout=0")

    engine.dispose()
    home = found.users.create("dana", "secret").home_id
    file_id = found.storage.create_file(home, "ledger.xlsx", io.BytesIO(b"v1"), ORIGIN).id
    savers, saves_each = 6, 8

    def save_all(saver: int) -> list[int]:
        return [
            found.storage.write_version(file_id, io.BytesIO(f"{saver}:{n}".encode()), ORIGIN).number
            for n in range(saves_each)
        ]

    with ThreadPoolExecutor(savers) as pool:
        numbers = [number for numbers in pool.map(save_all, range(savers)) for number in numbers]

    total = 1 + savers * saves_each
    assert sorted(numbers) == list(range(2, total + 1))
    versions = found.storage.list_versions(file_id)
    assert [version.number for version in versions] == list(range(total, 0, -1))
    assert found.storage.stat(file_id).version == total
    with engine.connect() as connection:
        assert connection.execute(select(pending_blobs)).all() == []


def test_a_nested_write_on_the_same_thread_does_not_wait_for_its_own_turn(sqlite_services: Services) -> None:
    engine = sqlite_services.engine
    finished = threading.Event()

    def nested() -> None:
        with writer_turn(engine), writer_turn(engine):
            pass
        finished.set()

    worker = threading.Thread(target=nested, daemon=True)
    worker.start()
    worker.join(timeout=10)
    assert finished.is_set()


def test_another_thread_waits_for_the_turn(sqlite_services: Services) -> None:
    engine = sqlite_services.engine
    entered = threading.Event()

    def take_turn() -> None:
        with writer_turn(engine):
            entered.set()

    with writer_turn(engine):
        waiting = threading.Thread(target=take_turn, daemon=True)
        waiting.start()
        assert not entered.wait(timeout=0.3)
    assert entered.wait(timeout=10)
    waiting.join(timeout=10)


def test_a_relaxed_sqlite_commit_skips_only_its_own_fsync(sqlite_services: Services) -> None:
    engine = sqlite_services.engine
    with write_transaction(engine, durable=False) as connection:
        assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
        driver = connection.connection.driver_connection
        assert driver is not None
    assert driver.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL again, back in the pool
    with write_transaction(engine) as connection:
        assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 2


def test_a_relaxed_sqlite_transaction_that_fails_still_restores_full_sync(sqlite_services: Services) -> None:
    engine = sqlite_services.engine
    with pytest.raises(RuntimeError), write_transaction(engine, durable=False) as connection:
        driver = connection.connection.driver_connection
        raise RuntimeError("refused")
    assert driver is not None and driver.execute("PRAGMA synchronous").fetchone()[0] == 2


def test_a_relaxed_postgresql_commit_turns_synchronous_commit_off_for_itself_only(pg_url: str) -> None:
    engine = make_engine(pg_url)
    try:
        with write_transaction(engine, durable=False) as connection:
            assert connection.exec_driver_sql("SHOW synchronous_commit").scalar() == "off"
        with write_transaction(engine) as connection:
            assert connection.exec_driver_sql("SHOW synchronous_commit").scalar() == "on"
    finally:
        engine.dispose()


def test_a_request_that_saves_holds_no_read_snapshot_that_would_pin_sqlites_wal(
    make_app: Callable[..., Flask], base_settings: dict[str, Any]
) -> None:
    """A save's request reads first (who calls, the file, its lock), then writes twice (the
    pending mark, the version). Were its first snapshot still open, no checkpoint could
    pass it: the WAL would never start over and every later commit would run a checkpoint.
    At each write's start a checkpoint from outside must copy every frame of the WAL."""
    app = make_app()
    found = services_of(app)
    user = found.users.create("erin", "secret")
    client = app.test_client()
    auth = {"Authorization": "Basic " + base64.b64encode(b"erin:secret").decode()}
    path = f"/api/v1/containers/{user.home_id}/files/ledger.bin"
    assert client.put(path, data=b"version 1", headers=auth).status_code == 201
    database = f"{base_settings['data_dir']}/metadata.sqlite3"
    checkpoints: list[tuple[int, int, int]] = []

    @event.listens_for(found.engine, "begin")
    def checkpoint_from_outside(connection: Any) -> None:
        if connection.get_execution_options().get(WRITE_OPTION):
            outside = sqlite3.connect(database, timeout=0)
            try:
                checkpoints.append(outside.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone())
            finally:
                outside.close()

    for number in range(2, 5):
        answer = client.put(path, data=f"version {number}".encode(), headers=auth)
        assert answer.status_code == 200, answer.get_data(as_text=True)
    assert len(checkpoints) >= 6  # a pending mark and a version per save
    assert all(busy == 0 and frames == copied for busy, frames, copied in checkpoints), checkpoints
