"""HTTP edge of the app registry: the oCIS-compatible ``/app/*`` routes, the OCS
capabilities and the external providers' registration API. (``/external``, the page
``/app/open-with-web`` points at, belongs to the web UI: ``web/views.py``.)

Views read parameters (query string and form body alike), call `registry.service`, and shape
the answer; every error is ``{"code", "message"}`` as JSON with the domain error's status.
"""

from __future__ import annotations

import hmac
import logging
import xml.etree.ElementTree as ElementTree
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Flask, Response, jsonify, request
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from core.errors import (
    AccessDenied,
    AlreadyExists,
    BadRequest,
    Conflict,
    DocbridgeError,
    NotFound,
    NotImplementedFeature,
    PayloadTooLarge,
    ServerError,
    StorageUnavailable,
    TooEarly,
    Unauthenticated,
)
from registry.commands import registry_group
from registry.external import SECRET_HEADER, ProviderStore, StoredRegistration, parse_registration
from registry.providers import Launch
from registry.rules import external_uri
from registry.service import OpenParams, group_names_of, new_file, open_in_app, usable_apps
from server.auth import current_principal, require_principal
from server.errors import HTTP_CODES, ErrorStatus, ErrorTable, json_error, json_error_for, lock_json
from server.services import Services, services
from storage.lock_rules import holder_of

log = logging.getLogger(__name__)

blueprint = Blueprint("registry", __name__)

# Paths are relative to the server root, as oCIS advertises them.
APP_PROVIDERS_CAPABILITY = {
    "enabled": True,
    "version": "1.1.0",
    "apps_url": "/app/list",
    "open_url": "/app/open",
    "open_web_url": "/app/open-with-web",
    "new_url": "/app/new",
    "new_file_url": "/app/new",
}
_OTHER_METHODS = ["GET", "PUT", "PATCH", "DELETE", "OPTIONS"]
# The one method each /app/* route answers; any other gets the contract's JSON 405.
_ROUTE_METHOD = {"/app/list": "GET", "/app/open": "POST", "/app/open-with-web": "POST", "/app/new": "POST"}


def init_app(app: Flask) -> None:
    """Serve the routes and the ``flask registry`` commands; the catalog the drivers register
    with is built with the services (``server.bootstrap``)."""
    app.register_blueprint(blueprint)
    app.cli.add_command(registry_group)


# --- errors ----------------------------------------------------------------------------------


# The contract's codes (docs: app-registry.md); a class not listed is answered as its
# nearest listed ancestor.
REGISTRY_STATUSES: ErrorTable = {
    DocbridgeError: ErrorStatus(500, "SERVER_ERROR"),
    BadRequest: ErrorStatus(400, "INVALID_PARAMETER"),
    Unauthenticated: ErrorStatus(401, "UNAUTHENTICATED"),
    AccessDenied: ErrorStatus(403, "PERMISSION_DENIED"),
    AlreadyExists: ErrorStatus(403, "RESOURCE_ALREADY_EXISTS"),
    NotFound: ErrorStatus(404, "RESOURCE_NOT_FOUND"),
    TooEarly: ErrorStatus(425, "TOO_EARLY"),
    ServerError: ErrorStatus(500, "SERVER_ERROR"),
    NotImplementedFeature: ErrorStatus(501, "NOT_IMPLEMENTED"),
    # Not in the contract's table; only the providers' registration API raises these.
    Conflict: ErrorStatus(409, "CONFLICT"),
    PayloadTooLarge: ErrorStatus(413, "PAYLOAD_TOO_LARGE"),
    StorageUnavailable: ErrorStatus(503, "SERVER_ERROR"),
}


@blueprint.errorhandler(DocbridgeError)
def _domain_error(error: DocbridgeError) -> Response:
    return json_error_for(error, REGISTRY_STATUSES)


@blueprint.errorhandler(HTTPException)
def _http_error(error: HTTPException) -> Response:
    status = error.code or 500
    return json_error(status, HTTP_CODES.get(status, "SERVER_ERROR"), error.description or "")


@blueprint.app_errorhandler(MethodNotAllowed)
def _unrouted_method(error: MethodNotAllowed) -> Response | MethodNotAllowed:
    # Methods no route lists (PROPFIND, TRACE, …) fail in routing, before any blueprint
    # handler: answer them on our routes as the listed ones are answered.
    allowed = _ROUTE_METHOD.get(request.path)
    return error if allowed is None else _method_not_allowed(allowed)


def _method_not_allowed(allowed: str) -> Response:
    response = json_error(405, "METHOD_NOT_ALLOWED", f"use {allowed} on this route")
    response.headers["Allow"] = allowed
    return response


# --- /app/* ------------------------------------------------------------------------------------


def _param(name: str) -> str:
    """A parameter from an urlencoded form body or the query string (clients send both);
    the body wins when both carry it, as in oCIS (Go's ``Request.Form``)."""
    if name in request.form:
        return request.form[name]
    return request.args.get(name, "")


def _open_params() -> OpenParams:
    return OpenParams(
        file_id=_param("file_id"),
        app_name=_param("app_name"),
        view_mode=_param("view_mode"),
        lang=_param("lang"),
        template_id=_param("template_id"),
    )


def launch_json(launch: Launch) -> dict[str, Any]:
    body: dict[str, Any] = {"app_url": launch.app_url, "method": launch.method}
    if launch.form_parameters:
        body["form_parameters"] = dict(launch.form_parameters)
    if launch.headers:
        body["headers"] = dict(launch.headers)
    return body


@blueprint.get("/app/list", provide_automatic_options=False)
def app_list() -> Response:
    """GET /app/list (no authentication needed): the mimetypes some live app opens, with
    their apps; a caller who authenticates sees only the apps their groups may use, an
    anonymous one only the apps open to everybody."""
    found = services()
    try:
        principal = current_principal()
    except Unauthenticated:
        principal = None
    listing = found.catalog.list_mimetypes(usable_apps(found, group_names_of(found, principal)))
    return jsonify({"mime-types": [entry.to_json() for entry in listing]})


@blueprint.post("/app/open", provide_automatic_options=False)
def app_open() -> Response:
    """POST /app/open: file_id, app_name?, view_mode?, lang?, template_id? → the launch."""
    principal = require_principal()
    opened = open_in_app(services(), principal, _open_params())
    body = launch_json(opened.launch)
    if opened.locked_by is not None:
        # Beyond the oCIS contract: why the file opens read-only.
        body["locked_by"] = lock_json(holder_of(opened.locked_by))
        body["message"] = opened.message
    return jsonify(body)


@blueprint.post("/app/open-with-web", provide_automatic_options=False)
def app_open_with_web() -> Response:
    """POST /app/open-with-web: as /app/open, answered with the URI of Docbridge's page."""
    principal = require_principal()
    found = services()
    opened = open_in_app(found, principal, _open_params())
    return jsonify(uri=external_uri(found.settings.public_base, opened.app_name, str(opened.file.id)))


@blueprint.post("/app/new", provide_automatic_options=False)
def app_new() -> Response:
    """POST /app/new: parent_container_id, filename, template? → {"file_id"}."""
    principal = require_principal()
    node = new_file(services(), principal, _param("parent_container_id"), _param("filename"), _param("template"))
    return jsonify(file_id=str(node.id))


@blueprint.route("/app/list", methods=["POST", "PUT", "PATCH", "DELETE", "OPTIONS"])
def app_list_other_method() -> Response:
    return _method_not_allowed("GET")


@blueprint.route("/app/open", methods=_OTHER_METHODS, endpoint="app_open_other_method")
@blueprint.route("/app/open-with-web", methods=_OTHER_METHODS, endpoint="app_open_with_web_other_method")
@blueprint.route("/app/new", methods=_OTHER_METHODS, endpoint="app_new_other_method")
def app_post_only() -> Response:
    return _method_not_allowed("POST")


# --- capabilities -----------------------------------------------------------------------------------


@blueprint.get("/ocs/v1.php/cloud/capabilities")
def capabilities_v1() -> Response:
    return _capabilities(100)


@blueprint.get("/ocs/v2.php/cloud/capabilities")
def capabilities_v2() -> Response:
    return _capabilities(200)


def _capabilities(statuscode: int) -> Response:
    """OCS capabilities (JSON with ``format=json``, XML otherwise); the app registry's part."""
    document = {
        "ocs": {
            "meta": {"status": "ok", "statuscode": statuscode, "message": "OK"},
            "data": {"capabilities": {"files": {"app_providers": [APP_PROVIDERS_CAPABILITY]}}},
        }
    }
    if request.args.get("format") == "json":
        return jsonify(document)
    root = _xml_element("ocs", document["ocs"])
    body = ElementTree.tostring(root, encoding="unicode", xml_declaration=True)
    return Response(body, mimetype="text/xml")


def _xml_element(name: str, value: Any) -> ElementTree.Element:
    element = ElementTree.Element(name)
    if isinstance(value, dict):
        for key, item in value.items():
            element.append(_xml_element(key, item))
    elif isinstance(value, list):
        for item in value:
            element.append(_xml_element("element", item))
    elif isinstance(value, bool):
        element.text = "1" if value else "0"
    else:
        element.text = str(value)
    return element


# --- external providers' registration -------------------------------------------------------------


def _store() -> ProviderStore:
    store: ProviderStore = services().providers
    return store


def _check_registration_secret(found: Services) -> None:
    expected = found.settings.app_registry.provider_secret
    if not expected:
        raise AccessDenied("provider registration is disabled: app_registry.provider_secret is not set")
    given = request.headers.get(SECRET_HEADER, "")
    if not hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8")):
        raise Unauthenticated(f"missing or wrong {SECRET_HEADER}")


def _registration_json(stored: StoredRegistration) -> dict[str, Any]:
    provider = stored.registration.provider
    return {
        "name": provider.name,
        "mimetypes": list(provider.mimetypes),
        "ttl_seconds": stored.registration.ttl_seconds,
        "registered_at": _iso(stored.registered_at),
        "expires_at": _iso(stored.expires_at),
    }


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


@blueprint.post("/api/v1/app-providers")
def register_provider() -> tuple[Response, int]:
    """Register or renew an external provider (docs/app-registry.md, "External providers")."""
    found = services()
    _check_registration_secret(found)
    body = request.get_json(silent=True)
    if body is None:
        raise BadRequest("the registration must be a JSON object")
    registration = parse_registration(body, found.settings.app_registry.max_provider_ttl_seconds)
    _store().launch_client.check_launch_url(registration.launch_url)
    catalog = found.catalog
    if registration.provider.name in catalog.builtin_names():
        raise AccessDenied(f"the name {registration.provider.name!r} belongs to a built-in app")
    stored = _store().upsert(registration, catalog.now())
    log.info("app provider %s registered until %s", registration.provider.name, _iso(stored.expires_at))
    return jsonify(_registration_json(stored)), 200


@blueprint.post("/api/v1/app-providers/<name>/heartbeat")
def provider_heartbeat(name: str) -> Response:
    """Extend a live registration; 404 tells the provider to register again."""
    found = services()
    _check_registration_secret(found)
    body = request.get_json(silent=True) or {}
    ttl = body.get("ttl_seconds") if isinstance(body, dict) else None
    if ttl is not None and (not isinstance(ttl, int) or isinstance(ttl, bool) or ttl < 1):
        raise BadRequest("ttl_seconds must be a whole number of seconds, at least 1")
    stored = _store().heartbeat(
        name, found.catalog.now(), ttl, found.settings.app_registry.max_provider_ttl_seconds
    )
    if stored is None:
        raise NotFound(f"no live registration named {name!r}: register again")
    return jsonify(_registration_json(stored))


@blueprint.delete("/api/v1/app-providers/<name>")
def deregister_provider(name: str) -> tuple[str, int]:
    found = services()
    _check_registration_secret(found)
    if not _store().remove(name):
        raise NotFound(f"no registration named {name!r}")
    log.info("app provider %s deregistered", name)
    return "", 204
