"""``/healthz`` (the process answers) and ``/readyz`` (the metadata store answers and the
data directory takes writes; peers such as WOPI clients are reported in ``details``)."""

from __future__ import annotations

from flask import Blueprint, Flask, Response, jsonify
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from core.errors import DocbridgeError
from server.services import services

blueprint = Blueprint("health", __name__)


@blueprint.get("/healthz")
def healthz() -> Response:
    return jsonify(status="ok")


@blueprint.get("/readyz")
def readyz() -> tuple[Response, int]:
    found = services()
    checks: dict[str, dict[str, object]] = {}
    try:
        with found.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        checks["metadata"] = {"healthy": True}
    except SQLAlchemyError as error:
        checks["metadata"] = {"healthy": False, "detail": type(error).__name__}
    try:
        found.blobs.check_writable()
        checks["data"] = {"healthy": True}
    except DocbridgeError as error:
        checks["data"] = {"healthy": False, "detail": error.message}
    ready = all(bool(check["healthy"]) for check in checks.values())
    details = {}
    for name, check in found.health_checks.items():
        report = check()
        details[name] = {"healthy": report.healthy, "detail": report.detail}
    status = 200 if ready else 503
    return jsonify(status="ready" if ready else "unready", checks=checks, details=details), status


def init_app(app: Flask) -> None:
    app.register_blueprint(blueprint)
