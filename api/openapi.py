"""The OpenAPI 3.1 description of /api/v1, served at /api/v1/openapi.json."""

from __future__ import annotations

from typing import Any

_ERROR = {"$ref": "#/components/schemas/Error"}
_LOCKED = {"$ref": "#/components/schemas/Locked"}
_ID = {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}, "description": "storage$space!opaque"}


def _json(schema: dict[str, Any], description: str = "OK") -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*codes: int) -> dict[str, Any]:
    names = {400: "Bad request", 401: "Not authenticated", 403: "Forbidden", 404: "Not found", 409: "Conflict",
             413: "Too large", 423: "Another writer (a WOPI client, an ONLYOFFICE session) holds the file"}
    return {str(code): _json(_LOCKED if code == 423 else _ERROR, names[code]) for code in codes}


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}"}


_NAME = {"name": "name", "in": "path", "required": True, "schema": {"type": "string"}, "description": "group name"}
_USER = {"name": "user", "in": "path", "required": True, "schema": {"type": "string"}, "description": "user name"}
_SHARE = {"name": "share_id", "in": "path", "required": True, "schema": {"type": "string"}}


def _share_paths(kind: str) -> dict[str, Any]:
    """The share routes, the same under /files/{id} and /containers/{id}."""
    listed = _json({"type": "object", "properties": {"shares": {"type": "array", "items": _ref("Share")}}})
    return {
        f"/{kind}/{{id}}/shares": {
            "get": {"summary": "Shares with users and groups", "parameters": [_ID], "responses": {"200": listed, **_errors(401, 403, 404)}},
            "post": {
                "summary": "Share with a user or a group (owners, and recipients who may share on, up to their own role)",
                "parameters": [_ID],
                "requestBody": {"required": True, "content": {"application/json": {"schema": _ref("NewShare")}}},
                "responses": {"201": _json(_ref("Share"), "Created"), **_errors(400, 401, 403, 404, 409)},
            },
        },
        f"/{kind}/{{id}}/shares/{{share_id}}": {
            "patch": {
                "summary": "Change a share's role or whether it may be shared on",
                "parameters": [_ID, _SHARE],
                "requestBody": {"required": True, "content": {"application/json": {"schema": _ref("ShareChange")}}},
                "responses": {"200": _json(_ref("Share")), **_errors(400, 401, 403, 404)},
            },
            "delete": {"summary": "Revoke a share", "parameters": [_ID, _SHARE], "responses": {"204": {"description": "Revoked"}, **_errors(401, 404)}},
        },
    }


def openapi_document(server_url: str) -> dict[str, Any]:
    binary = {"description": "The bytes", "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}}
    return {
        "openapi": "3.1.0",
        "info": {"title": "Docbridge API", "version": "1"},
        "servers": [{"url": server_url + "/api/v1"}],
        "security": [{"basic": []}, {"accessToken": []}, {"bearer": []}, {"publicToken": []}],
        "paths": {
            "/me": {"get": {"summary": "The calling user", "responses": {"200": _json(_ref("Me")), **_errors(401)}}},
            "/containers/{id}": {
                "get": {
                    "summary": "A folder and its children",
                    "parameters": [_ID],
                    "responses": {"200": _json(_ref("Container")), **_errors(400, 401, 404)},
                }
            },
            "/containers/{id}/folders": {
                "post": {
                    "summary": "Create a folder",
                    "parameters": [_ID],
                    "requestBody": {"required": True, "content": {"application/json": {"schema": _ref("Name")}}},
                    "responses": {"201": _json({"type": "object", "properties": {"id": {"type": "string"}}}), **_errors(400, 401, 403, 404)},
                }
            },
            "/containers/{id}/files/{name}": {
                "put": {
                    "summary": "Upload a file: creates it (201) or stores a new version (200)",
                    "parameters": [_ID, {"name": "name", "in": "path", "required": True, "schema": {"type": "string"}},
                                   {"name": "If-Match", "in": "header", "schema": {"type": "string"}, "description": "Store only if this is still the current version's ETag"}],
                    "requestBody": {"required": True, "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}},
                    "responses": {"200": _json(_ref("Saved")), "201": _json(_ref("Saved"), "Created"), **_errors(400, 401, 403, 404, 409, 413, 423)},
                }
            },
            "/files/{id}": {
                "get": {"summary": "File or folder metadata", "parameters": [_ID], "responses": {"200": _json(_ref("Node")), **_errors(400, 401, 404)}},
                "patch": {
                    "summary": "Rename (the id stays)",
                    "parameters": [_ID],
                    "requestBody": {"required": True, "content": {"application/json": {"schema": _ref("Name")}}},
                    "responses": {"200": _json(_ref("Node")), **_errors(400, 401, 403, 404, 423)},
                },
                "delete": {"summary": "Delete a file or folder", "parameters": [_ID], "responses": {"204": {"description": "Deleted"}, **_errors(400, 401, 403, 404, 423)}},
            },
            "/files/{id}/content": {
                "get": {"summary": "The current version's bytes (Range, ETag); 403 under secure view", "parameters": [_ID], "responses": {"200": binary, "206": binary, **_errors(400, 401, 403, 404)}}
            },
            "/files/{id}/versions": {
                "get": {"summary": "All versions, newest first", "parameters": [_ID],
                        "responses": {"200": _json({"type": "object", "properties": {"versions": {"type": "array", "items": _ref("Version")}}}), **_errors(401, 404)}}
            },
            "/files/{id}/versions/{version}/content": {
                "get": {"summary": "One version's bytes; 403 under secure view", "parameters": [_ID, {"name": "version", "in": "path", "required": True, "schema": {"type": "integer"}}],
                        "responses": {"200": binary, **_errors(401, 403, 404)}}
            },
            "/files/{id}/versions/{version}/restore": {
                "post": {"summary": "Make a copy of this version the current one", "parameters": [_ID, {"name": "version", "in": "path", "required": True, "schema": {"type": "integer"}}],
                         "responses": {"200": _json(_ref("Version")), **_errors(401, 403, 404, 423)}}
            },
            "/files/{id}/links": {
                "get": {"summary": "Public links of a file or folder", "parameters": [_ID],
                        "responses": {"200": _json({"type": "object", "properties": {"links": {"type": "array", "items": _ref("Link")}}}), **_errors(401, 403, 404)}},
                "post": {
                    "summary": "Create a public link",
                    "parameters": [_ID],
                    "requestBody": {"required": True, "content": {"application/json": {"schema": _ref("NewLink")}}},
                    "responses": {"201": _json(_ref("Link"), "Created"), **_errors(400, 401, 403, 404)},
                },
            },
            "/links/{id}": {
                "delete": {"summary": "Revoke a public link", "parameters": [{**_ID, "description": "link id"}], "responses": {"204": {"description": "Revoked"}, **_errors(401, 404)}}
            },
            **_share_paths("files"),
            **_share_paths("containers"),
            "/shared-with-me": {
                "get": {"summary": "What is shared with the caller, directly or through a group",
                        "responses": {"200": _json({"type": "object", "properties": {"items": {"type": "array", "items": _ref("Received")}}}), **_errors(401)}}
            },
            "/users": {
                "get": {"summary": "Users and groups whose name holds q, for the share dialog",
                        "parameters": [{"name": "q", "in": "query", "required": True, "schema": {"type": "string"}}],
                        "responses": {"200": _json({"type": "object", "properties": {
                            "users": {"type": "array", "items": _ref("Person")},
                            "groups": {"type": "array", "items": _ref("GroupName")}}}), **_errors(400, 401)}}
            },
            "/groups": {
                "get": {"summary": "Every group with its member count (admins)",
                        "responses": {"200": _json({"type": "object", "properties": {"groups": {"type": "array", "items": _ref("Group")}}}), **_errors(401, 403)}},
                "post": {"summary": "Create a group (admins)",
                         "requestBody": {"required": True, "content": {"application/json": {"schema": _ref("GroupName")}}},
                         "responses": {"201": _json(_ref("Group"), "Created"), **_errors(400, 401, 403)}},
            },
            "/groups/{name}": {
                "delete": {"summary": "Delete a group (admins)", "parameters": [_NAME],
                           "responses": {"204": {"description": "Deleted"}, **_errors(401, 403, 404)}}
            },
            "/groups/{name}/members": {
                "get": {"summary": "The group's member names (admins)", "parameters": [_NAME],
                        "responses": {"200": _json({"type": "object", "properties": {"members": {"type": "array", "items": {"type": "string"}}}}), **_errors(401, 403, 404)}}
            },
            "/admin/policies": {
                "get": {"summary": "Secure-view and watermark rules in the order they apply: the settings file's (read-only), then the admins' (admins)",
                        "responses": {"200": _json({"type": "object", "properties": {"policies": {"type": "array", "items": _ref("Policy")}}}), **_errors(401, 403)}},
                "post": {"summary": "Add a rule (admins)",
                         "requestBody": {"required": True, "content": {"application/json": {"schema": _ref("NewPolicy")}}},
                         "responses": {"201": _json(_ref("Policy"), "Created"), **_errors(400, 401, 403)}},
            },
            "/admin/policies/{id}": {
                "get": {"summary": "One rule (admins)", "parameters": [{**_ID, "description": "rule id"}],
                        "responses": {"200": _json(_ref("Policy")), **_errors(401, 403, 404)}},
                "patch": {"summary": "Change some of a rule's fields (admins; not the settings file's)",
                          "parameters": [{**_ID, "description": "rule id"}],
                          "requestBody": {"required": True, "content": {"application/json": {"schema": _ref("NewPolicy")}}},
                          "responses": {"200": _json(_ref("Policy")), **_errors(400, 401, 403, 404)}},
                "delete": {"summary": "Remove a rule (admins; not the settings file's)", "parameters": [{**_ID, "description": "rule id"}],
                           "responses": {"204": {"description": "Removed"}, **_errors(401, 403, 404)}},
            },
            "/groups/{name}/members/{user}": {
                "post": {"summary": "Add a member (admins)", "parameters": [_NAME, _USER], "responses": {"204": {"description": "Added"}, **_errors(401, 403, 404)}},
                "delete": {"summary": "Remove a member (admins)", "parameters": [_NAME, _USER], "responses": {"204": {"description": "Removed"}, **_errors(401, 403, 404)}},
            },
        },
        "components": {
            "securitySchemes": {
                "basic": {"type": "http", "scheme": "basic"},
                "bearer": {"type": "http", "scheme": "bearer", "description": "OIDC access token"},
                "accessToken": {"type": "apiKey", "in": "header", "name": "X-Access-Token"},
                "publicToken": {"type": "apiKey", "in": "header", "name": "Public-Token"},
            },
            "schemas": {
                "Error": {"type": "object", "required": ["code", "message"], "properties": {"code": {"type": "string"}, "message": {"type": "string"}}},
                "Lock": {
                    "type": "object", "description": "Who holds a file now",
                    "properties": {
                        "app": {"type": "string"}, "user": {"type": "string"}, "user_id": {"type": ["string", "null"]},
                        "kind": {"enum": ["wopi", "session"]}, "expires_at": {"type": "string", "format": "date-time"},
                    },
                },
                "Locked": {"allOf": [_ref("Error"), {"type": "object", "properties": {"code": {"const": "LOCKED"}, "lock": {"oneOf": [_ref("Lock"), {"type": "null"}]}}}]},
                "Name": {"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}}},
                "Me": {"type": "object", "properties": {k: {"type": "string"} for k in ("id", "name", "display_name", "home_id")} | {"is_admin": {"type": "boolean"}}},
                "Node": {
                    "type": "object",
                    "properties": {
                        "id": {"type": "string"}, "name": {"type": "string"}, "type": {"enum": ["file", "folder"]},
                        "mimetype": {"type": "string"}, "size": {"type": "integer"}, "version": {"type": "integer"},
                        "sha256": {"type": "string"}, "created": {"type": "string", "format": "date-time"},
                        "modified": {"type": "string", "format": "date-time"}, "parent_id": {"type": ["string", "null"]},
                        "role": {"type": ["string", "null"], "description": "the caller's: owner, or a share role"},
                        "can_download": {"type": "boolean", "description": "false under secure view"},
                        "shared": {"type": "boolean", "description": "in listings: shared with users or groups"},
                        "lock": {"oneOf": [_ref("Lock"), {"type": "null"}], "description": "files only: who holds the file, null when nobody"},
                    },
                },
                "Container": {"allOf": [_ref("Node"), {"type": "object", "properties": {"path": {"type": "array", "items": _ref("Node")}, "children": {"type": "array", "items": _ref("Node")}}}]},
                "Saved": {"type": "object", "properties": {"file_id": {"type": "string"}, "version": {"type": "integer"}}},
                "Version": {
                    "type": "object",
                    "properties": {
                        "version": {"type": "integer"}, "size": {"type": "integer"}, "sha256": {"type": "string"},
                        "author": {"type": "string"}, "author_id": {"type": ["string", "null"]},
                        "created": {"type": "string", "format": "date-time"},
                        "edited": {"type": ["string", "null"], "format": "date-time"}, "current": {"type": "boolean"},
                        "recovered": {"type": "boolean"}, "source": {"type": "string"}, "comment": {"type": "string"},
                        "save_kind": {"enum": ["autosave", "exit-save", "save", None], "description": "what the editor said about the save"},
                        "modified_by_user": {"type": ["boolean", "null"]},
                    },
                },
                "NewLink": {
                    "type": "object", "required": ["role"],
                    "properties": {"role": {"enum": ["viewer", "editor", "uploader"]}, "password": {"type": "string"}, "expires_at": {"type": "string", "format": "date-time"},
                                   "no_download": {"type": "boolean", "description": "secure view for the link's visitors"}},
                },
                "ShareRole": {"enum": ["viewer", "form_filler", "commenter", "reviewer", "editor"]},
                "NewShare": {
                    "type": "object", "required": ["role"],
                    "description": "exactly one of user and group",
                    "properties": {"user": {"type": "string"}, "group": {"type": "string"}, "role": _ref("ShareRole"), "can_share": {"type": "boolean"}},
                },
                "ShareChange": {"type": "object", "properties": {"role": _ref("ShareRole"), "can_share": {"type": "boolean"}}},
                "Share": {
                    "type": "object",
                    "properties": {
                        "id": {"type": "string"}, "node_id": {"type": "string"}, "user": {"type": "string"}, "group": {"type": "string"},
                        "role": _ref("ShareRole"), "can_share": {"type": "boolean"}, "created": {"type": "string", "format": "date-time"},
                    },
                },
                "NewPolicy": {
                    "type": "object", "required": ["name"],
                    "description": "conditions left out match everyone; at least one of secure_view and watermark",
                    "properties": {
                        "name": {"type": "string"}, "groups": {"type": "array", "items": {"type": "string"}},
                        "share_roles": {"type": "array", "items": _ref("ShareRole")},
                        "links": {"enum": ["any", "password", "no_download", None]},
                        "folders": {"type": "array", "items": {"type": "string"}}, "secure_view": {"type": "boolean"},
                        "watermark": {"type": "string", "description": "{user_display_name} {user_id} {email} {date} {file_name}"},
                    },
                },
                "Policy": {"allOf": [_ref("NewPolicy"), {"type": "object", "properties": {
                    "id": {"type": "string"}, "read_only": {"type": "boolean"}, "source": {"enum": ["settings", "admin"]}}}]},
                "Person": {"type": "object", "properties": {"name": {"type": "string"}, "display_name": {"type": "string"}, "email": {"type": "string"}}},
                "GroupName": {"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}, "display_name": {"type": "string"}}},
                "Group": {"allOf": [_ref("GroupName"), {"type": "object", "properties": {"source": {"enum": ["local", "oidc"]}, "members": {"type": "integer"}}}]},
                "Received": {"allOf": [_ref("Node"), {"type": "object", "properties": {
                    "role": _ref("ShareRole"), "sharer": {"oneOf": [_ref("Person"), {"type": "null"}]}, "via_group": {"type": ["string", "null"]}}}]},
                "Link": {
                    "type": "object",
                    "properties": {
                        "id": {"type": "string"}, "token": {"type": "string"}, "url": {"type": "string"}, "node_id": {"type": "string"},
                        "role": {"type": "string"}, "has_password": {"type": "boolean"}, "no_download": {"type": "boolean"},
                        "expires_at": {"type": ["string", "null"], "format": "date-time"}, "created": {"type": "string", "format": "date-time"},
                    },
                },
            },
        },
    }
