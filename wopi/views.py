"""The WOPI host endpoints: ``/wopi/files/<id>`` and ``/wopi/files/<id>/contents``.

Views translate HTTP to `WopiHost` calls and back. Every request carries ``access_token``
(query, or ``Authorization: Bearer``); the token is verified, then the proof headers, then
the operation named by ``X-WOPI-Override`` runs through the `FILE_OPERATIONS` table.

Status codes: 200 success; 400 bad input (with ``X-WOPI-InvalidFileNameError`` for
RenameFile); 401 bad, expired or read-only token for a change; 404 no such file; 409 lock
mismatch (``X-WOPI-Lock`` holds the current lock, "" when unlocked or held by another
interface, then with ``X-WOPI-LockedByOtherInterface: true``; ``X-WOPI-LockFailureReason``
names the holder), a file changed since Collabora loaded it (body ``{"COOLStatusCode":
1010}``) or a taken PutRelativeFile name (``X-WOPI-ValidRelativeTarget``); 412 GetFile larger than
``X-WOPI-MaxExpectedSize``; 413 upload over ``storage.max_upload_bytes``; 500 proof check
failed; 501 unknown override or PutRelativeFile not allowed.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote

from flask import Blueprint, Response, current_app, jsonify, request, send_file

from core.errors import (
    AccessDenied,
    AlreadyExists,
    DocbridgeError,
    LockConflict,
    NotImplementedFeature,
    Unauthenticated,
)
from core.ids import parse_resource_id
from server.errors import STATUSES, ErrorStatus, ErrorTable, status_of
from storage.types import LockKind
from wopi.checkfileinfo import iso_utc, item_version
from wopi.client import WopiClients
from wopi.cool import DOCUMENT_CHANGED
from wopi.host import (
    ExternallyModified,
    InvalidFileName,
    PreconditionFailed,
    ProofHeaders,
    PutFileHeaders,
    RelativeTargetExists,
    WopiHost,
    WopiSession,
)

log = logging.getLogger(__name__)

RUNTIME_KEY = "wopi"
USER_INFO_READ_LIMIT = 8192

blueprint = Blueprint("wopi", __name__, url_prefix="/wopi")


class WopiOverride(enum.StrEnum):
    LOCK = "LOCK"
    GET_LOCK = "GET_LOCK"
    REFRESH_LOCK = "REFRESH_LOCK"
    UNLOCK = "UNLOCK"
    PUT_RELATIVE = "PUT_RELATIVE"
    RENAME_FILE = "RENAME_FILE"
    DELETE = "DELETE"
    PUT_USER_INFO = "PUT_USER_INFO"
    PUT = "PUT"


@dataclass(slots=True)
class WopiRuntime:
    """What the WOPI extension keeps per app (in ``app.extensions["wopi"]``)."""

    host: WopiHost
    clients: WopiClients


def runtime() -> WopiRuntime:
    found: WopiRuntime = current_app.extensions[RUNTIME_KEY]
    return found


def _token() -> str:
    token = request.args.get("access_token", "")
    if not token:
        scheme, _, value = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() == "bearer":
            token = value.strip()
    return token


def request_url() -> str:
    """The URL the WOPI client signed: the public base plus the path and query as sent."""
    environ = request.environ
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI") or quote(request.script_root + request.path, safe="/")
    if "?" not in raw and request.query_string:
        raw += "?" + request.query_string.decode("latin-1")
    if request.script_root and raw.startswith(request.script_root):
        raw = raw[len(request.script_root) :]
    settings = runtime().host.settings
    return settings.public_base + raw


def _session(file_id: str) -> WopiSession:
    host = runtime().host
    session = host.authorize(parse_resource_id(file_id), _token())
    headers = request.headers
    host.check_proof(
        session,
        request_url(),
        ProofHeaders(headers.get("X-WOPI-Proof"), headers.get("X-WOPI-ProofOld"), headers.get("X-WOPI-TimeStamp")),
    )
    return session


def _ok(version: str | None = None, **headers: str) -> Response:
    response = Response(status=200)
    if version is not None:
        response.headers["X-WOPI-ItemVersion"] = version
    for name, value in headers.items():
        response.headers[name.replace("_", "-")] = value
    return response


# --- operations on /wopi/files/<id> -------------------------------------------------------


def _lock(session: WopiSession) -> Response:
    headers = request.headers
    node = runtime().host.lock(session, headers.get("X-WOPI-Lock"), headers.get("X-WOPI-OldLock"))
    return _ok(item_version(node))


def _get_lock(session: WopiSession) -> Response:
    lock_id, node = runtime().host.get_lock(session)
    return _ok(item_version(node), **{"X-WOPI-Lock": lock_id})


def _refresh_lock(session: WopiSession) -> Response:
    return _ok(item_version(runtime().host.refresh_lock(session, request.headers.get("X-WOPI-Lock"))))


def _unlock(session: WopiSession) -> Response:
    return _ok(item_version(runtime().host.unlock(session, request.headers.get("X-WOPI-Lock"))))


def _put_relative(session: WopiSession) -> Response:
    names = ("X-WOPI-SuggestedTarget", "X-WOPI-RelativeTarget", "X-WOPI-OverwriteRelativeTarget")
    headers = {name: request.headers.get(name) for name in names}
    result = runtime().host.put_relative(session, headers, request.stream)
    return jsonify(result.to_json())


def _rename(session: WopiSession) -> Response:
    headers = request.headers
    name = runtime().host.rename(session, headers.get("X-WOPI-Lock"), headers.get("X-WOPI-RequestedName"))
    return jsonify(Name=name)


def _delete(session: WopiSession) -> Response:
    runtime().host.delete(session)
    return _ok()


def _put_user_info(session: WopiSession) -> Response:
    runtime().host.put_user_info(session, request.stream.read(USER_INFO_READ_LIMIT))
    return _ok()


FILE_OPERATIONS: dict[WopiOverride, Callable[[WopiSession], Response]] = {
    WopiOverride.LOCK: _lock,
    WopiOverride.GET_LOCK: _get_lock,
    WopiOverride.REFRESH_LOCK: _refresh_lock,
    WopiOverride.UNLOCK: _unlock,
    WopiOverride.PUT_RELATIVE: _put_relative,
    WopiOverride.RENAME_FILE: _rename,
    WopiOverride.DELETE: _delete,
    WopiOverride.PUT_USER_INFO: _put_user_info,
}


def _override(allowed: dict[WopiOverride, Callable[[WopiSession], Response]]) -> Callable[[WopiSession], Response]:
    name = request.headers.get("X-WOPI-Override", "").strip().upper()
    try:
        return allowed[WopiOverride(name)]
    except (ValueError, KeyError):
        raise NotImplementedFeature(f"unsupported X-WOPI-Override {name!r}") from None


@blueprint.get("/files/<file_id>")
def check_file_info(file_id: str) -> Response:
    """CheckFileInfo."""
    return jsonify(runtime().host.check_file_info(_session(file_id)))


@blueprint.post("/files/<file_id>")
def file_operation(file_id: str) -> Response:
    """Lock, GetLock, RefreshLock, Unlock, UnlockAndRelock, PutRelativeFile, RenameFile,
    DeleteFile, PutUserInfo: chosen by X-WOPI-Override."""
    session = _session(file_id)
    return _override(FILE_OPERATIONS)(session)


@blueprint.get("/files/<file_id>/contents")
def get_file(file_id: str) -> Response:
    """GetFile: streamed from storage with Content-Length (sendfile where the server can)."""
    session = _session(file_id)
    version, content = runtime().host.get_file(session, request.headers.get("X-WOPI-MaxExpectedSize"))
    response = send_file(
        content, mimetype="application/octet-stream", conditional=False, etag=False, max_age=0
    )
    response.content_length = version.size
    response.headers["X-WOPI-ItemVersion"] = str(version.number)
    return response


@blueprint.get("/templates/<template_id>")
def get_template(template_id: str) -> Response:
    """Collabora's ``TemplateSource``: the template a file was filled from, for the token
    CheckFileInfo put into the URL (its own audience: it opens nothing else)."""
    version, content = runtime().host.open_template(parse_resource_id(template_id), _token())
    response = send_file(content, mimetype="application/octet-stream", conditional=False, etag=False, max_age=0)
    response.content_length = version.size
    return response


def _put_file(session: WopiSession) -> Response:
    headers = request.headers
    cool = PutFileHeaders(
        timestamp=headers.get("X-COOL-WOPI-Timestamp"),
        is_autosave=headers.get("X-COOL-WOPI-IsAutosave"),
        is_exit_save=headers.get("X-COOL-WOPI-IsExitSave"),
        is_modified_by_user=headers.get("X-COOL-WOPI-IsModifiedByUser"),
    )
    version, node = runtime().host.put_file(session, headers.get("X-WOPI-Lock"), request.stream, cool)
    # Collabora sends this LastModifiedTime back with its next save (X-COOL-WOPI-Timestamp).
    response = jsonify(LastModifiedTime=iso_utc(node.modified))
    response.headers["X-WOPI-ItemVersion"] = str(version.number)
    return response


CONTENT_OPERATIONS: dict[WopiOverride, Callable[[WopiSession], Response]] = {WopiOverride.PUT: _put_file}


@blueprint.post("/files/<file_id>/contents")
def put_file(file_id: str) -> Response:
    """PutFile (X-WOPI-Override: PUT)."""
    session = _session(file_id)
    return _override(CONTENT_OPERATIONS)(session)


def _header_text(text: str) -> str:
    """Header values are latin-1 on one line; messages may quote a user's name."""
    return " ".join(text.encode("ascii", "backslashreplace").decode("ascii").split())


# WOPI's answers (docs: wopi.md): a token that may not do this is a 401, as the validator
# expects; a taken name is a conflict.
WOPI_STATUSES: ErrorTable = {
    **STATUSES,
    Unauthenticated: ErrorStatus(401, "UNAUTHENTICATED"),
    AccessDenied: ErrorStatus(401, "UNAUTHENTICATED"),
    AlreadyExists: ErrorStatus(409, "CONFLICT"),
    LockConflict: ErrorStatus(409, "CONFLICT"),
    PreconditionFailed: ErrorStatus(412, "PRECONDITION_FAILED"),
}


@blueprint.errorhandler(DocbridgeError)
def wopi_error(error: DocbridgeError) -> Response:
    answer = status_of(error, WOPI_STATUSES)
    if isinstance(error, ExternallyModified):
        response = jsonify(COOLStatusCode=DOCUMENT_CHANGED)
    else:
        response = jsonify(code=answer.code, message=error.message)
    if isinstance(error, LockConflict):
        response.headers["X-WOPI-Lock"] = error.current_lock
        response.headers["X-WOPI-LockFailureReason"] = _header_text(error.reason)
        if error.holder is not None and error.holder.kind != LockKind.WOPI:
            response.headers["X-WOPI-LockedByOtherInterface"] = "true"
    elif isinstance(error, RelativeTargetExists):
        response.headers["X-WOPI-ValidRelativeTarget"] = error.valid_target
    elif isinstance(error, InvalidFileName):
        response.headers["X-WOPI-InvalidFileNameError"] = _header_text(error.message)
    if answer.status >= 500:
        log.warning("WOPI %s %s: %s", request.method, request.path, error.message)
    response.status_code = answer.status
    return response
