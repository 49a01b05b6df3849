"""Domain errors to HTTP answers: one table per protocol edge, one JSON error body.

Domain errors (`core.errors`) carry data, never an HTTP status. Each blueprint maps them
with a table from exception class to status and code, looked up along the error's class
hierarchy, so a subclass is answered as its nearest listed ancestor unless the table
names it. `STATUSES` is the table of Docbridge's own APIs; the WOPI host and the app
registry extend it with what their protocols prescribe.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask import Response, jsonify, request

from core.errors import (
    AccessDenied,
    AlreadyExists,
    BadRequest,
    Conflict,
    DocbridgeError,
    LockConflict,
    LockHolder,
    NotFound,
    NotImplementedFeature,
    PayloadTooLarge,
    ServerError,
    StorageUnavailable,
    TooEarly,
    Unauthenticated,
    UpstreamInterrupted,
)


@dataclass(frozen=True, slots=True)
class ErrorStatus:
    status: int
    code: str


ErrorTable = Mapping[type[DocbridgeError], ErrorStatus]

STATUSES: ErrorTable = {
    DocbridgeError: ErrorStatus(500, "SERVER_ERROR"),
    BadRequest: ErrorStatus(400, "INVALID_PARAMETER"),
    Unauthenticated: ErrorStatus(401, "UNAUTHENTICATED"),
    AccessDenied: ErrorStatus(403, "PERMISSION_DENIED"),
    # 403 rather than 409: the oCIS app-registry contract's status for an existing file.
    AlreadyExists: ErrorStatus(403, "RESOURCE_ALREADY_EXISTS"),
    NotFound: ErrorStatus(404, "RESOURCE_NOT_FOUND"),
    Conflict: ErrorStatus(409, "CONFLICT"),
    # Another writer holds the file (WebDAV's status; WOPI's table answers its own 409).
    LockConflict: ErrorStatus(423, "LOCKED"),
    PayloadTooLarge: ErrorStatus(413, "PAYLOAD_TOO_LARGE"),
    TooEarly: ErrorStatus(425, "TOO_EARLY"),
    NotImplementedFeature: ErrorStatus(501, "NOT_IMPLEMENTED"),
    ServerError: ErrorStatus(500, "SERVER_ERROR"),
    # Transient: the caller may try again.
    StorageUnavailable: ErrorStatus(503, "SERVER_ERROR"),
    UpstreamInterrupted: ErrorStatus(503, "SERVER_ERROR"),
}

# Werkzeug's own errors (routing, a form past its limit) on routes that answer JSON.
HTTP_CODES: Mapping[int, str] = {
    400: "INVALID_PARAMETER",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "RESOURCE_NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    413: "PAYLOAD_TOO_LARGE",
    423: "LOCKED",
}


def status_of(error: DocbridgeError, table: ErrorTable = STATUSES) -> ErrorStatus:
    for cls in type(error).__mro__:
        found = table.get(cls)
        if found is not None:
            return found
    return table[DocbridgeError]


def json_error(status: int, code: str, message: str, **extra: Any) -> Response:
    """The body every JSON error has: ``{"code", "message"}``, plus what the error carries
    for its caller (``lock`` for a locked file). A 401 asks browsers for Basic
    credentials, except from the web UI's own scripts."""
    response = jsonify(code=code, message=message, **extra)
    response.status_code = status
    if status == 401 and request.headers.get("X-Requested-With") != "XMLHttpRequest":
        response.headers["WWW-Authenticate"] = 'Basic realm="Docbridge", charset="UTF-8"'
    return response


def lock_json(holder: LockHolder) -> dict[str, Any]:
    """Who holds a file, as the API shows it: ``{"app", "user", "user_id", "kind", "expires_at"}``."""
    return {
        "app": holder.app_name,
        "user": holder.user_name or holder.user_id or "",
        "user_id": holder.user_id,
        "kind": holder.kind,
        "expires_at": holder.expires_at.isoformat().replace("+00:00", "Z"),
    }


def error_fields(error: DocbridgeError) -> dict[str, Any]:
    """The data an error body carries besides its code and message."""
    if isinstance(error, LockConflict):
        return {"lock": lock_json(error.holder) if error.holder is not None else None}
    return {}


def json_error_for(error: DocbridgeError, table: ErrorTable = STATUSES) -> Response:
    found = status_of(error, table)
    return json_error(found.status, found.code, error.message, **error_fields(error))
