from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.errors import BadRequest
from core.ids import ResourceId
from storage.types import Lock
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


@pytest.mark.parametrize(
    ("current", "presented", "size", "action", "answer"),
    [
        (held("L"), "L", 10, A.ALLOW, "L"),
        (held("L"), "wrong", 10, A.CONFLICT, "L"),
        (held("L"), None, 0, A.CONFLICT, "L"),
        (None, None, 0, A.ALLOW, ""),
        (None, "L", 0, A.ALLOW, ""),
        (None, None, 10, A.CONFLICT, ""),
        (None, "L", 10, A.CONFLICT, ""),
        (EXPIRED, "L", 10, A.CONFLICT, ""),
        (EXPIRED, None, 0, A.ALLOW, ""),
    ],
)
def test_put_file(current, presented, size, action, answer) -> None:  # type: ignore[no-untyped-def]
    decision = locks.decide_put_file(current, presented, size, NOW)
    assert (decision.action, decision.current_lock) == (action, answer)


@pytest.mark.parametrize(
    ("current", "presented", "action", "answer"),
    [
        (None, None, A.ALLOW, ""),
        (None, "anything", A.ALLOW, ""),
        (held("L"), "L", A.ALLOW, "L"),
        (held("L"), "wrong", A.CONFLICT, "L"),
        (held("L"), None, A.CONFLICT, "L"),
        (EXPIRED, None, A.ALLOW, ""),
    ],
)
def test_rename(current, presented, action, answer) -> None:  # type: ignore[no-untyped-def]
    decision = locks.decide_rename(current, presented, NOW)
    assert (decision.action, decision.current_lock) == (action, answer)


@pytest.mark.parametrize("decide", [locks.decide_delete, locks.decide_overwrite])
@pytest.mark.parametrize(
    ("current", "action", "answer"),
    [(None, A.ALLOW, ""), (EXPIRED, A.ALLOW, ""), (held("L"), A.CONFLICT, "L")],
)
def test_delete_and_overwrite(decide, current, action, answer) -> None:  # type: ignore[no-untyped-def]
    decision = decide(current, NOW)
    assert (decision.action, decision.current_lock) == (action, answer)


@pytest.mark.parametrize(
    ("current", "answer"), [(None, ""), (EXPIRED, ""), (held("L"), "L")]
)
def test_get_lock(current: Lock | None, answer: str) -> None:
    assert locks.current_lock_id(current, NOW) == answer


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


def test_put_file_after_unlock_is_refused() -> None:
    """WOPI: an unlocked, non-empty file takes no PutFile, whatever lock id is presented,
    even the one that was just released."""
    decision = locks.decide_put_file(None, "L", 10, NOW)
    assert (decision.action, decision.current_lock) == (A.CONFLICT, "")
