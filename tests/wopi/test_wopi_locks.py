from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.errors import BadRequest
from core.ids import ResourceId
from storage.types import Lock, LockKind
from wopi import locks
from wopi.locks import LockAction as A

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
FILE = ResourceId("s", "p", "o")


def held(lock_id: str, expires_in: int = 600) -> Lock:
    return Lock(FILE, lock_id, "Collabora", "u1", NOW + timedelta(seconds=expires_in))


EXPIRED = held("L", expires_in=-1)

LOCK_TABLE = [
    # current, requested, action, current_lock in the answer
    (None, "L", A.GRANT, ""),
    (EXPIRED, "L2", A.GRANT, ""),
    (held("L"), "L", A.REFRESH, "L"),
    (held("L"), "other", A.CONFLICT, "L"),
    (held("L", expires_in=0), "other", A.GRANT, ""),  # expiry is exclusive
]


@pytest.mark.parametrize(("current", "requested", "action", "answer"), LOCK_TABLE)
def test_lock(current: Lock | None, requested: str, action: A, answer: str) -> None:
    decision = locks.decide_lock(current, requested, NOW)
    assert (decision.action, decision.current_lock) == (action, answer)


@pytest.mark.parametrize(
    ("current", "old", "action", "answer"),
    [
        (None, "L", A.CONFLICT, ""),
        (EXPIRED, "L", A.CONFLICT, ""),
        (held("L"), "L", A.REPLACE, "L"),
        (held("L"), "wrong", A.CONFLICT, "L"),
    ],
)
def test_unlock_and_relock(current: Lock | None, old: str, action: A, answer: str) -> None:
    decision = locks.decide_unlock_and_relock(current, old, "NEW", NOW)
    assert (decision.action, decision.current_lock) == (action, answer)


@pytest.mark.parametrize(
    ("decide", "matched"),
    [(locks.decide_refresh, A.REFRESH), (locks.decide_unlock, A.RELEASE)],
)
@pytest.mark.parametrize(
    ("current", "presented", "expect_match", "answer"),
    [
        (None, "L", False, ""),
        (EXPIRED, "L", False, ""),
        (held("L"), "L", True, "L"),
        (held("L"), "wrong", False, "L"),
    ],
)
def test_refresh_and_unlock(decide, matched, current, presented, expect_match, answer) -> None:  # type: ignore[no-untyped-def]
    decision = decide(current, presented, NOW)
    assert decision.action == (matched if expect_match else A.CONFLICT)
    assert decision.current_lock == answer


SESSION = Lock(FILE, "doc-key", "OnlyOffice", "u2", NOW + timedelta(seconds=600), LockKind.SESSION, "Bob")


@pytest.mark.parametrize(
    ("current", "answer", "conflict"),
    [(None, "", False), (EXPIRED, "", False), (held("L"), "L", False), (SESSION, "", True)],
)
def test_get_lock(current: Lock | None, answer: str, conflict: bool) -> None:
    decision = locks.decide_get_lock(current, NOW)
    assert (decision.current_lock, decision.is_conflict) == (answer, conflict)


@pytest.mark.parametrize(
    "decide",
    [
        lambda current: locks.decide_lock(current, "doc-key", NOW),
        lambda current: locks.decide_unlock_and_relock(current, "doc-key", "NEW", NOW),
        lambda current: locks.decide_refresh(current, "doc-key", NOW),
        lambda current: locks.decide_unlock(current, "doc-key", NOW),
        lambda current: locks.decide_get_lock(current, NOW),
    ],
    ids=["lock", "relock", "refresh", "unlock", "get-lock"],
)
def test_a_session_lock_is_another_interface_and_names_its_holder(decide) -> None:  # type: ignore[no-untyped-def]
    """Even with the session's document key as X-WOPI-Lock, a WOPI client cannot touch a
    session's lock; the conflict shows no key and says who holds the file."""
    decision = decide(SESSION)
    assert decision.is_conflict and decision.other_interface
    assert decision.current_lock == ""
    assert decision.reason == "the file is being edited in OnlyOffice by Bob"
    assert decision.holder == SESSION


@pytest.mark.parametrize(
    "lock_id",
    ["x", "1" * 1024, '{"S":"0136ad16","E":2,"M":"DE997C5AC4E6"}'],
)
def test_valid_lock_ids(lock_id: str) -> None:
    assert locks.validate_lock_id(lock_id) == lock_id


@pytest.mark.parametrize("lock_id", [None, "", "1" * 1025])
def test_invalid_lock_ids(lock_id: str | None) -> None:
    with pytest.raises(BadRequest):
        locks.validate_lock_id(lock_id)


def test_conflicts_say_why() -> None:
    decision = locks.decide_lock(held("L"), "other", NOW)
    assert decision.is_conflict and decision.reason
