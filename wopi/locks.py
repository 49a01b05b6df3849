"""WOPI lock rules as pure functions: (current lock or None, presented ids, now) → decision.

The rules follow the WOPI operations Lock, UnlockAndRelock, RefreshLock, Unlock, GetLock and
the lock checks of PutFile, RenameFile, DeleteFile and PutRelativeFile (overwrite). An
expired lock counts as no lock. A conflict always carries the current lock id ("" when the
file is unlocked), which the view sends back as ``X-WOPI-Lock`` with a 409.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta

from core.errors import BadRequest
from storage.types import Lock

MAX_LOCK_ID_LENGTH = 1024


class LockAction(enum.StrEnum):
    """What the caller must do after a decision."""

    GRANT = "grant"  # create a lock on an unlocked file
    REFRESH = "refresh"  # same lock: reset its expiry
    REPLACE = "replace"  # UnlockAndRelock: swap the old id for the new one
    RELEASE = "release"  # remove the lock
    ALLOW = "allow"  # the guarded operation may proceed; no lock change
    CONFLICT = "conflict"  # 409 with X-WOPI-Lock: current_lock


@dataclass(frozen=True, slots=True)
class LockDecision:
    action: LockAction
    current_lock: str = ""
    reason: str = ""

    @property
    def is_conflict(self) -> bool:
        return self.action is LockAction.CONFLICT


def active_lock(current: Lock | None, now: datetime) -> Lock | None:
    """The lock if it still holds at `now`; an expired lock is no lock."""
    if current is None or current.expires_at <= now:
        return None
    return current


def lock_expiry(now: datetime, lock_seconds: int) -> datetime:
    return now + timedelta(seconds=lock_seconds)


def validate_lock_id(lock_id: str | None, header: str = "X-WOPI-Lock") -> str:
    """A lock id is an opaque non-empty string of at most 1024 characters."""
    if not lock_id:
        raise BadRequest(f"missing {header}")
    if len(lock_id) > MAX_LOCK_ID_LENGTH:
        raise BadRequest(f"{header} is longer than {MAX_LOCK_ID_LENGTH} characters")
    return lock_id


def _conflict(held: Lock | None, reason: str) -> LockDecision:
    return LockDecision(LockAction.CONFLICT, held.lock_id if held else "", reason)


def decide_lock(current: Lock | None, requested: str, now: datetime) -> LockDecision:
    """Lock: unlocked → grant; same id → refresh; another id → conflict."""
    held = active_lock(current, now)
    if held is None:
        return LockDecision(LockAction.GRANT)
    if held.lock_id == requested:
        return LockDecision(LockAction.REFRESH, held.lock_id)
    return _conflict(held, "the file is locked by another session")


def decide_unlock_and_relock(
    current: Lock | None, old_lock: str, new_lock: str, now: datetime
) -> LockDecision:
    """UnlockAndRelock: the old id must be the current lock; then swap it for the new one."""
    held = active_lock(current, now)
    if held is None:
        return _conflict(None, "the file is not locked")
    if held.lock_id != old_lock:
        return _conflict(held, "X-WOPI-OldLock does not match the current lock")
    return LockDecision(LockAction.REPLACE, held.lock_id)


def _holder_only(current: Lock | None, lock_id: str, now: datetime, action: LockAction) -> LockDecision:
    held = active_lock(current, now)
    if held is None:
        return _conflict(None, "the file is not locked")
    if held.lock_id != lock_id:
        return _conflict(held, "the lock does not match")
    return LockDecision(action, held.lock_id)


def decide_refresh(current: Lock | None, lock_id: str, now: datetime) -> LockDecision:
    """RefreshLock: only the holder may extend; unlocked → conflict with an empty lock."""
    return _holder_only(current, lock_id, now, LockAction.REFRESH)


def decide_unlock(current: Lock | None, lock_id: str, now: datetime) -> LockDecision:
    """Unlock: only the holder may unlock; unlocked → conflict with an empty lock."""
    return _holder_only(current, lock_id, now, LockAction.RELEASE)


def decide_put_file(
    current: Lock | None,
    lock_id: str | None,
    file_size: int,
    now: datetime,
) -> LockDecision:
    """PutFile: locked → the lock must match; unlocked → only a 0-byte file may be written
    (how a WOPI client fills a file it has just created)."""
    held = active_lock(current, now)
    if held is None:
        if file_size == 0:
            return LockDecision(LockAction.ALLOW)
        return _conflict(None, "the file is not locked and not empty")
    if held.lock_id != lock_id:
        return _conflict(held, "the lock does not match")
    return LockDecision(LockAction.ALLOW, held.lock_id)


def decide_rename(current: Lock | None, lock_id: str | None, now: datetime) -> LockDecision:
    """RenameFile: an unlocked file may be renamed; a locked one only with its lock."""
    held = active_lock(current, now)
    if held is None:
        return LockDecision(LockAction.ALLOW)
    if held.lock_id != lock_id:
        return _conflict(held, "the lock does not match")
    return LockDecision(LockAction.ALLOW, held.lock_id)


def decide_delete(current: Lock | None, now: datetime) -> LockDecision:
    """DeleteFile: a locked file is never deleted."""
    held = active_lock(current, now)
    if held is not None:
        return _conflict(held, "the file is locked")
    return LockDecision(LockAction.ALLOW)


def decide_overwrite(current: Lock | None, now: datetime) -> LockDecision:
    """PutRelativeFile with overwrite: an existing target that is locked is not replaced."""
    held = active_lock(current, now)
    if held is not None:
        return _conflict(held, "the target file is locked")
    return LockDecision(LockAction.ALLOW)


def current_lock_id(current: Lock | None, now: datetime) -> str:
    """GetLock: the lock id, or "" when unlocked."""
    held = active_lock(current, now)
    return held.lock_id if held else ""
