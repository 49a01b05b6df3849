"""Collabora Online's additions to PutFile, as pure functions.

``X-COOL-WOPI-Timestamp`` carries the ``LastModifiedTime`` the client last saw (from
CheckFileInfo, or from the previous PutFile's answer): when the file's differs, someone
else changed the file and the save is refused with 409 and ``{"COOLStatusCode": 1010}``, so
Collabora asks the user whether to overwrite (it then sends the save without the header).
``X-COOL-WOPI-IsAutosave``, ``X-COOL-WOPI-IsExitSave`` and ``X-COOL-WOPI-IsModifiedByUser``
say why it saved; they are recorded on the version.
"""

from __future__ import annotations

from datetime import UTC, datetime

from storage.types import SaveKind

DOCUMENT_CHANGED = 1010  # COOLStatusCode: the document was changed in storage


def parse_flag(value: str | None) -> bool | None:
    """``true``/``false`` (any case) as a bool; None when absent or neither."""
    if value is None:
        return None
    text = value.strip().lower()
    if text == "true":
        return True
    if text == "false":
        return False
    return None


def save_kind(is_autosave: bool | None, is_exit_save: bool | None) -> SaveKind | None:
    """What kind of save the flags describe; None when the client sent neither."""
    if is_exit_save:
        return SaveKind.EXIT_SAVE
    if is_autosave:
        return SaveKind.AUTOSAVE
    if is_autosave is None and is_exit_save is None:
        return None
    return SaveKind.SAVE


def timestamp_matches(header: str, modified: datetime) -> bool:
    """Whether ``X-COOL-WOPI-Timestamp`` (ISO 8601) names the file's modified time. An
    unreadable value does not match: a save is never let through on a guess."""
    try:
        parsed = datetime.fromisoformat(header.strip().replace("Z", "+00:00"))
    except ValueError:
        return False
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    if modified.tzinfo is None:
        modified = modified.replace(tzinfo=UTC)
    return parsed == modified
