"""The /api/v1 views: translate HTTP to storage calls and back, nothing more.

Errors are ``{"code": …, "message": …}`` with the status `server.errors.STATUSES` gives
the domain error, the same shape as the app registry's."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, Flask, Response, jsonify, request
from werkzeug.exceptions import HTTPException

from api.openapi import openapi_document
from core.errors import AccessDenied, BadRequest, DocbridgeError, NotFound
from core.ids import ResourceId, parse_resource_id
from server.auth import require_principal, require_user
from server.downloads import stream_content
from server.errors import HTTP_CODES, json_error, json_error_for
from server.services import services
from storage.types import Link, LinkRole, Node, Version

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


def node_json(node: Node) -> dict[str, Any]:
    return {
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


def etag_for(version_number: int, sha256: str) -> str:
    return f"v{version_number}-{sha256[:20]}"


# --- helpers --------------------------------------------------------------------------------


def _id(text: str) -> ResourceId:
    return parse_resource_id(text, "id")


def _json_body() -> dict[str, Any]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise BadRequest("the request body must be a JSON object")
    return body


def _upload_limit() -> int | None:
    limit = services().settings.storage.max_upload_bytes
    return limit or None


def _expected_version(node: Node) -> int | None:
    """`If-Match` with a version ETag makes an upload conditional (lost-update guard)."""
    wanted = request.headers.get("If-Match")
    if not wanted or wanted.strip() == "*":
        return None
    current = etag_for(node.version, node.sha256)
    tags = [tag.strip().strip('"').removeprefix("W/").strip('"') for tag in wanted.split(",")]
    return node.version if current in tags else -1


def _send_version(file: Node, number: int | None) -> Response:
    version, content = services().storage.open_version(file.id, number)
    return stream_content(
        content,
        size=version.size,
        mimetype=file.mimetype,
        download_name=file.name,
        etag=etag_for(version.number, version.sha256),
        last_modified=version.created,
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
    principal = require_principal()
    found = services()
    folder = found.access.check(principal, _id(container_id))
    if not folder.is_folder:
        raise BadRequest("the id does not point to a folder")
    path = [node_json(item) for item in found.storage.ancestors(folder.id)]
    permissions = found.access.permissions(principal, folder)
    return jsonify(
        **node_json(folder),
        path=path,
        permissions={"read": permissions.read, "write": permissions.write, "share": permissions.share},
        children=[node_json(child) for child in found.storage.list_folder(folder.id)],
    )


@blueprint.post("/containers/<container_id>/folders")
def create_folder(container_id: str) -> tuple[Response, int]:
    principal = require_principal()
    found = services()
    parent = found.access.check(principal, _id(container_id), write=True, read=False)
    name = _json_body().get("name")
    if not isinstance(name, str):
        raise BadRequest("missing folder name")
    folder = found.storage.create_folder(parent.id, name)
    return jsonify(id=str(folder.id), **{"folder": node_json(folder)}), 201


@blueprint.put("/containers/<container_id>/files/<path:name>")
def put_file(container_id: str, name: str) -> tuple[Response, int]:
    principal = require_principal()
    found = services()
    parent = found.access.check(principal, _id(container_id), write=True, read=False)
    if not parent.is_folder:
        raise BadRequest("the id does not point to a folder")
    origin = principal.origin("upload")
    if not found.access.permissions(principal, parent).read:
        # A drop-box visitor (uploader link) never sees, and so never replaces, what is there.
        name = found.storage.free_child_name(parent.id, name)
    existing = found.storage.find_child(parent.id, name)
    if existing is None:
        created = found.storage.create_file(parent.id, name, request.stream, origin, max_bytes=_upload_limit())
        return jsonify(file_id=str(created.id), version=created.version), 201
    if existing.is_folder:
        raise BadRequest(f"{name!r} is a folder")
    found.access.check(principal, existing.id, write=True, read=False)
    version = found.storage.write_version(
        existing.id, request.stream, origin, expected_version=_expected_version(existing), max_bytes=_upload_limit()
    )
    return jsonify(file_id=str(existing.id), version=version.number), 200


@blueprint.get("/files/<file_id>")
def get_file(file_id: str) -> Response:
    node = services().access.check(require_principal(), _id(file_id))
    return jsonify(node_json(node))


@blueprint.get("/files/<file_id>/content")
def get_content(file_id: str) -> Response:
    node = services().access.check(require_principal(), _id(file_id))
    if node.is_folder:
        raise BadRequest("the id does not point to a file")
    return _send_version(node, None)


@blueprint.get("/files/<file_id>/versions")
def list_versions(file_id: str) -> Response:
    found = services()
    node = found.access.check(require_principal(), _id(file_id))
    return jsonify(versions=[version_json(item) for item in found.storage.list_versions(node.id)])


@blueprint.get("/files/<file_id>/versions/<int:number>/content")
def get_version_content(file_id: str, number: int) -> Response:
    node = services().access.check(require_principal(), _id(file_id))
    return _send_version(node, number)


@blueprint.post("/files/<file_id>/versions/<int:number>/restore")
def restore_version(file_id: str, number: int) -> Response:
    principal = require_principal()
    found = services()
    node = found.access.check(principal, _id(file_id), write=True)
    version = found.storage.restore_version(node.id, number, principal.origin("restore", comment=f"restored from version {number}"))
    return jsonify(version_json(version))


@blueprint.patch("/files/<file_id>")
def rename(file_id: str) -> Response:
    principal = require_principal()
    found = services()
    node = found.access.check(principal, _id(file_id), write=True)
    name = _json_body().get("name")
    if not isinstance(name, str):
        raise BadRequest("missing name")
    if principal.link is not None and principal.link.node_id == node.id:
        raise AccessDenied("a public link cannot rename what it points to")
    return jsonify(node_json(found.storage.rename(node.id, name)))


@blueprint.delete("/files/<file_id>")
def delete(file_id: str) -> tuple[str, int]:
    principal = require_principal()
    found = services()
    node = found.access.check(principal, _id(file_id), write=True)
    if principal.link is not None and principal.link.node_id == node.id:
        raise AccessDenied("a public link cannot delete what it points to")
    found.storage.delete(node.id)
    return "", 204


@blueprint.post("/files/<file_id>/links")
def create_link(file_id: str) -> tuple[Response, int]:
    principal = require_user()
    found = services()
    node = found.access.check(principal, _id(file_id))
    if not found.access.permissions(principal, node).share:
        raise AccessDenied("permission denied to share")
    body = _json_body()
    try:
        role = LinkRole(body.get("role", ""))
    except ValueError:
        raise BadRequest("role must be 'viewer', 'editor' or 'uploader'") from None
    if role is LinkRole.UPLOADER and not node.is_folder:
        raise BadRequest("an uploader link needs a folder")
    password = body.get("password") or None
    if password is not None and not isinstance(password, str):
        raise BadRequest("password must be text")
    expires_at = _parse_time(body.get("expires_at"))
    link = found.links.create(node.id, role, principal.user_id, password=password, expires_at=expires_at)
    return jsonify(link_json(link)), 201


def _parse_time(value: Any) -> datetime | None:
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise BadRequest("expires_at must be an ISO 8601 time")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise BadRequest("expires_at must be an ISO 8601 time") from None
    if parsed.tzinfo is None:
        raise BadRequest("expires_at must carry a time zone (e.g. Z)")
    return parsed


@blueprint.get("/files/<file_id>/links")
def list_links(file_id: str) -> Response:
    principal = require_user()
    found = services()
    node = found.access.check(principal, _id(file_id))
    if not found.access.permissions(principal, node).share:
        raise AccessDenied("permission denied to share")
    return jsonify(links=[link_json(link) for link in found.links.list_for(node.id)])


@blueprint.delete("/links/<link_id>")
def revoke_link(link_id: str) -> tuple[str, int]:
    principal = require_user()
    found = services()
    try:
        link = found.links.get(link_id)
        node = found.access.check(principal, link.node_id)
    except NotFound:
        raise NotFound("no such link") from None
    if not found.access.permissions(principal, node).share:
        raise NotFound("no such link")
    found.links.revoke(link.id)
    return "", 204



def init_app(app: Flask) -> None:
    app.register_blueprint(blueprint)
