"""WOPI's own lock operations as pure functions: (current lock or None, presented ids, now)
→ decision, over the one lock record every writer shares (`storage.types.Lock`).

The rules follow the WOPI operations Lock, UnlockAndRelock, RefreshLock, Unlock and
GetLock. An expired lock counts as no lock. Only a WOPI lock can be refreshed, replaced or
released by a WOPI client; a file held by an editing session (another interface) answers
every one of them with a conflict that names the holder. A conflict carries the lock id the
client may see: the current WOPI lock, "" when unlocked or held by another interface.

Whether a WOPI client may save, rename or delete is the storage's rule for every writer
(`storage.lock_rules`), checked again when the change commits.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta

from core.errors import BadRequest
from storage.lock_rules import describe, shown_lock_id
from storage.types import Lock, LockKind

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
    holder: Lock | None = None  # who holds the file, on a conflict with a lock

    @property
    def is_conflict(self) -> bool:
        return self.action is LockAction.CONFLICT

    @property
    def other_interface(self) -> bool:
        """The file is held by something other than a WOPI client (X-WOPI-LockedByOtherInterface)."""
        return self.holder is not None and self.holder.kind is not LockKind.WOPI


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
    if held is not None and held.kind is not LockKind.WOPI:
        reason = f"the file is {describe(held)}"
    return LockDecision(LockAction.CONFLICT, shown_lock_id(held), reason, held)


def _is_wopi_lock(held: Lock, lock_id: str) -> bool:
    return held.kind is LockKind.WOPI and held.lock_id == lock_id


def decide_lock(current: Lock | None, requested: str, now: datetime) -> LockDecision:
    """Lock: unlocked → grant; same id → refresh; another id, or another interface → conflict."""
    held = active_lock(current, now)
    if held is None:
        return LockDecision(LockAction.GRANT)
    if _is_wopi_lock(held, requested):
        return LockDecision(LockAction.REFRESH, held.lock_id)
    return _conflict(held, "the file is locked by another session")


def decide_unlock_and_relock(
    current: Lock | None, old_lock: str, new_lock: str, now: datetime
) -> LockDecision:
    """UnlockAndRelock: the old id must be the current lock; then swap it for the new one."""
    held = active_lock(current, now)
    if held is None:
        return _conflict(None, "the file is not locked")
    if not _is_wopi_lock(held, old_lock):
        return _conflict(held, "X-WOPI-OldLock does not match the current lock")
    return LockDecision(LockAction.REPLACE, held.lock_id)


def _holder_only(current: Lock | None, lock_id: str, now: datetime, action: LockAction) -> LockDecision:
    held = active_lock(current, now)
    if held is None:
        return _conflict(None, "the file is not locked")
    if not _is_wopi_lock(held, lock_id):
        return _conflict(held, "the lock does not match")
    return LockDecision(action, held.lock_id)


def decide_refresh(current: Lock | None, lock_id: str, now: datetime) -> LockDecision:
    """RefreshLock: only the holder may extend; unlocked → conflict with an empty lock."""
    return _holder_only(current, lock_id, now, LockAction.REFRESH)


def decide_unlock(current: Lock | None, lock_id: str, now: datetime) -> LockDecision:
    """Unlock: only the holder may unlock; unlocked → conflict with an empty lock."""
    return _holder_only(current, lock_id, now, LockAction.RELEASE)


def decide_get_lock(current: Lock | None, now: datetime) -> LockDecision:
    """GetLock: the WOPI lock id, or "" when unlocked. A file held by another interface has
    no lock a WOPI client could use: 409 with an empty X-WOPI-Lock, as WOPI prescribes for
    a lock that is not representable as a WOPI lock."""
    held = active_lock(current, now)
    if held is None:
        return LockDecision(LockAction.ALLOW, "")
    if held.kind is not LockKind.WOPI:
        return _conflict(held, "")
    return LockDecision(LockAction.ALLOW, held.lock_id)
