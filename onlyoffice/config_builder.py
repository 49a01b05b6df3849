"""The editor config for ``DocsAPI.DocEditor``, built as a pure function over plain values.

Since DS 7.1 the config token must carry ``document.key``, ``document.url``,
``document.permissions``, ``editorConfig.callbackUrl`` and ``editorConfig.mode``; we sign the
whole object (minus the page's event handlers, which are not data), so the token and the
page can never disagree (a mismatch in permissions is error -23 in the editor).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from core.tokens import ViewMode
from onlyoffice.ds_tokens import DsTokens
from onlyoffice.formats import Format, OpenPlan
from storage.types import ShareRole

# How long the signed config stays valid for the DS (onlyoffice-owncloud: jwt_expiration).
CONFIG_TOKEN_TTL_SECONDS = 300


@dataclass(frozen=True, slots=True)
class EditorInput:
    file_id: str
    title: str
    fmt: Format
    plan: OpenPlan
    document_key: str
    download_url: str
    callback_url: str
    user_id: str
    user_name: str
    view_mode: ViewMode
    lang: str
    forcesave: bool
    instance_id: str
    owner_name: str = ""
    modified: str = ""  # "YYYY-MM-DD HH:MM" as the info panel shows it
    role: ShareRole = ShareRole.EDITOR
    # The policy's effects (core/policy.py): no download, print or copy; the watermark text.
    secure_view: bool = False
    watermark: str = ""


# How the watermark is drawn on every page: grey text across the middle, turned.
WATERMARK_SHAPE: dict[str, Any] = {
    "type": "rect",
    "width": 220,
    "height": 120,
    "rotate": -40,
    "align": 1,
    "transparent": 0.35,
    "fill": [],
    "stroke": [],
}
WATERMARK_RUN: dict[str, Any] = {"fill": [160, 160, 160], "font-size": 48}


def permissions_for(view_mode: ViewMode, plan: OpenPlan, role: ShareRole = ShareRole.EDITOR, *,
                    secure_view: bool = False) -> dict[str, bool]:
    """DS ``document.permissions`` from the user's view mode, their role and how the format
    opens.

    write + editable: an editor gets everything; a reviewer changes with changes tracked and
    comments; a commenter only comments; a form filler only fills in forms (each opens in
    edit mode, the DS keeping them to it). read (or write on a read-only format): view,
    download, print, copy. view: look only (no download, no print, no copy). Secure view
    takes download, print and copy away from every mode, and leaves the rest."""
    editable = view_mode is ViewMode.WRITE and plan is OpenPlan.EDIT
    can_edit = editable and role is ShareRole.EDITOR
    can_take = view_mode is not ViewMode.VIEW and not secure_view
    return {
        "edit": can_edit,
        "download": can_take,
        "print": can_take,
        "copy": can_take,
        "review": editable and role in (ShareRole.EDITOR, ShareRole.REVIEWER),
        "comment": editable and role in (ShareRole.EDITOR, ShareRole.REVIEWER, ShareRole.COMMENTER),
        "fillForms": editable and role in (ShareRole.EDITOR, ShareRole.FORM_FILLER),
        "modifyFilter": can_edit,
        "modifyContentControl": can_edit,
        "chat": editable,
        "protect": can_edit,
        "editCommentAuthorOnly": False,
        "deleteCommentAuthorOnly": False,
    }


def editor_mode(permissions: dict[str, bool]) -> str:
    """``editorConfig.mode``: edit whenever the user may change the document in some way."""
    changes = ("edit", "review", "comment", "fillForms")
    return "edit" if any(permissions[name] for name in changes) else "view"


def watermark_on_draw(text: str) -> dict[str, Any]:
    """``document.options.watermark_on_draw``: `text` drawn over every page."""
    return {**WATERMARK_SHAPE, "paragraphs": [{"align": 2, "runs": [{**WATERMARK_RUN, "text": text}]}]}


def build_editor_config(given: EditorInput) -> dict[str, Any]:
    """The unsigned config object; see `sign_config` for the token."""
    permissions = permissions_for(given.view_mode, given.plan, given.role, secure_view=given.secure_view)
    info: dict[str, Any] = {}
    if given.owner_name:
        info["owner"] = given.owner_name
    if given.modified:
        info["uploaded"] = given.modified
    customization: dict[str, Any] = {"forcesave": bool(given.forcesave), "autosave": True}
    if given.secure_view:
        # Plugins and macros can read the document and send it anywhere.
        customization.update(plugins=False, macros=False)
    config: dict[str, Any] = {
        "documentType": given.fmt.document_type.value,
        "type": "desktop",
        "width": "100%",
        "height": "100%",
        "document": {
            "fileType": given.fmt.extension,
            "key": given.document_key,
            "title": given.title,
            "url": given.download_url,
            "referenceData": {"fileKey": given.file_id, "instanceId": given.instance_id},
            "info": info,
            "permissions": permissions,
        },
        "editorConfig": {
            "callbackUrl": given.callback_url,
            "mode": editor_mode(permissions),
            "lang": given.lang or "en",
            "user": {"id": str(given.user_id), "name": given.user_name or str(given.user_id)},
            "coEditing": {"mode": "fast", "change": True},
            "customization": customization,
        },
    }
    if given.watermark:
        config["document"]["options"] = {"watermark_on_draw": watermark_on_draw(given.watermark)}
    return config


def sign_config(config: dict[str, Any], tokens: DsTokens, *, now: float | None = None) -> dict[str, Any]:
    """`config` with ``token`` = HS256 JWT whose claims are the config itself (DS rule:
    not wrapped in ``payload``). Unchanged when JWT is off."""
    if not tokens.enabled:
        return dict(config)
    signed = dict(config)
    signed["token"] = tokens.sign_object(config, ttl_seconds=CONFIG_TOKEN_TTL_SECONDS, now=now)
    return signed


def history_data(*, version: int, key: str, url: str, file_type: str, changes_url: str | None,
                 previous: dict[str, str] | None, tokens: DsTokens,
                 now: float | None = None) -> dict[str, Any]:
    """The object for ``docEditor.setHistoryData``; with JWT on it carries its own token."""
    data: dict[str, Any] = {"version": version, "key": key, "url": url, "fileType": file_type}
    if changes_url:
        data["changesUrl"] = changes_url
    if previous:
        data["previous"] = previous
    if tokens.enabled:
        data["token"] = tokens.sign_object(data, ttl_seconds=CONFIG_TOKEN_TTL_SECONDS, now=now)
    return data
