"""``/api/v1/admin/policies``: the secure-view and watermark rules, for admins.

GET lists every rule in the order it applies: the settings file's (``read_only``, changed
only in the file) and then the admins' own, oldest first. POST adds a rule, PATCH changes
some of its fields, DELETE removes it. A rule is checked as a whole
(`core.policy.make_rule`) before it is stored; names are unique across both kinds.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Blueprint, Response, jsonify, request
from werkzeug.exceptions import HTTPException

from core.errors import AccessDenied, AlreadyExists, BadRequest, DocbridgeError
from core.policy import Rule, RuleError, make_rule
from server.auth import require_user
from server.errors import HTTP_CODES, json_error, json_error_for
from server.services import Services, services

blueprint = Blueprint("api_policies", __name__, url_prefix="/api/v1/admin/policies")

LIST_FIELDS = ("groups", "share_roles", "folders")
FIELDS = frozenset({"name", *LIST_FIELDS, "links", "secure_view", "watermark"})


@blueprint.errorhandler(DocbridgeError)
def _domain_error(error: DocbridgeError) -> Response:
    return json_error_for(error)


@blueprint.errorhandler(HTTPException)
def _http_error(error: HTTPException) -> Response:
    status = error.code or 500
    return json_error(status, HTTP_CODES.get(status, "SERVER_ERROR"), error.description or "")


def rule_json(rule: Rule) -> dict[str, Any]:
    return {
        "id": rule.id,
        "name": rule.name,
        "groups": sorted(rule.groups),
        "share_roles": sorted(rule.share_roles),
        "links": rule.links.value if rule.links is not None else None,
        "folders": sorted(rule.folders),
        "secure_view": rule.secure_view,
        "watermark": rule.watermark,
        "read_only": rule.read_only,
        "source": "settings" if rule.read_only else "admin",
    }


def _admin() -> Services:
    if not require_user().is_admin:
        raise AccessDenied("this needs an admin")
    return services()


def _body() -> dict[str, Any]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise BadRequest("the request body must be a JSON object")
    unknown = sorted(set(body) - FIELDS)
    if unknown:
        raise BadRequest(f"unknown field {unknown[0]!r}")
    return body


def _rule_from(values: Mapping[str, Any], rule_id: str = "") -> Rule:
    """A rule from a JSON object's fields, every type and value checked."""
    for field in LIST_FIELDS:
        items = values.get(field, [])
        if not isinstance(items, list) or not all(isinstance(item, str) for item in items):
            raise BadRequest(f"{field} must be a list of strings")
    for field in ("name", "watermark"):
        if not isinstance(values.get(field, ""), str):
            raise BadRequest(f"{field} must be text")
    links = values.get("links")
    if links is not None and not isinstance(links, str):
        raise BadRequest("links must be 'any', 'password', 'no_download' or null")
    if not isinstance(values.get("secure_view", False), bool):
        raise BadRequest("secure_view must be true or false")
    try:
        return make_rule(
            name=values.get("name", ""), rule_id=rule_id, groups=values.get("groups", []),
            share_roles=values.get("share_roles", []), links=links, folders=values.get("folders", []),
            secure_view=values.get("secure_view", False), watermark=values.get("watermark", ""),
        )
    except RuleError as error:
        raise BadRequest(f"{error.key}: {error.reason}") from None


def _check_name(found: Services, rule: Rule) -> None:
    if any(existing.name == rule.name for existing in found.policies.settings_rules):
        raise AlreadyExists(f"a policy named {rule.name!r} exists in the settings file")


def _stored(found: Services, rule_id: str) -> Rule:
    if any(existing.id == rule_id for existing in found.policies.settings_rules):
        raise AccessDenied("this policy is set in the settings file: change it there")
    return found.policies.store.get(rule_id)


@blueprint.get("")
def list_policies() -> Response:
    found = _admin()
    return jsonify(policies=[rule_json(rule) for rule in found.policies.rules()])


@blueprint.post("")
def create_policy() -> tuple[Response, int]:
    found = _admin()
    rule = _rule_from(_body())
    _check_name(found, rule)
    created = found.policies.store.create(rule, require_user().user_id)
    return jsonify(rule_json(created)), 201


@blueprint.get("/<rule_id>")
def get_policy(rule_id: str) -> Response:
    found = _admin()
    for rule in found.policies.settings_rules:
        if rule.id == rule_id:
            return jsonify(rule_json(rule))
    return jsonify(rule_json(found.policies.store.get(rule_id)))


@blueprint.patch("/<rule_id>")
def change_policy(rule_id: str) -> Response:
    found = _admin()
    current = rule_json(_stored(found, rule_id))
    changed = _rule_from({**{key: current[key] for key in FIELDS}, **_body()}, rule_id)
    _check_name(found, changed)
    return jsonify(rule_json(found.policies.store.replace(rule_id, changed)))


@blueprint.delete("/<rule_id>")
def delete_policy(rule_id: str) -> tuple[str, int]:
    found = _admin()
    _stored(found, rule_id)
    found.policies.store.delete(rule_id)
    return "", 204
