"""The /api/v1 views: translate HTTP to `api.service` calls and back, nothing more.

Errors are ``{"code": …, "message": …}`` with the status `server.errors.STATUSES` gives
the domain error, the same shape as the app registry's."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, Flask, Response, jsonify, request
from werkzeug.exceptions import HTTPException

from api import service as files
from api.openapi import openapi_document
from core.errors import BadRequest, DocbridgeError
from core.ids import ResourceId, parse_resource_id
from server.auth import require_principal, require_user
from server.downloads import stream_content
from server.errors import HTTP_CODES, json_error, json_error_for, lock_json
from server.services import services
from storage.lock_rules import holder_of
from storage.types import Link, Lock, Node, Version

blueprint = Blueprint("api", __name__, url_prefix="/api/v1")


@blueprint.errorhandler(DocbridgeError)
def _domain_error(error: DocbridgeError) -> Response:
    return json_error_for(error)


@blueprint.errorhandler(HTTPException)
def _http_error(error: HTTPException) -> Response:
    status = error.code or 500
    return json_error(status, HTTP_CODES.get(status, "SERVER_ERROR"), error.description or "")


# --- shapes -------------------------------------------------------------------------------


def _time(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


def node_json(node: Node, lock: Lock | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": str(node.id),
        "name": node.name,
        "type": node.kind.value,
        "mimetype": node.mimetype,
        "size": node.size,
        "version": node.version,
        "sha256": node.sha256,
        "created": _time(node.created),
        "modified": _time(node.modified),
        "parent_id": str(node.parent_id) if node.parent_id else None,
    }
    if not node.is_folder:
        body["lock"] = lock_json(holder_of(lock)) if lock is not None else None
    return body


def version_json(version: Version) -> dict[str, Any]:
    return {
        "version": version.number,
        "size": version.size,
        "sha256": version.sha256,
        "author_id": version.author_id,
        "author": version.author_name,
        "created": _time(version.created),
        "current": version.is_current,
        "recovered": version.recovered,
        "source": version.source,
        "comment": version.comment,
        "edited": _time(version.edited) if version.edited else None,
        "save_kind": version.save_kind.value if version.save_kind else None,
        "modified_by_user": version.modified_by_user,
    }


def link_json(link: Link) -> dict[str, Any]:
    return {
        "id": link.id,
        "token": link.token,
        "url": public_link_url(link),
        "node_id": str(link.node_id),
        "role": link.role.value,
        "has_password": link.has_password,
        "expires_at": _time(link.expires_at) if link.expires_at else None,
        "created": _time(link.created),
    }


def public_link_url(link: Link) -> str:
    return f"{services().settings.public_base}/s/{link.token}"


# --- helpers --------------------------------------------------------------------------------


def _id(text: str) -> ResourceId:
    return parse_resource_id(text, "id")


def _json_body() -> dict[str, Any]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise BadRequest("the request body must be a JSON object")
    return body


def _name(message: str) -> str:
    name = _json_body().get("name")
    if not isinstance(name, str):
        raise BadRequest(message)
    return name


def _optional_text(value: Any, message: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise BadRequest(message)
    return value


def _send(content: files.Content) -> Response:
    return stream_content(
        content.stream,
        size=content.version.size,
        mimetype=content.file.mimetype,
        download_name=content.file.name,
        etag=files.etag_for(content.version.number, content.version.sha256),
        last_modified=content.version.created,
    )


# --- views ------------------------------------------------------------------------------------


@blueprint.get("/openapi.json")
def openapi() -> Response:
    return jsonify(openapi_document(services().settings.public_base))


@blueprint.get("/me")
def me() -> Response:
    principal = require_user()
    user = services().users.get(principal.user_id)
    return jsonify(
        id=user.id, name=user.name, display_name=user.display_name, is_admin=user.is_admin, home_id=str(user.home_id)
    )


@blueprint.get("/containers/<container_id>")
def get_container(container_id: str) -> Response:
    listing = files.container(services(), require_principal(), _id(container_id))
    permissions = listing.permissions
    return jsonify(
        **node_json(listing.folder),
        path=[node_json(item) for item in listing.path],
        permissions={"read": permissions.read, "write": permissions.write, "share": permissions.share},
        children=[node_json(child, listing.locks.get(child.id)) for child in listing.children],
    )


@blueprint.post("/containers/<container_id>/folders")
def create_folder(container_id: str) -> tuple[Response, int]:
    principal = require_principal()
    folder = files.create_folder(services(), principal, _id(container_id), _name("missing folder name"))
    return jsonify(id=str(folder.id), folder=node_json(folder)), 201


@blueprint.put("/containers/<container_id>/files/<path:name>")
def put_file(container_id: str, name: str) -> tuple[Response, int]:
    principal = require_principal()
    saved = files.upload(services(), principal, _id(container_id), name, request.stream, request.headers.get("If-Match"))
    return jsonify(file_id=str(saved.file_id), version=saved.version), 201 if saved.created else 200


@blueprint.get("/files/<file_id>")
def get_file(file_id: str) -> Response:
    info = files.node_info(services(), require_principal(), _id(file_id))
    return jsonify(node_json(info.node, info.lock))


@blueprint.get("/files/<file_id>/content")
def get_content(file_id: str) -> Response:
    return _send(files.open_content(services(), require_principal(), _id(file_id)))


@blueprint.get("/files/<file_id>/versions")
def list_versions(file_id: str) -> Response:
    versions = files.list_versions(services(), require_principal(), _id(file_id))
    return jsonify(versions=[version_json(item) for item in versions])


@blueprint.get("/files/<file_id>/versions/<int:number>/content")
def get_version_content(file_id: str, number: int) -> Response:
    return _send(files.open_content(services(), require_principal(), _id(file_id), number))


@blueprint.post("/files/<file_id>/versions/<int:number>/restore")
def restore_version(file_id: str, number: int) -> Response:
    return jsonify(version_json(files.restore_version(services(), require_principal(), _id(file_id), number)))


@blueprint.patch("/files/<file_id>")
def rename(file_id: str) -> Response:
    principal = require_principal()
    return jsonify(node_json(files.rename(services(), principal, _id(file_id), _name("missing name"))))


@blueprint.delete("/files/<file_id>")
def delete(file_id: str) -> tuple[str, int]:
    files.delete(services(), require_principal(), _id(file_id))
    return "", 204


@blueprint.post("/files/<file_id>/links")
def create_link(file_id: str) -> tuple[Response, int]:
    principal = require_user()
    node_id = _id(file_id)
    body = _json_body()
    role = body.get("role", "")
    wanted = files.NewLink(
        role=role if isinstance(role, str) else "",
        password=_optional_text(body.get("password") or None, "password must be text"),
        expires_at=_optional_text(body.get("expires_at"), "expires_at must be an ISO 8601 time"),
    )
    return jsonify(link_json(files.create_link(services(), principal, node_id, wanted))), 201


@blueprint.get("/files/<file_id>/links")
def list_links(file_id: str) -> Response:
    links = files.list_links(services(), require_user(), _id(file_id))
    return jsonify(links=[link_json(link) for link in links])


@blueprint.delete("/links/<link_id>")
def revoke_link(link_id: str) -> tuple[str, int]:
    files.revoke_link(services(), require_user(), link_id)
    return "", 204


def init_app(app: Flask) -> None:
    app.register_blueprint(blueprint)
