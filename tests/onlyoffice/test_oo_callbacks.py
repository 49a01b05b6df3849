from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from core.errors import BadRequest
from onlyoffice.callbacks import CallbackAction, CallbackStatus, decide, dedupe_key, edit_time, parse_callback

KEY = "d1.0.abc"


def _cb(status: int, **fields: Any) -> Any:
    return parse_callback({"key": KEY, "status": status, **fields})


SAVE_FIELDS = {"url": "http://ds/cache/out.docx", "users": ["alice"], "lastsave": "2026-11-21T10:00:00.000Z"}

TABLE = [
    # status, fields, current key, handled, can write -> action, end, rotate, history, error
    (0, {}, KEY, False, True, CallbackAction.ACKNOWLEDGE, False, False, False, 0),
    (1, {"users": ["alice"]}, KEY, False, True, CallbackAction.PRESENCE, False, False, False, 0),
    (1, {"users": ["alice"]}, "other", False, True, CallbackAction.ACKNOWLEDGE, False, False, False, 0),
    (4, {}, KEY, False, True, CallbackAction.END_SESSION, True, False, False, 0),
    (2, SAVE_FIELDS, KEY, False, True, CallbackAction.SAVE, True, True, True, 0),
    (2, {**SAVE_FIELDS, "notmodified": True}, KEY, False, True, CallbackAction.END_SESSION, True, True, False, 0),
    (2, SAVE_FIELDS, KEY, True, True, CallbackAction.REPLAY, False, False, False, 0),
    (2, SAVE_FIELDS, "newer", True, True, CallbackAction.REPLAY, False, False, False, 0),
    (2, SAVE_FIELDS, "newer", False, True, CallbackAction.STALE, False, False, False, 1),
    (2, SAVE_FIELDS, None, False, True, CallbackAction.STALE, False, False, False, 1),
    (2, SAVE_FIELDS, KEY, False, False, CallbackAction.FORBIDDEN, True, True, False, 1),
    (2, {"users": ["alice"]}, KEY, False, True, CallbackAction.STALE, False, False, False, 1),
    (6, SAVE_FIELDS, KEY, False, True, CallbackAction.SAVE, False, False, False, 0),
    (6, SAVE_FIELDS, "newer", False, True, CallbackAction.STALE, False, False, False, 1),
    (3, SAVE_FIELDS, KEY, False, True, CallbackAction.RECOVER, True, True, False, 0),
    (3, {}, KEY, False, True, CallbackAction.END_SESSION, True, True, False, 0),
    (7, SAVE_FIELDS, KEY, False, True, CallbackAction.RECOVER, False, False, False, 0),
    (7, {"forcesavetype": 0}, KEY, False, True, CallbackAction.ACKNOWLEDGE, False, False, False, 0),
]


@pytest.mark.parametrize(
    ("status", "fields", "current", "handled", "can_write", "action", "end", "rotate", "history", "error"), TABLE
)
def test_decision_table(status: int, fields: dict[str, Any], current: str | None, handled: bool, can_write: bool,
                        action: CallbackAction, end: bool, rotate: bool, history: bool, error: int) -> None:
    decision = decide(_cb(status, **fields), current_key=current, already_handled=handled,
                      can_write=can_write, bound_user_id="bob")
    assert decision.action is action
    assert decision.end_session is end
    assert decision.rotate_key is rotate
    assert decision.keep_history is history
    assert decision.error_code == error
    assert decision.stores_bytes is (action in (CallbackAction.SAVE, CallbackAction.RECOVER))


SPENT_TABLE = [
    # status, fields, handled, can write -> action, error
    (2, SAVE_FIELDS, False, True, CallbackAction.CONFLICT_COPY, 0),
    (6, SAVE_FIELDS, False, True, CallbackAction.CONFLICT_COPY, 0),
    (2, SAVE_FIELDS, True, True, CallbackAction.REPLAY, 0),
    (2, SAVE_FIELDS, False, False, CallbackAction.FORBIDDEN, 1),
    (2, {**SAVE_FIELDS, "notmodified": True}, False, True, CallbackAction.STALE, 1),
    (3, SAVE_FIELDS, False, True, CallbackAction.STALE, 1),
    (1, {"users": ["alice"]}, False, True, CallbackAction.ACKNOWLEDGE, 0),
    (4, {}, False, True, CallbackAction.ACKNOWLEDGE, 0),
]


@pytest.mark.parametrize(("status", "fields", "handled", "can_write", "action", "error"), SPENT_TABLE)
def test_saves_of_a_session_the_file_changed_under_are_kept_as_copies(
    status: int, fields: dict[str, Any], handled: bool, can_write: bool, action: CallbackAction, error: int
) -> None:
    """The key is no longer current because another writer changed the file while the
    session's lock had lapsed: its saves are no replay, and are kept beside the file."""
    decision = decide(_cb(status, **fields), current_key="newer", already_handled=handled, can_write=can_write,
                      bound_user_id="bob", spent_key=KEY)
    assert (decision.action, decision.error_code) == (action, error)
    assert decision.end_session is False and decision.keep_history is False
    if action is CallbackAction.CONFLICT_COPY:
        assert decision.stores_bytes and decision.author_id == "alice" and decision.dedupe_key


def test_author_is_first_user_or_save_clicker_or_bound_user() -> None:
    decision = decide(_cb(2, **SAVE_FIELDS), current_key=KEY, already_handled=False, can_write=True, bound_user_id="bob")
    assert decision.author_id == "alice"
    clicked = _cb(6, url="http://ds/x", users=["alice", "carol"], forcesavetype=1,
                  actions=[{"type": 2, "userid": "carol"}])
    assert decide(clicked, current_key=KEY, already_handled=False, can_write=True, bound_user_id="bob").author_id == "carol"
    anonymous = _cb(6, url="http://ds/x")
    assert decide(anonymous, current_key=KEY, already_handled=False, can_write=True, bound_user_id="bob").author_id == "bob"


def test_dedupe_key_is_stable_across_retries_and_differs_per_save() -> None:
    first = _cb(2, **SAVE_FIELDS)
    again = _cb(2, **SAVE_FIELDS)
    later = _cb(6, **{**SAVE_FIELDS, "lastsave": "2026-11-21T10:05:00.000Z"})
    assert dedupe_key(first, CallbackAction.SAVE) == dedupe_key(again, CallbackAction.SAVE)
    assert dedupe_key(first, CallbackAction.SAVE) != dedupe_key(later, CallbackAction.SAVE)
    assert dedupe_key(first, CallbackAction.SAVE) != dedupe_key(first, CallbackAction.RECOVER)
    assert len(dedupe_key(first, CallbackAction.SAVE)) <= 512


@pytest.mark.parametrize(
    "fields",
    [{}, {"key": "", "status": 2}, {"key": "k"}, {"key": "k", "status": 5}, {"key": "k", "status": "x"}],
)
def test_malformed_callbacks(fields: dict[str, Any]) -> None:
    with pytest.raises(BadRequest):
        parse_callback(fields)


def test_parse_reads_every_field() -> None:
    cb = parse_callback({
        "key": "k", "status": "6", "url": "u", "changesurl": "c", "history": {"serverVersion": "9"},
        "users": ["a", 5], "actions": [{"type": 2, "userid": "a"}, {"bad": 1}], "lastsave": "t",
        "notmodified": False, "forcesavetype": 1, "filetype": "docx",
    })
    assert cb.status is CallbackStatus.FORCESAVE
    assert cb.users == ("a", "5")
    assert cb.actions == ((2, "a"),)
    assert cb.changes_url == "c" and cb.history == {"serverVersion": "9"} and cb.file_type == "docx"
    assert cb.forcesave_type == 1 and cb.last_save == "t" and not cb.not_modified


@pytest.mark.parametrize(("lastsave", "expected"), [
    ("2026-11-21T10:00:00.000Z", datetime(2026, 11, 21, 10, 0, tzinfo=UTC)),
    ("2026-11-21T10:00:00.250Z", datetime(2026, 11, 21, 10, 0, 0, 250_000, tzinfo=UTC)),
    ("2026-11-21T12:00:00+02:00", datetime(2026, 11, 21, 10, 0, tzinfo=UTC)),
    ("2026-11-21T10:00:00", datetime(2026, 11, 21, 10, 0, tzinfo=UTC)),
    ("yesterday", None),
    (None, None),
])
def test_the_edit_time_of_a_save_is_its_lastsave(lastsave: str | None, expected: datetime | None) -> None:
    fields = {**SAVE_FIELDS, "lastsave": lastsave}
    assert edit_time(_cb(6, **fields)) == expected
