"""HTTP edge of the ONLYOFFICE driver: the editor page, the URLs the Document Server calls
(``document.url``, ``callbackUrl``), the editor page's helpers (history, restore, save as,
rename, convert and edit) and the admin endpoints. Each view parses, calls one
`OnlyofficeService` method and shapes the answer."""

from __future__ import annotations

import secrets
import time
from typing import Any

from flask import Blueprint, Flask, Response, current_app, jsonify, render_template, request
from werkzeug.wsgi import wrap_file

from core.errors import AccessDenied, BadRequest, DocbridgeError, InvalidToken
from core.ids import parse_resource_id
from core.tokens import AccessGrant, token_tail
from core.urls import origin_of
from onlyoffice.check import run_check
from onlyoffice.ds_client import DocumentServerError
from onlyoffice.service import CHECK_AUDIENCE, OnlyofficeService
from onlyoffice.testdoc import check_document
from server.auth import require_principal
from server.errors import STATUSES, ErrorStatus, ErrorTable, json_error_for, status_of

EXTENSION_KEY = "onlyoffice"

blueprint = Blueprint("onlyoffice", __name__, url_prefix="/onlyoffice")
admin_blueprint = Blueprint("onlyoffice_admin", __name__, url_prefix="/api/v1/admin/onlyoffice")


def driver_service() -> OnlyofficeService:
    found: OnlyofficeService = current_app.extensions[EXTENSION_KEY]
    return found


# A Document Server that answers with an error code is a bad gateway.
ONLYOFFICE_STATUSES: ErrorTable = {**STATUSES, DocumentServerError: ErrorStatus(502, "SERVER_ERROR")}


@admin_blueprint.errorhandler(DocbridgeError)
def _admin_error(error: DocbridgeError) -> Response:
    return json_error_for(error, ONLYOFFICE_STATUSES)


@blueprint.errorhandler(DocbridgeError)
def _page_error(error: DocbridgeError) -> Any:
    if request.endpoint in ("onlyoffice.editor", "onlyoffice.convert"):
        status = status_of(error, ONLYOFFICE_STATUSES).status
        return render_template("onlyoffice/error.html", message=error.message), status
    return json_error_for(error, ONLYOFFICE_STATUSES)


def _access_token() -> str:
    token = request.form.get("access_token") or request.args.get("access_token")
    if token is None and request.is_json:
        body = request.get_json(silent=True) or {}
        token = body.get("access_token") if isinstance(body, dict) else None
    if not token:
        raise InvalidToken("missing access token")
    return str(token)


def _grant() -> tuple[str, AccessGrant]:
    token = _access_token()
    return token, driver_service().verify_access(token)


def _json_body() -> dict[str, Any]:
    body = request.get_json(silent=True)
    return body if isinstance(body, dict) else {}


def _render_editor(access_token: str, grant: AccessGrant) -> Response:
    service = driver_service()
    page = service.editor(grant, lang=request.values.get("lang", ""))
    nonce = secrets.token_urlsafe(16)
    base = request.script_root + "/onlyoffice"
    page_data = {"base": base, "accessToken": access_token, "apiJs": page.api_js_url,
                 "canWrite": page.config["document"]["permissions"]["edit"],
                 "heartbeatSeconds": page.heartbeat_seconds}
    locked_message = f"Read-only: {page.node.name} is {page.locked_by.message.removeprefix('the file is ')}." \
        if page.locked_by is not None else ""
    response = Response(render_template(
        "onlyoffice/editor.html", config=page.config, page=page_data, api_js_url=page.api_js_url,
        title=page.node.name, access_token=access_token, access_token_ttl=str(grant.expires_at * 1000),
        convert_target=page.convert_target, base=base, nonce=nonce, locked_message=locked_message,
    ))
    ds_origin = origin_of(service.public_ds)
    response.headers["Content-Security-Policy"] = (
        f"default-src 'self'; script-src 'nonce-{nonce}' {ds_origin}; frame-src {ds_origin}; "
        f"connect-src 'self' {ds_origin}; img-src 'self' data: {ds_origin}; style-src 'self' 'nonce-{nonce}'"
    )
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@blueprint.route("/editor", methods=["GET", "POST"])
def editor() -> Response:
    """The editor page. The registry's launch posts ``access_token`` and ``access_token_ttl``."""
    token, grant = _grant()
    return _render_editor(token, grant)


@blueprint.post("/convert")
def convert() -> Response:
    """"Convert and edit": make an OOXML copy and open it in the editor."""
    service = driver_service()
    _token, grant = _grant()
    created, _fmt = service.convert_and_edit(grant)
    issued = service.tokens.issue(
        file_id=created.id, user_id=grant.user_id, view_mode=grant.view_mode, audience=service.audience,
        link_id=grant.link_id, claims=dict(grant.claims),
        ttl_seconds=max(60, grant.expires_at - int(time.time())),
    )
    return _render_editor(issued.token, service.tokens.verify(issued.token, audience=service.audience))


@blueprint.get("/download")
def download() -> Response:
    """``document.url``: streamed bytes of one version, with Content-Length."""
    service = driver_service()
    url_token = request.args.get("t", "")
    try:
        version, stream = service.open_download(url_token, request.headers.get(service.options.jwt_header),
                                                request.path)
    except InvalidToken as error:
        current_app.logger.warning("onlyoffice download refused: %s (token %s)", error.message, token_tail(url_token))
        return json_error_for(AccessDenied(error.message), ONLYOFFICE_STATUSES)
    response = Response(wrap_file(request.environ, stream), direct_passthrough=True,
                        mimetype="application/octet-stream")
    response.headers["Content-Length"] = str(version.size)
    response.headers["Cache-Control"] = "no-store"
    return response


@blueprint.post("/callback")
def callback() -> Response:
    """``editorConfig.callbackUrl``: the DS's status reports and saves."""
    service = driver_service()
    body = request.get_json(silent=True, force=True)
    answer = service.handle_callback(request.args.get("t", ""), body if isinstance(body, dict) else {},
                                     request.headers.get(service.options.jwt_header))
    response = jsonify(answer.body)
    response.status_code = answer.http_status
    return response


@blueprint.post("/heartbeat")
def heartbeat() -> Response:
    """The editor page of an editing session, every few minutes: renew the session's lock.
    423 with the holder when another writer has the file now."""
    _token, grant = _grant()
    key = _json_body().get("key")
    if not isinstance(key, str) or not key:
        raise BadRequest("key is required")
    lock = driver_service().heartbeat(grant, key)
    return jsonify(expires_at=lock.expires_at.isoformat().replace("+00:00", "Z"))


@blueprint.post("/history")
def history() -> Response:
    _token, grant = _grant()
    return jsonify(driver_service().history(grant))


@blueprint.post("/history-data")
def history_data() -> Response:
    _token, grant = _grant()
    version = _json_body().get("version", request.values.get("version"))
    try:
        number = int(version)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise BadRequest("version must be a number") from None
    return jsonify(driver_service().history_data(grant, number))


@blueprint.get("/changes")
def changes() -> Response:
    """The stored changes.zip of a version; the editor in the browser fetches it (CORS)."""
    service = driver_service()
    stream = service.open_changes(request.args.get("t", ""))
    response = Response(wrap_file(request.environ, stream), direct_passthrough=True, mimetype="application/zip")
    response.headers["Access-Control-Allow-Origin"] = origin_of(service.public_ds)
    return response


@blueprint.post("/restore")
def restore() -> Response:
    _token, grant = _grant()
    try:
        number = int(_json_body().get("version", request.values.get("version")))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise BadRequest("version must be a number") from None
    service = driver_service()
    service.restore(grant, number)
    return jsonify(service.history(grant))


@blueprint.post("/save-as")
def save_as() -> Response:
    _token, grant = _grant()
    body = _json_body()
    url, title = body.get("url"), body.get("title")
    if not isinstance(url, str) or not isinstance(title, str) or not title:
        raise BadRequest("url and title are required")
    created = driver_service().save_as(grant, url, title)
    return jsonify(file_id=str(created.id), name=created.name)


@blueprint.post("/rename")
def rename() -> Response:
    _token, grant = _grant()
    title = _json_body().get("title")
    if not isinstance(title, str) or not title.strip():
        raise BadRequest("title is required")
    renamed = driver_service().rename(grant, title)
    return jsonify(file_id=str(renamed.id), name=renamed.name)


@blueprint.get("/check-document")
def check_document_view() -> Response:
    """The small document the settings check asks the DS to convert."""
    service = driver_service()
    url_token = request.args.get("t", "")
    try:
        service.tokens.verify(url_token, audience=CHECK_AUDIENCE)
        if service.ds_tokens.enabled:
            service.verify_download_header(request.headers.get(service.options.jwt_header), request.path, url_token)
    except InvalidToken as error:
        return json_error_for(AccessDenied(error.message), ONLYOFFICE_STATUSES)
    content = check_document()
    response = Response(content, mimetype="application/vnd.openxmlformats-officedocument.wordprocessingml.document")
    response.headers["Content-Length"] = str(len(content))
    return response


def _require_admin() -> None:
    if not require_principal().is_admin:
        raise AccessDenied("only administrators may do this")


@admin_blueprint.get("/check")
def admin_check() -> Response:
    _require_admin()
    report = run_check(driver_service())
    response = jsonify(report.to_json())
    response.status_code = 200 if report.ok else 502
    return response


@admin_blueprint.post("/command")
def admin_command() -> Response:
    """``forcesave``, ``info`` or ``drop`` for the ONLYOFFICE session of ``file_id``."""
    _require_admin()
    body = _json_body()
    command = str(body.get("command") or request.values.get("command") or "")
    file_id = parse_resource_id(str(body.get("file_id") or request.values.get("file_id") or ""))
    service = driver_service()
    service.storage.stat(file_id)
    return jsonify(service.command(command, file_id))


def init_app(app: Flask, service: OnlyofficeService) -> None:
    app.extensions[EXTENSION_KEY] = service
    app.register_blueprint(blueprint)
    app.register_blueprint(admin_blueprint)
