"""CheckFileInfo profiles, pure: which properties beyond the WOPI validator's schema a WOPI
client gets, and how secure view, view mode, the watermark and templates reach it.

Every client gets the schema's properties (`checkfileinfo.SCHEMA_PROPERTIES`). Beyond them:

- ``collabora``: ``DisablePrint``, ``DisableExport``, ``DisableCopy``, ``HidePrintOption``,
  ``HideExportOption`` when the file may not leave (secure view, or view mode);
  ``WatermarkText``; ``TemplateSource`` while a file filled from a template at /app/open is
  untouched; ``UserExtraInfo`` (``mail``, when e-mail addresses may be shown).
- ``onlyoffice`` (ONLYOFFICE Docs in WOPI mode): ``HidePrintOption``; of the schema it reads
  ``DisablePrint`` and ``CopyPasteRestrictions`` too.
- ``microsoft`` and ``validator``: nothing beyond the schema, where ``DisablePrint``,
  ``CopyPasteRestrictions: BlockAll`` and ``DisableTranslation`` say what secure view can.

Every profile sets ``UserCanNotWriteRelative`` under secure view (no "save as" copy).

The profile of a WOPI app is the admin's choice (``wopi.apps[].profile``) or read from its
discovery (`detect_profile`): Collabora names its apps by mimetype and serves ``cool.html``
(``loleaflet.html`` before 6.4); ONLYOFFICE serves its actions under ``/hosting/wopi/``;
anything else is treated as Microsoft. Tokens that name no configured app (the validator's
from ``flask wopi test-file``, external providers') get the ``validator`` profile.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from core.tokens import ViewMode
from wopi.checkfileinfo import SCHEMA_PROPERTIES
from wopi.discovery import Discovery


class Profile(enum.StrEnum):
    COLLABORA = "collabora"
    MICROSOFT = "microsoft"
    ONLYOFFICE = "onlyoffice"
    VALIDATOR = "validator"


# What each profile may carry beyond the validator's schema.
EXTRA_PROPERTIES: Mapping[Profile, frozenset[str]] = {
    Profile.COLLABORA: frozenset({
        "DisableExport", "DisableCopy", "HideExportOption", "HidePrintOption", "WatermarkText",
        "TemplateSource", "UserExtraInfo",
    }),
    Profile.ONLYOFFICE: frozenset({"HidePrintOption"}),
    Profile.MICROSOFT: frozenset(),
    Profile.VALIDATOR: frozenset(),
}
AUTO = "auto"
BLOCK_ALL = "BlockAll"


def detect_profile(discovery: Discovery | None) -> Profile:
    """The profile a client's discovery suggests; without discovery, the schema only."""
    if discovery is None:
        return Profile.VALIDATOR
    for action in discovery.actions:
        parts = urlsplit(action.urlsrc)
        if parts.path.endswith(("/cool.html", "/loleaflet.html")) or "/" in action.app:
            return Profile.COLLABORA
        if "/hosting/wopi/" in parts.path or "onlyoffice" in (parts.hostname or ""):
            return Profile.ONLYOFFICE
    return Profile.MICROSOFT


def choose_profile(configured: str, discovery: Discovery | None) -> Profile:
    """The admin's ``profile`` for the app, or the one its discovery suggests (``auto``)."""
    if configured and configured != AUTO:
        return Profile(configured)
    return detect_profile(discovery)


@dataclass(frozen=True, slots=True)
class ProfileInput:
    """What the profiles express: the session's mode, the policy's effects, the template a
    file was filled from (its download URL, "" for none) and what may be told about the user."""

    view_mode: ViewMode
    secure_view: bool = False
    watermark: str = ""
    template_source: str = ""
    user_extra_info: Mapping[str, str] = field(default_factory=dict)


def profile_properties(profile: Profile, given: ProfileInput) -> dict[str, Any]:
    """The properties `profile` adds to (or sets in) the schema's CheckFileInfo."""
    restricted = given.secure_view or given.view_mode is ViewMode.VIEW
    extra: dict[str, Any] = {}
    if restricted:
        extra["DisablePrint"] = True
    if given.secure_view:
        extra["UserCanNotWriteRelative"] = True
    if profile is Profile.COLLABORA:
        if restricted:
            extra.update(DisableExport=True, DisableCopy=True, HideExportOption=True, HidePrintOption=True)
        if given.watermark:
            extra["WatermarkText"] = given.watermark
        if given.template_source and given.view_mode is ViewMode.WRITE:
            extra["TemplateSource"] = given.template_source
        if given.user_extra_info:
            extra["UserExtraInfo"] = dict(given.user_extra_info)
        return extra
    if restricted:
        extra["CopyPasteRestrictions"] = BLOCK_ALL
    if profile is Profile.ONLYOFFICE:
        if restricted:
            extra["HidePrintOption"] = True
    elif given.secure_view:
        extra["DisableTranslation"] = True  # Microsoft's translation sends the text to a service
    return extra


def apply_profile(profile: Profile, info: Mapping[str, Any], given: ProfileInput) -> dict[str, Any]:
    """`info` (the schema's CheckFileInfo) with the profile's properties, and nothing the
    profile's client does not read."""
    allowed = SCHEMA_PROPERTIES | EXTRA_PROPERTIES[profile]
    merged = {**info, **profile_properties(profile, given)}
    return {key: value for key, value in merged.items() if key in allowed}
