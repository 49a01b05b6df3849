"""The admin command line, run through Click's runner as `flask --app app …` would."""

from __future__ import annotations

import io
import os
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import insert

from core.errors import NotFound
from core.ids import parse_resource_id
from server.services import services_of
from storage.metadata.database import now_utc
from storage.metadata.schema import pending_blobs
from storage.types import SaveOrigin
from tests.conftest import ADMIN_PASSWORD, TestUser, basic_auth, upload


def run(app: Flask, *args: str, input: str | None = None) -> tuple[int, str]:
    result = app.test_cli_runner().invoke(args=list(args), input=input)
    return result.exit_code, result.output


def test_first_start_created_the_admin(app: Flask, client: FlaskClient) -> None:
    me = client.get("/api/v1/me", headers=basic_auth("admin", ADMIN_PASSWORD)).get_json()
    assert me["is_admin"] is True


def test_generated_admin_password_is_printed_once(make_app: object, capfd: object) -> None:
    app = make_app(admin_password="")  # type: ignore[operator]
    err = capfd.readouterr().err  # type: ignore[attr-defined]
    assert "created the admin user 'admin' with the password" in err
    password = err.split("with the password:")[1].split()[0]
    assert app.test_client().get("/api/v1/me", headers=basic_auth("admin", password)).status_code == 200


def test_user_create_list_delete(app: Flask, client: FlaskClient) -> None:
    code, output = run(app, "user", "create", "erin", "--password", "pw-erin", "--admin", "--display-name", "Erin B")
    assert code == 0 and "created user erin" in output
    code, output = run(app, "user", "create", "erin", "--password", "again")
    assert code == 1 and "already exists" in output
    code, output = run(app, "user", "list")
    assert "erin\tadmin\tErin B" in output and "admin\tadmin\tAdministrator" in output
    erin = TestUser("", "erin", "pw-erin", "", basic_auth("erin", "pw-erin"))
    home = client.get("/api/v1/me", headers=erin.auth).get_json()["home_id"]
    file_id = upload(client, erin, home, "cv.txt", b"cv")
    code, output = run(app, "user", "delete", "erin", "--yes")
    assert code == 0
    assert client.get("/api/v1/me", headers=erin.auth).status_code == 401
    with pytest.raises(NotFound):
        services_of(app).storage.stat(parse_resource_id(file_id))
    assert list(services_of(app).blobs.keys()) == []


def test_user_create_prompts_for_the_password(app: Flask) -> None:
    code, output = run(app, "user", "create", "finn", input="pw-finn\npw-finn\n")
    assert code == 0
    assert app.test_client().get("/api/v1/me", headers=basic_auth("finn", "pw-finn")).status_code == 200


def test_bad_user_names_are_refused(app: Flask) -> None:
    code, output = run(app, "user", "create", "../root", "--password", "x")
    assert code == 1 and "user name" in output


def test_password_change(app: Flask, alice: TestUser) -> None:
    code, _ = run(app, "user", "password", "alice", "--password", "new-secret")
    assert code == 0
    client = app.test_client()
    assert client.get("/api/v1/me", headers=alice.auth).status_code == 401
    assert client.get("/api/v1/me", headers=basic_auth("alice", "new-secret")).status_code == 200


def test_token_for_unknown_user(app: Flask) -> None:
    code, output = run(app, "user", "token", "nobody")
    assert code == 1 and "no user 'nobody'" in output


def test_storage_gc_reports(app: Flask) -> None:
    code, output = run(app, "storage", "gc", "--grace-seconds", "0")
    assert code == 0 and output.strip() == "removed 0 orphan blob(s)"


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_storage_gc_all_removes_unmarked_unreferenced_blobs_only(
    make_app: Callable[..., Flask], request: pytest.FixtureRequest, database: str
) -> None:
    app = make_app(database_url=request.getfixturevalue("pg_url")) if database == "postgresql" else make_app()
    found = services_of(app)
    home = found.users.create("gina", "secret").home_id
    saved = found.storage.create_file(home, "kept.txt", io.BytesIO(b"kept"), SaveOrigin(None, "Gina", "test"))
    [referenced] = list(found.blobs.keys())

    def stray_blob(*, age: float, pending: bool = False) -> str:
        key = uuid.uuid4().hex
        found.blobs.put(key, io.BytesIO(b"stray"))
        blob = Path(found.settings.data_dir) / "blobs" / key[0:2] / key[2:4] / key
        stored_at = time.time() - age
        os.utime(blob, (stored_at, stored_at))
        if pending:
            with found.engine.begin() as connection:
                connection.execute(insert(pending_blobs).values(blob_key=key, created_at=now_utc()))
        return key

    lost_mark = stray_blob(age=3600)  # a power cut took its pending mark
    fresh = stray_blob(age=0)  # a save that may be under way
    in_flight = stray_blob(age=3600, pending=True)

    assert run(app, "storage", "gc", "--grace-seconds", "60") == (0, "removed 0 orphan blob(s)\n")
    assert set(found.blobs.keys()) == {referenced, lost_mark, fresh, in_flight}

    code, output = run(app, "storage", "gc", "--all", "--grace-seconds", "60")
    assert code == 0 and output == "removed 0 orphan blob(s)\nremoved 1 unreferenced blob(s)\n"
    assert set(found.blobs.keys()) == {referenced, fresh, in_flight}
    _version, stream = found.storage.open_version(saved.id)
    with stream:
        assert stream.read() == b"kept"


def test_lock_list_and_release(app: Flask, client: FlaskClient, alice: TestUser) -> None:
    from datetime import timedelta

    from storage.metadata.database import now_utc
    from storage.types import Lock, LockKind

    assert run(app, "lock", "list") == (0, "no file is locked\n")
    file_id = upload(client, alice, alice.home_id, "held.docx", b"x")
    node_id = parse_resource_id(file_id)
    held = Lock(node_id, "doc-key", "OnlyOffice", alice.id, now_utc() + timedelta(minutes=5), LockKind.SESSION, "Alice")
    services_of(app).locks.update(node_id, lambda _current: held)
    code, output = run(app, "lock", "list")
    assert code == 0 and output.split("\t")[:5] == [file_id, "held.docx", "OnlyOffice", "Alice", "session"]
    assert run(app, "lock", "release", file_id) == (0, "released the lock of OnlyOffice (Alice, session) on held.docx\n")
    assert run(app, "lock", "release", file_id) == (0, "held.docx was not locked\n")
    code, output = run(app, "lock", "release", "not-an-id")
    assert code == 1 and "Error" in output
