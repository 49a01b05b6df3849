"""The /api/v1 views: translate HTTP to `api.service` calls and back, nothing more.

Errors are ``{"code": …, "message": …}`` with the status `server.errors.STATUSES` gives
the domain error, the same shape as the app registry's."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, Flask, Response, jsonify, request
from werkzeug.exceptions import HTTPException

from api import policies as admin_policies
from api import service as files
from api.openapi import openapi_document
from core.errors import AccessDenied, BadRequest, DocbridgeError
from core.ids import ResourceId, parse_resource_id
from server.auth import require_principal, require_user
from server.downloads import stream_content
from server.errors import HTTP_CODES, json_error, json_error_for, lock_json
from server.services import services
from storage.access import Permissions, Principal
from storage.lock_rules import holder_of
from storage.types import Link, Lock, Node, Share, User, Version

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


def access_json(principal: Principal, node: Node, permissions: Permissions) -> dict[str, Any]:
    """What the caller may do with a node: the permissions, their role ("owner" for the
    owner), whether secure view lets them download it and, when a share gives it, who
    shared it."""
    owner = principal.link is None and node.owner_id == principal.user_id
    role = "owner" if owner else (permissions.role.value if permissions.role else None)
    shown: dict[str, Any] = {
        "permissions": {
            "read": permissions.read,
            "write": permissions.write,
            "share": permissions.share,
            "share_up_to": permissions.share_up_to.value if permissions.share_up_to else None,
        },
        "role": role,
    }
    # Secure view: the content (of a folder: of what is in it, as far as the rules say so
    # for the folder itself) is refused to this caller.
    shown["can_download"] = not services().policies.effects(principal, node).secure_view
    if permissions.via_share is not None:
        sharer = services().users.find(permissions.via_share.created_by)
        shown["shared_by"] = _person_json(sharer) if sharer else None
    return shown


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
        "no_download": link.no_download,
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


def _flag(value: Any, message: str) -> bool:
    if not isinstance(value, bool):
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
    principal = require_principal()
    listing = files.container(services(), principal, _id(container_id))
    return jsonify(
        **node_json(listing.folder),
        **access_json(principal, listing.folder, listing.permissions),
        path=[node_json(item) for item in listing.path],
        children=[
            {**node_json(child, listing.locks.get(child.id)), "shared": child.id in listing.shared}
            for child in listing.children
        ],
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
    principal = require_principal()
    info = files.node_info(services(), principal, _id(file_id))
    return jsonify(**node_json(info.node, info.lock), **access_json(principal, info.node, info.permissions))


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
        no_download=_flag(body.get("no_download", False), "no_download must be true or false"),
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


# --- shares, groups, people ---------------------------------------------------------------


def share_json(share: Share) -> dict[str, Any]:
    return {
        "id": share.id,
        "node_id": str(share.node_id),
        share.grantee_kind.value: share.grantee_name,
        "role": share.role.value,
        "can_share": share.can_share,
        "created": _time(share.created),
    }


def _person_json(user: User) -> dict[str, str]:
    shown = {"name": user.name, "display_name": user.display_name}
    if services().settings.sharing.show_email and user.email:
        shown["email"] = user.email
    return shown


def _new_share() -> files.NewShare:
    body = _json_body()
    user, group, role, can_share = body.get("user"), body.get("group"), body.get("role", ""), body.get("can_share", False)
    if (user is not None and not isinstance(user, str)) or (group is not None and not isinstance(group, str)):
        raise BadRequest("user and group are names")
    if not isinstance(role, str):
        raise BadRequest("role must be text")
    if not isinstance(can_share, bool):
        raise BadRequest("can_share must be true or false")
    return files.NewShare(user=user, group=group, role=role, can_share=can_share)


@blueprint.post("/files/<node_id>/shares")
@blueprint.post("/containers/<node_id>/shares")
def create_share(node_id: str) -> tuple[Response, int]:
    share = files.create_share(services(), require_user(), _id(node_id), _new_share())
    return jsonify(share_json(share)), 201


@blueprint.get("/files/<node_id>/shares")
@blueprint.get("/containers/<node_id>/shares")
def list_shares(node_id: str) -> Response:
    shares = files.list_shares(services(), require_user(), _id(node_id))
    return jsonify(shares=[share_json(share) for share in shares])


@blueprint.patch("/files/<node_id>/shares/<share_id>")
@blueprint.patch("/containers/<node_id>/shares/<share_id>")
def change_share(node_id: str, share_id: str) -> Response:
    body = _json_body()
    role, can_share = body.get("role"), body.get("can_share")
    if role is not None and not isinstance(role, str):
        raise BadRequest("role must be text")
    if can_share is not None and not isinstance(can_share, bool):
        raise BadRequest("can_share must be true or false")
    share = files.change_share(services(), require_user(), _id(node_id), share_id, role, can_share)
    return jsonify(share_json(share))


@blueprint.delete("/files/<node_id>/shares/<share_id>")
@blueprint.delete("/containers/<node_id>/shares/<share_id>")
def revoke_share(node_id: str, share_id: str) -> tuple[str, int]:
    files.revoke_share(services(), require_user(), _id(node_id), share_id)
    return "", 204


@blueprint.get("/shared-with-me")
def shared_with_me() -> Response:
    received = files.shared_with_me(services(), require_user())
    return jsonify(items=[
        {
            **node_json(item.node),
            "role": item.role.value,
            "sharer": _person_json(item.sharer) if item.sharer else None,
            "via_group": item.via_group or None,
        }
        for item in received
    ])


@blueprint.get("/users")
def find_people() -> Response:
    require_user()
    found_users, found_groups = files.find_people(services(), request.args.get("q", ""))
    return jsonify(
        users=[_person_json(user) for user in found_users],
        groups=[{"name": group.name, "display_name": group.display_name} for group in found_groups],
    )


def _require_admin() -> None:
    if not require_user().is_admin:
        raise AccessDenied("this needs an admin")


@blueprint.get("/groups")
def list_groups() -> Response:
    _require_admin()
    listed = services().groups.with_member_counts()
    return jsonify(groups=[
        {"name": group.name, "display_name": group.display_name, "source": group.source, "members": count}
        for group, count in listed
    ])


@blueprint.post("/groups")
def create_group() -> tuple[Response, int]:
    _require_admin()
    body = _json_body()
    name, display_name = body.get("name"), body.get("display_name", "")
    if not isinstance(name, str) or not isinstance(display_name, str):
        raise BadRequest("name (and display_name) must be text")
    group = services().groups.create(name, display_name)
    return jsonify(name=group.name, display_name=group.display_name, source=group.source, members=0), 201


@blueprint.get("/groups/<name>/members")
def group_members(name: str) -> Response:
    _require_admin()
    return jsonify(members=services().groups.members(name))


@blueprint.post("/groups/<name>/members/<user_name>")
def add_group_member(name: str, user_name: str) -> tuple[str, int]:
    _require_admin()
    found = services()
    found.groups.add_member(name, found.users.by_name(user_name).id)
    return "", 204


@blueprint.delete("/groups/<name>/members/<user_name>")
def remove_group_member(name: str, user_name: str) -> tuple[str, int]:
    _require_admin()
    found = services()
    found.groups.remove_member(name, found.users.by_name(user_name).id)
    return "", 204


@blueprint.delete("/groups/<name>")
def delete_group(name: str) -> tuple[str, int]:
    _require_admin()
    services().groups.delete(name)
    return "", 204


def init_app(app: Flask) -> None:
    app.register_blueprint(blueprint)
    app.register_blueprint(admin_policies.blueprint)
