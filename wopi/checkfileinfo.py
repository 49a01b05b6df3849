"""CheckFileInfo assembly, pure: a Node, who asks and in which mode, and the host's URLs in;
the JSON object out.

Only properties that the WOPI validator's CheckFileInfo schema knows are built here (its
first alternative, without ``SequenceNumber``: Docbridge does not claim the co-authoring
property set), so the response validates with ``additionalProperties: false``. What a
client reads beyond the schema is added by its profile (`wopi.profiles`).
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from core.tokens import ViewMode
from storage.types import Node

# The property names of the validator's CheckFileInfo schema (first alternative) that
# Docbridge may send. A test checks every response against this set.
SCHEMA_PROPERTIES = frozenset(
    {
        "BaseFileName", "OwnerId", "Size", "UserId", "Version",
        "BreadcrumbBrandName", "BreadcrumbBrandUrl", "BreadcrumbDocName",
        "BreadcrumbFolderName", "BreadcrumbFolderUrl", "CloseUrl", "CopyPasteRestrictions", "DisablePrint",
        "DisableTranslation",
        "DownloadUrl", "FileExtension", "FileNameMaxLength", "HostEditUrl", "HostViewUrl",
        "IsAnonymousUser", "LastModifiedTime", "ReadOnly", "SHA256", "SupportsDeleteFile",
        "SupportsExtendedLockLength", "SupportsGetLock", "SupportsLocks", "SupportsRename",
        "SupportsUpdate", "SupportsUserInfo", "SupportsContainers", "UserCanNotWriteRelative",
        "UserCanRename", "UserCanWrite", "UserFriendlyName", "UserInfo", "PostMessageOrigin",
    }
)

# Docbridge stores names of up to 255 UTF-8 bytes; 4 bytes per character at worst, less
# room for the extension.
FILE_NAME_MAX_LENGTH = 60


@dataclass(frozen=True, slots=True)
class HostUrls:
    """Docbridge pages the WOPI client links to ("" when there is none)."""

    view: str = ""
    edit: str = ""
    close: str = ""
    folder: str = ""
    brand: str = ""
    post_message_origin: str = ""  # the origin of Docbridge pages that embed the client


@dataclass(frozen=True, slots=True)
class Caller:
    """Who opened the file and what the access token allows."""

    user_id: str
    display_name: str
    view_mode: ViewMode
    is_anonymous: bool = False
    can_write_relative: bool = False  # may create files next to this one (PutRelativeFile)
    user_info: str | None = None


def iso_utc(moment: datetime) -> str:
    """ISO 8601 in UTC with microseconds, e.g. ``2026-11-21T19:58:17.123456Z``.

    Sub-second precision matters: clients compare it to detect changes made elsewhere."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def sha256_base64(hex_digest: str) -> str:
    """WOPI's SHA256 is the base64 of the raw digest; storage keeps it in hex."""
    try:
        return base64.b64encode(bytes.fromhex(hex_digest)).decode("ascii")
    except (ValueError, binascii.Error):
        return ""


def item_version(node: Node) -> str:
    """The value of CheckFileInfo ``Version`` and of every ``X-WOPI-ItemVersion``."""
    return str(node.version)


def check_file_info(
    node: Node,
    caller: Caller,
    urls: HostUrls,
    *,
    folder_name: str = "",
    brand_name: str = "Docbridge",
) -> dict[str, Any]:
    """The CheckFileInfo response body for `caller` opening `node`."""
    can_write = caller.view_mode is ViewMode.WRITE
    info: dict[str, Any] = {
        "BaseFileName": node.name,
        "OwnerId": node.owner_id,
        "Size": node.size,
        "UserId": caller.user_id,
        "Version": item_version(node),
        "LastModifiedTime": iso_utc(node.modified),
        "UserFriendlyName": caller.display_name or caller.user_id,
        "IsAnonymousUser": caller.is_anonymous,
        "UserCanWrite": can_write,
        "ReadOnly": not can_write,
        "UserCanRename": can_write,
        "UserCanNotWriteRelative": not (can_write and caller.can_write_relative),
        "SupportsLocks": True,
        "SupportsGetLock": True,
        "SupportsExtendedLockLength": True,
        "SupportsUpdate": True,
        "SupportsRename": True,
        "SupportsDeleteFile": True,
        "SupportsUserInfo": True,
        "SupportsContainers": False,
        "FileNameMaxLength": FILE_NAME_MAX_LENGTH,
        "BreadcrumbBrandName": brand_name,
        "BreadcrumbFolderName": folder_name,
    }
    extension = node.extension
    if extension:
        info["FileExtension"] = "." + extension
    digest = sha256_base64(node.sha256)
    if digest:
        info["SHA256"] = digest
    if caller.view_mode is ViewMode.VIEW:
        info["DisablePrint"] = True
    if caller.user_info is not None:
        info["UserInfo"] = caller.user_info
    for key, url in (
        ("HostViewUrl", urls.view),
        ("HostEditUrl", urls.edit if can_write else ""),
        ("CloseUrl", urls.close),
        ("BreadcrumbFolderUrl", urls.folder),
        ("BreadcrumbBrandUrl", urls.brand),
        ("PostMessageOrigin", urls.post_message_origin),
    ):
        if url:
            info[key] = url
    return info
