"""Events reach listeners after the change; a failing listener never fails a save."""

from __future__ import annotations

import io
import logging

import pytest
from flask import Flask

from core.events import FileCreated, VersionSaved
from server.services import services_of
from storage.types import SaveOrigin
from tests.conftest import TestUser


def test_listeners_see_saves_and_a_failing_one_does_no_harm(app: Flask, alice: TestUser, caplog: pytest.LogCaptureFixture) -> None:
    found = services_of(app)
    seen: list[object] = []

    def broken(event: object) -> None:
        raise RuntimeError("listener bug")

    found.events.subscribe(VersionSaved, broken)
    found.events.subscribe(VersionSaved, seen.append)
    found.events.subscribe(FileCreated, seen.append)
    home = found.users.get(alice.id).home_id
    with caplog.at_level(logging.ERROR):
        node = found.storage.create_file(home, "a.txt", io.BytesIO(b"x"), SaveOrigin(alice.id, "alice", "upload"))
    assert node.version == 1
    assert [type(event).__name__ for event in seen] == ["FileCreated", "VersionSaved"]
    assert "event listener" in caplog.text and "listener bug" in caplog.text


def test_audit_listener_logs_json_lines(app: Flask, alice: TestUser, caplog: pytest.LogCaptureFixture) -> None:
    found = services_of(app)
    home = found.users.get(alice.id).home_id
    with caplog.at_level(logging.INFO, logger="docbridge.audit"):
        found.storage.create_file(home, "b.txt", io.BytesIO(b"x"), SaveOrigin(alice.id, "alice", "upload"))
    lines = [record.getMessage() for record in caplog.records if record.name == "docbridge.audit"]
    assert any('"event": "FileCreated"' in line and '"name": "b.txt"' in line for line in lines)
