"""Who may change a file, given its one lock and what the writer holds: pure rules for every
writer (the file API and web UI, WOPI clients, ONLYOFFICE editing sessions).

A file has at most one lock (`storage.types.Lock`): a WOPI client's, or an editing
session's shared by its co-editors. The rules, for a change of the file's content, its
name, or its deletion:

- A lock that has expired or was released is no lock.
- A writer that holds the lock (same kind, same lock id) may change the file.
- Any other writer is refused while the file is locked: a `LockConflict` that names the
  holder (app, user, expiry).
- On an unlocked file, a writer holding no lock (the API) may change anything.
- A WOPI client may rename an unlocked file, but writes content only to an empty one (how
  it fills a file it has just created), or with the lock it held until less than its
  grace period ago: Unlock and the last PutFile race in real clients, and the save wins.
- An editing session writes an unlocked file's content only when the file is still as the
  session knows it: at the version it started from, or at a version it saved itself.
  Otherwise someone else changed the file under it (its lock had expired or was taken
  away) and the save is refused here; the session keeps it as a conflict copy.

Session document keys are never shown to other writers: `shown_lock_id` is "" for them.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from core.errors import LockConflict, LockHolder
from storage.types import Lock, LockClaim, LockKind


class Operation(enum.StrEnum):
    CONTENT = "content"  # a new current version: a save, an upload, a restore
    RENAME = "rename"
    DELETE = "delete"


@dataclass(frozen=True, slots=True)
class LockRecord:
    """A file's lock row as stored: the lock, and when it was released (None while not).
    The row outlives its lock so that a WOPI save racing the Unlock can be recognised."""

    lock: Lock
    released_at: datetime | None = None

    def held_at(self, now: datetime) -> Lock | None:
        """The lock if it still holds at `now` (expiry is exclusive)."""
        if self.released_at is not None or self.lock.expires_at <= now:
            return None
        return self.lock

    def ended_at(self, now: datetime) -> datetime | None:
        """When the lock ended: released, or expired; None while it holds."""
        if self.released_at is not None:
            return self.released_at
        return self.lock.expires_at if self.lock.expires_at <= now else None


def holds(lock: Lock, claim: LockClaim | None) -> bool:
    """Whether the writer presenting `claim` holds `lock`."""
    return claim is not None and claim.lock_id is not None and lock.kind is claim.kind and lock.lock_id == claim.lock_id


def may_join(lock: Lock | None, app_name: str) -> bool:
    """Whether opening the file for editing in `app_name` may go ahead while `lock` holds:
    only to co-edit in the app that holds it (one Collabora document, one ONLYOFFICE
    session). Another app opens the file read-only."""
    return lock is None or lock.app_name == app_name


def holder_name(lock: Lock) -> str:
    return lock.user_name or lock.user_id or "another user"


def describe(lock: Lock) -> str:
    """``being edited in Collabora by Alice``: what people are told about a locked file."""
    return f"being edited in {lock.app_name or 'another app'} by {holder_name(lock)}"


def shown_lock_id(lock: Lock | None) -> str:
    """The lock id other writers may see: a WOPI lock's string; "" for none, and for a
    session (its document key is the Document Server's cache id and stays private)."""
    return lock.lock_id if lock is not None and lock.kind is LockKind.WOPI else ""


def holder_of(lock: Lock) -> LockHolder:
    return LockHolder(lock.app_name, lock.user_id, lock.user_name, lock.kind.value, lock.expires_at)


def conflict(lock: Lock | None, reason: str) -> LockConflict:
    """The error for a writer refused because of `lock` (None: the file is not locked, and
    that is why this writer may not write)."""
    if lock is not None:
        return LockConflict(f"the file is {describe(lock)}", shown_lock_id(lock), reason, holder_of(lock))
    return LockConflict(reason, "", reason)


@dataclass(frozen=True, slots=True)
class WriteDecision:
    allowed: bool
    reason: str = ""
    holder: Lock | None = None  # the lock that refuses the writer, when one does

    def raise_if_refused(self) -> None:
        if not self.allowed:
            raise conflict(self.holder, self.reason)


ALLOWED = WriteDecision(True)


def within_grace(record: LockRecord | None, claim: LockClaim, now: datetime) -> bool:
    """A WOPI save presenting the lock that the same app and user held until less than
    `claim.grace_seconds` ago (released or expired), with nobody locking since."""
    if record is None or claim.kind is not LockKind.WOPI or claim.grace_seconds <= 0:
        return False
    ended = record.ended_at(now)
    lock = record.lock
    return (
        ended is not None
        and lock.kind is LockKind.WOPI
        and lock.lock_id == claim.lock_id
        and lock.app_name == claim.app_name
        and lock.user_id == claim.user_id
        and 0 <= (now - ended).total_seconds() < claim.grace_seconds
    )


def decide_write(
    record: LockRecord | None,
    claim: LockClaim | None,
    operation: Operation,
    now: datetime,
    *,
    file_size: int,
    own_version: bool,
) -> WriteDecision:
    """May the writer presenting `claim` (None: it holds no lock) do `operation` on a file
    whose lock row is `record`? `file_size` is the file's current size; `own_version` says
    the current version is one a session claim started from or saved itself."""
    held = record.held_at(now) if record is not None else None
    if held is not None:
        if holds(held, claim):
            return ALLOWED
        return WriteDecision(False, f"the file is {describe(held)}", held)
    if claim is None or operation is not Operation.CONTENT:
        return ALLOWED
    if claim.kind is LockKind.WOPI:
        if file_size == 0 or within_grace(record, claim, now):
            return ALLOWED
        return WriteDecision(False, "the file is not locked and not empty")
    if own_version:
        return ALLOWED
    return WriteDecision(False, "the file was changed by another writer during the editing session")


class SessionAction(enum.StrEnum):
    GRANT = "grant"  # lock the unlocked file for the session
    REFRESH = "refresh"  # the session holds the lock: extend it
    REPLACE = "replace"  # a spent session of the same app holds it: the new session takes over
    CONFLICT = "conflict"


@dataclass(frozen=True, slots=True)
class SessionDecision:
    action: SessionAction
    reason: str = ""
    holder: Lock | None = None


def decide_session(
    current: Lock | None, key: str, app_name: str, *, resumable: bool, replace_spent: bool
) -> SessionDecision:
    """The editing session of document key `key` (app `app_name`) asks for the lock.

    `current` is the lock holding now (None when unlocked). `resumable` says the file is
    still as the session knows it, so it may lock an unlocked file (always so on opening:
    the key was chosen for the file as it is). `replace_spent` says any other session key
    of this app is spent (the key was just settled for the file), so its lock protects
    nothing and the new session takes it over."""
    if current is None:
        if resumable:
            return SessionDecision(SessionAction.GRANT)
        return SessionDecision(SessionAction.CONFLICT, "the file was changed by another writer during the editing session")
    if current.kind is LockKind.SESSION and current.lock_id == key:
        return SessionDecision(SessionAction.REFRESH)
    if replace_spent and current.kind is LockKind.SESSION and current.app_name == app_name:
        return SessionDecision(SessionAction.REPLACE)
    return SessionDecision(SessionAction.CONFLICT, f"the file is {describe(current)}", current)
