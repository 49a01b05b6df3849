"""Health endpoints answer without authentication."""

from __future__ import annotations

import os

from flask import Flask
from flask.testing import FlaskClient

from server.services import services_of


def test_healthz_and_readyz(client: FlaskClient) -> None:
    assert client.get("/healthz").get_json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.get_json()["checks"] == {"metadata": {"healthy": True}, "data": {"healthy": True}}


def test_readyz_reports_an_unwritable_data_directory(app: Flask, client: FlaskClient) -> None:
    if os.geteuid() == 0:
        # root writes anywhere: make the probe's directory a file instead
        temporary = services_of(app).blobs.root / "tmp"  # type: ignore[attr-defined]
        for child in temporary.iterdir():
            child.unlink()
        temporary.rmdir()
        temporary.write_text("not a directory")
    else:
        os.chmod(services_of(app).blobs.root / "tmp", 0o500)  # type: ignore[attr-defined]
    answer = client.get("/readyz")
    assert answer.status_code == 503
    assert answer.get_json()["checks"]["data"]["healthy"] is False
    assert "not writable" in answer.get_json()["checks"]["data"]["detail"]
