"""The lock rules every writer goes by (storage/lock_rules.py), from tables."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.errors import LockConflict
from core.ids import ResourceId
from storage.lock_rules import (
    LockRecord,
    Operation,
    SessionAction,
    decide_session,
    decide_write,
    describe,
    may_join,
    shown_lock_id,
    within_grace,
)
from storage.names import conflict_copy_name
from storage.types import Lock, LockClaim, LockKind

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
FILE = ResourceId("s", "p", "o")
C, R, D = Operation.CONTENT, Operation.RENAME, Operation.DELETE


def wopi(lock_id: str = "L", expires_in: float = 600, app: str = "Collabora", user: str = "u1") -> Lock:
    return Lock(FILE, lock_id, app, user, NOW + timedelta(seconds=expires_in), LockKind.WOPI, "Alice")


def session(key: str = "K", expires_in: float = 600) -> Lock:
    return Lock(FILE, key, "OnlyOffice", "u2", NOW + timedelta(seconds=expires_in), LockKind.SESSION, "Bob")


def held(lock: Lock) -> LockRecord:
    return LockRecord(lock)


def released(lock: Lock, seconds_ago: float) -> LockRecord:
    return LockRecord(lock, NOW - timedelta(seconds=seconds_ago))


API = None
WOPI_L = LockClaim.wopi("L", "Collabora", "u1", grace_seconds=10)
WOPI_OTHER = LockClaim.wopi("other", "Collabora", "u1", grace_seconds=10)
WOPI_NONE = LockClaim.wopi(None, "Collabora", "u1", grace_seconds=10)
SESSION_K = LockClaim.session("K", "OnlyOffice", "u2", based_on=3)
SESSION_OTHER = LockClaim.session("K2", "OnlyOffice", "u2", based_on=3)

WRITE_TABLE = [
    # record, claim, operation, size, own version, allowed, holder shown
    # The API holds no lock: it may do anything to an unlocked file, nothing to a locked one.
    (None, API, C, 10, False, True, None),
    (None, API, R, 10, False, True, None),
    (None, API, D, 10, False, True, None),
    (held(wopi()), API, C, 10, False, False, "L"),
    (held(wopi()), API, R, 10, False, False, "L"),
    (held(wopi()), API, D, 10, False, False, "L"),
    (held(session()), API, C, 10, False, False, ""),
    (held(session()), API, D, 10, False, False, ""),
    (held(wopi(expires_in=-1)), API, C, 10, False, True, None),  # expired: no lock
    (held(wopi(expires_in=0)), API, C, 10, False, True, None),  # expiry is exclusive
    (released(wopi(), 1), API, C, 10, False, True, None),
    # WOPI PutFile: the lock must match; unlocked only an empty file (or within the grace).
    (held(wopi()), WOPI_L, C, 10, False, True, None),
    (held(wopi()), WOPI_OTHER, C, 10, False, False, "L"),
    (held(wopi()), WOPI_NONE, C, 0, False, False, "L"),
    (None, WOPI_NONE, C, 0, False, True, None),
    (None, WOPI_L, C, 0, False, True, None),
    (None, WOPI_NONE, C, 10, False, False, None),
    (None, WOPI_L, C, 10, False, False, None),
    (held(wopi(expires_in=-20)), WOPI_L, C, 10, False, False, None),
    (held(wopi(expires_in=-20)), WOPI_NONE, C, 0, False, True, None),
    (held(session()), WOPI_L, C, 10, False, False, ""),
    # The session's key is no WOPI lock, and a WOPI lock no session key.
    (held(session()), LockClaim.wopi("K", "Collabora", "u1"), C, 10, False, False, ""),
    (held(wopi("K")), LockClaim.session("K", "OnlyOffice", "u2"), C, 10, True, False, "K"),
    # WOPI RenameFile: unlocked → allowed; locked → with its lock only.
    (None, WOPI_NONE, R, 10, False, True, None),
    (None, WOPI_OTHER, R, 10, False, True, None),
    (held(wopi()), WOPI_L, R, 10, False, True, None),
    (held(wopi()), WOPI_OTHER, R, 10, False, False, "L"),
    (held(wopi()), WOPI_NONE, R, 10, False, False, "L"),
    # An editing session: its own lock; unlocked only while the file is as it knows it.
    (held(session()), SESSION_K, C, 10, False, True, None),
    (held(session()), SESSION_OTHER, C, 10, True, False, ""),
    (held(wopi()), SESSION_K, C, 10, True, False, "L"),
    (None, SESSION_K, C, 10, True, True, None),
    (None, SESSION_K, C, 10, False, False, None),
    (released(session(), 5), SESSION_K, C, 10, False, False, None),
    (None, SESSION_K, R, 10, False, True, None),
    (held(session()), SESSION_K, R, 10, False, True, None),
]


@pytest.mark.parametrize(("record", "claim", "operation", "size", "own", "allowed", "shown"), WRITE_TABLE)
def test_who_may_write(
    record: LockRecord | None,
    claim: LockClaim | None,
    operation: Operation,
    size: int,
    own: bool,
    allowed: bool,
    shown: str | None,
) -> None:
    decision = decide_write(record, claim, operation, NOW, file_size=size, own_version=own)
    assert decision.allowed is allowed
    if allowed:
        decision.raise_if_refused()
        return
    with pytest.raises(LockConflict) as refused:
        decision.raise_if_refused()
    if shown is None:
        assert refused.value.holder is None and refused.value.current_lock == ""
    else:
        assert refused.value.current_lock == shown
        assert refused.value.holder is not None
        assert refused.value.message.startswith("the file is being edited in ")


GRACE_TABLE = [
    # record, claim, accepted
    (released(wopi(), 1), WOPI_L, True),
    (released(wopi(), 9.9), WOPI_L, True),
    (released(wopi(), 10), WOPI_L, False),  # the grace is exclusive
    (released(wopi(), 1), WOPI_OTHER, False),
    (released(wopi(), 1), WOPI_NONE, False),
    (released(wopi(), 1), LockClaim.wopi("L", "Office", "u1", grace_seconds=10), False),  # another app
    (released(wopi(), 1), LockClaim.wopi("L", "Collabora", "u9", grace_seconds=10), False),  # another user
    (released(wopi(), 1), LockClaim.wopi("L", "Collabora", "u1", grace_seconds=0), False),  # grace off
    (held(wopi(expires_in=-3)), WOPI_L, True),  # it expired 3 s ago: it ended then
    (held(wopi(expires_in=-30)), WOPI_L, False),
    (held(wopi()), WOPI_L, False),  # still held: no grace needed, none given
    (released(session(), 1), LockClaim.wopi("K", "OnlyOffice", "u2", grace_seconds=10), False),
    (None, WOPI_L, False),
]


@pytest.mark.parametrize(("record", "claim", "accepted"), GRACE_TABLE)
def test_the_unlock_and_save_race_has_a_grace_period(record: LockRecord | None, claim: LockClaim, accepted: bool) -> None:
    assert within_grace(record, claim, NOW) is accepted
    allowed = decide_write(record, claim, C, NOW, file_size=10, own_version=False).allowed
    assert allowed is (accepted or (record is not None and record.held_at(NOW) is not None))


SESSION_TABLE = [
    # current, key, resumable, replace spent, action
    (None, "K", True, False, SessionAction.GRANT),
    (None, "K", False, False, SessionAction.CONFLICT),
    (session("K"), "K", False, False, SessionAction.REFRESH),
    (session("K"), "K2", True, False, SessionAction.CONFLICT),
    (session("K"), "K2", True, True, SessionAction.REPLACE),
    (wopi(), "K", True, True, SessionAction.CONFLICT),
    (Lock(FILE, "K0", "Another suite", "u3", NOW, LockKind.SESSION, "Eve"), "K", True, True, SessionAction.CONFLICT),
]


@pytest.mark.parametrize(("current", "key", "resumable", "replace_spent", "action"), SESSION_TABLE)
def test_an_editing_session_takes_shares_and_resumes_its_lock(
    current: Lock | None, key: str, resumable: bool, replace_spent: bool, action: SessionAction
) -> None:
    decision = decide_session(current, key, "OnlyOffice", resumable=resumable, replace_spent=replace_spent)
    assert decision.action is action
    if action is SessionAction.CONFLICT and current is not None:
        assert decision.holder == current and decision.reason == f"the file is {describe(current)}"


@pytest.mark.parametrize(
    ("lock", "app", "joins"),
    [(None, "Collabora", True), (wopi(), "Collabora", True), (wopi(), "OnlyOffice", False),
     (session(), "OnlyOffice", True), (session(), "Collabora", False)],
)
def test_opening_for_writing_joins_only_the_app_that_holds_the_file(lock: Lock | None, app: str, joins: bool) -> None:
    assert may_join(lock, app) is joins


def test_holders_are_described_for_people_and_session_keys_stay_private() -> None:
    assert describe(wopi()) == "being edited in Collabora by Alice"
    assert describe(Lock(FILE, "L", "", "u7", NOW)) == "being edited in another app by u7"
    assert shown_lock_id(wopi("abc")) == "abc"
    assert shown_lock_id(session("secret-key")) == ""
    assert shown_lock_id(None) == ""


@pytest.mark.parametrize(
    ("name", "user", "expected"),
    [
        ("Report.docx", "Alice", "Report (conflict 2026-11-21 Alice).docx"),
        ("Report.docx", "a/b\\c\x07d", "Report (conflict 2026-11-21 a b c d).docx"),
        ("notes", "", "notes (conflict 2026-11-21 unknown)"),
    ],
)
def test_conflict_copy_names(name: str, user: str, expected: str) -> None:
    assert conflict_copy_name(name, NOW, user) == expected


def test_conflict_copy_names_fit_the_name_limit() -> None:
    made = conflict_copy_name("x" * 250 + ".docx", NOW, "Bob" * 100)
    assert len(made.encode()) <= 255 and made.endswith(").docx") and "(conflict 2026-11-21 B" in made
