"""What to do with a Document Server callback: a pure decision per status (0–7).

Our decisions (docs: onlyoffice.md, "Our decisions"): 1 and 4 record presence and end
sessions; 2 and 6 save a new version (6 keeps the key; 2 ends the session and the next open
gets a new key; ``notmodified`` saves nothing); 3 and 7 keep the current version and store
the bytes at ``url``, when present, as a recovered version; 0 is acknowledged. A callback
whose key is not the file's current key is either a replay of one already handled
(acknowledged, nothing stored) or stale (refused, nothing stored): neither ever writes.
One exception: a save (2 or 6) of the session whose key was spent because the file changed
under it is an edit nobody has stored; it is kept as a conflict copy beside the file.
"""

from __future__ import annotations

import enum
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from core.errors import BadRequest
from storage.types import SaveKind


class CallbackStatus(enum.IntEnum):
    NOT_FOUND = 0
    EDITING = 1
    MUST_SAVE = 2
    SAVE_ERROR = 3
    CLOSED = 4
    FORCESAVE = 6
    FORCESAVE_ERROR = 7


class ActionType(enum.IntEnum):
    """``actions[].type`` in a callback."""

    LEFT = 0
    JOINED = 1
    FORCESAVE_CLICKED = 2


class CallbackAction(enum.StrEnum):
    ACKNOWLEDGE = "acknowledge"  # nothing to do
    PRESENCE = "presence"  # record who is in the session
    END_SESSION = "end-session"  # session over, nothing to store
    SAVE = "save"  # store `url` as the new current version
    RECOVER = "recover"  # store `url` as a recovered (listed, not current) version
    CONFLICT_COPY = "conflict-copy"  # store `url` in a conflict copy beside the file
    REPLAY = "replay"  # already handled: acknowledge, store nothing
    STALE = "stale"  # not this file's current key: refuse, store nothing
    FORBIDDEN = "forbidden"  # the bound user may not write: refuse, store nothing


@dataclass(frozen=True, slots=True)
class Callback:
    key: str
    status: CallbackStatus
    url: str | None = None
    changes_url: str | None = None
    history: Mapping[str, Any] | None = None
    users: tuple[str, ...] = ()
    actions: tuple[tuple[int, str], ...] = ()
    last_save: str | None = None
    not_modified: bool = False
    forcesave_type: int | None = None
    file_type: str | None = None


@dataclass(frozen=True, slots=True)
class Decision:
    action: CallbackAction
    end_session: bool = False
    rotate_key: bool = False
    keep_history: bool = False
    author_id: str | None = None
    dedupe_key: str | None = None
    reason: str = ""

    @property
    def stores_bytes(self) -> bool:
        return self.action in (CallbackAction.SAVE, CallbackAction.RECOVER, CallbackAction.CONFLICT_COPY)

    @property
    def error_code(self) -> int:
        """The ``error`` field of the answer: 1 for refusals, else 0."""
        return 1 if self.action in (CallbackAction.STALE, CallbackAction.FORBIDDEN) else 0


def parse_callback(fields: Mapping[str, Any]) -> Callback:
    """The verified callback fields as a `Callback`; BadRequest for a malformed one."""
    key = fields.get("key")
    if not isinstance(key, str) or not key:
        raise BadRequest("the callback has no key")
    try:
        status = CallbackStatus(int(fields.get("status")))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise BadRequest(f"unknown callback status {fields.get('status')!r}") from None
    users = tuple(str(user) for user in fields.get("users") or () if user is not None)
    actions: list[tuple[int, str]] = []
    for item in fields.get("actions") or ():
        if isinstance(item, Mapping) and "type" in item:
            try:
                actions.append((int(item["type"]), str(item.get("userid", ""))))
            except (TypeError, ValueError):
                continue
    history = fields.get("history")
    forcesave_type = fields.get("forcesavetype")
    return Callback(
        key=key,
        status=status,
        url=_text(fields.get("url")),
        changes_url=_text(fields.get("changesurl")),
        history=history if isinstance(history, Mapping) else None,
        users=users,
        actions=tuple(actions),
        last_save=_text(fields.get("lastsave")),
        not_modified=fields.get("notmodified") is True,
        forcesave_type=int(forcesave_type) if isinstance(forcesave_type, (int, str)) and str(forcesave_type).isdigit() else None,
        file_type=_text(fields.get("filetype")),
    )


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def edit_time(callback: Callback) -> datetime | None:
    """When the edit a save carries was made: ``lastsave`` (ISO 8601, UTC, from the DS's
    clock), or None when it is missing or unreadable.

    Saves of one file are ordered by it: a forcesave whose download was slow may reach
    storage after the final save of the same session, and must not become current over it."""
    if not callback.last_save:
        return None
    try:
        parsed = datetime.fromisoformat(callback.last_save)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


# forcesavetype: 0 the command service, 1 the Save button, 2 the timer, 3 a form submitted
_FORCESAVE_KINDS = {0: SaveKind.SAVE, 1: SaveKind.SAVE, 2: SaveKind.AUTOSAVE, 3: SaveKind.SAVE}


def save_kind_of(callback: Callback) -> SaveKind | None:
    """What kind of save a callback brings: the last editor leaving (status 2) is an exit
    save; a forcesave (6) by timer an autosave, by button, command or form a save."""
    if callback.status is CallbackStatus.MUST_SAVE:
        return SaveKind.EXIT_SAVE
    if callback.status is CallbackStatus.FORCESAVE:
        return _FORCESAVE_KINDS.get(callback.forcesave_type if callback.forcesave_type is not None else 0, SaveKind.SAVE)
    return None


def author_of(callback: Callback, bound_user_id: str) -> str:
    """Who saved: the Save-clicker for a Save-button forcesave, else ``users[0]``, else the
    user the callback URL is bound to."""
    if callback.forcesave_type == 1:
        for action_type, user_id in callback.actions:
            if action_type == ActionType.FORCESAVE_CLICKED and user_id:
                return user_id
    if callback.users:
        return callback.users[0]
    return bound_user_id


def dedupe_key(callback: Callback, kind: CallbackAction) -> str:
    """Identifies one save across DS retries: (key, kind, lastsave, path of url), hashed.

    A DS retry runs the save callback again and signs the cache link afresh: the query
    (``md5``, ``expires``) changes every second, while ``lastsave`` (time of the last change
    saved) and the link's path (one per assembly) stay. So the query is left out."""
    marker = f"{callback.last_save or ''}\n{urlsplit(callback.url).path if callback.url else ''}"
    digest = hashlib.sha256(f"{callback.key}\n{kind.value}\n{marker}".encode()).hexdigest()
    return f"onlyoffice:{digest}"


def decide(callback: Callback, *, current_key: str | None, already_handled: bool,
           can_write: bool, bound_user_id: str, spent_key: str | None = None) -> Decision:
    """The action for `callback` on a file whose current document key is `current_key`.

    `already_handled` says a save with this callback's dedupe key was stored before;
    `can_write` whether the user the callback URL is bound to may still write the file;
    `spent_key` is the key of the session that was live when the file changed under it
    (its saves are kept as a conflict copy)."""
    status = callback.status
    is_current = current_key is not None and callback.key == current_key
    if status is CallbackStatus.NOT_FOUND:
        return Decision(CallbackAction.ACKNOWLEDGE, reason="the DS does not know the key")
    if status is CallbackStatus.EDITING:
        if not is_current:
            return Decision(CallbackAction.ACKNOWLEDGE, reason="presence for a key no longer current")
        return Decision(CallbackAction.PRESENCE)
    if status is CallbackStatus.CLOSED:
        if not is_current:
            return Decision(CallbackAction.ACKNOWLEDGE, reason="close of a key no longer current")
        return Decision(CallbackAction.END_SESSION, end_session=True, reason="closed without changes")

    final = status in (CallbackStatus.MUST_SAVE, CallbackStatus.SAVE_ERROR)
    wants_save = status in (CallbackStatus.MUST_SAVE, CallbackStatus.FORCESAVE)
    kind = CallbackAction.SAVE if wants_save else CallbackAction.RECOVER
    has_bytes = callback.url is not None and not (status is CallbackStatus.MUST_SAVE and callback.not_modified)
    dedupe = dedupe_key(callback, kind) if has_bytes else None

    if has_bytes and already_handled:
        return Decision(CallbackAction.REPLAY, dedupe_key=dedupe, reason="this save was already stored")
    if not is_current and has_bytes and wants_save and spent_key is not None and callback.key == spent_key:
        if not can_write:
            return Decision(CallbackAction.FORBIDDEN, reason="the user may not write this file")
        return Decision(CallbackAction.CONFLICT_COPY, author_id=author_of(callback, bound_user_id), dedupe_key=dedupe,
                        reason="the file changed under this editing session")
    if not is_current:
        return Decision(CallbackAction.STALE, dedupe_key=dedupe,
                        reason="the key is not the file's current document key")
    if has_bytes and not can_write:
        return Decision(CallbackAction.FORBIDDEN, end_session=final, rotate_key=final,
                        reason="the user may not write this file")
    if not has_bytes:
        if status is CallbackStatus.MUST_SAVE and not callback.not_modified:
            # A save without a url cannot be stored; refuse so the DS keeps the changes.
            return Decision(CallbackAction.STALE, reason="a save callback without url")
        return Decision(CallbackAction.END_SESSION if final else CallbackAction.ACKNOWLEDGE,
                        end_session=final, rotate_key=final,
                        reason="not modified" if callback.not_modified else "nothing to store")
    return Decision(
        kind,
        end_session=final,
        rotate_key=final,
        keep_history=status is CallbackStatus.MUST_SAVE,
        author_id=author_of(callback, bound_user_id),
        dedupe_key=dedupe,
    )
