"""The lock and session broker: one lock per file, for every writer.

Every path that changes a file goes through it or through the storage service's commit,
which applies the same rules (`storage.lock_rules`) inside its own transaction:

- WOPI clients lock, refresh, relock and unlock through `update`, with the decisions of
  their protocol (`wopi.locks`) built on the shared record;
- ONLYOFFICE editing sessions hold a session lock (`hold_session`, `release_session`):
  taken when the first editor opens the file for editing, shared by co-editors (same
  document key), refreshed while editors are there, released when the session ends;
- the file API, the web UI and PutRelativeFile targets hold no lock: they may change only
  unlocked files (the commit refuses them otherwise);
- admins list locks and release one (`active`, `release`).

Locks live in the metadata store and change by compare-and-set in one transaction, so
instances sharing a database agree on them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import datetime, timedelta

from core.ids import ResourceId
from storage.lock_rules import SessionAction, conflict, decide_session, holds
from storage.metadata.database import now_utc
from storage.metadata.locks import LockDecision, LockStore
from storage.types import Lock, LockClaim, LockKind

ADMIN_RELEASE = "released by admin"


class LockBroker:
    def __init__(self, store: LockStore, clock: Callable[[], datetime] = now_utc) -> None:
        self.store = store
        self.clock = clock

    # --- reading --------------------------------------------------------------------------

    def get(self, file_id: ResourceId, now: datetime | None = None) -> Lock | None:
        """The lock holding now, None when the file is unlocked."""
        return self.store.get(file_id, now or self.clock())

    def holding(self, file_ids: Iterable[ResourceId]) -> dict[ResourceId, Lock]:
        """The locks holding now on any of `file_ids` (for listings)."""
        return self.store.holding(file_ids, self.clock())

    def active(self) -> list[tuple[Lock, str]]:
        """Every lock holding now, with its file's name."""
        return self.store.all_active(self.clock())

    # --- changing ---------------------------------------------------------------------------

    def update(self, file_id: ResourceId, decide: LockDecision, now: datetime | None = None) -> Lock | None:
        """Compare-and-set with a protocol's own decision (WOPI Lock, Unlock, …)."""
        return self.store.update(file_id, decide, now or self.clock())

    def hold_session(
        self,
        file_id: ResourceId,
        claim: LockClaim,
        *,
        user_name: str,
        seconds: int,
        resumable: bool,
        replace_spent: bool = False,
    ) -> Lock:
        """Take or refresh the session lock of `claim` (kind session, lock id = the document
        key) for `seconds`; LockConflict naming the holder when another writer holds the
        file (see `lock_rules.decide_session` for `resumable` and `replace_spent`)."""
        assert claim.kind is LockKind.SESSION and claim.lock_id
        key = claim.lock_id
        moment = self.clock()
        expires = moment + timedelta(seconds=seconds)

        def decide(current: Lock | None) -> Lock | None:
            decision = decide_session(current, key, claim.app_name, resumable=resumable, replace_spent=replace_spent)
            if decision.action is SessionAction.CONFLICT:
                raise conflict(decision.holder, decision.reason)
            if decision.action is SessionAction.REFRESH and current is not None:
                return replace(current, expires_at=max(expires, current.expires_at))
            return Lock(file_id, key, claim.app_name, claim.user_id, expires, LockKind.SESSION, user_name)

        held = self.store.update(file_id, decide, moment)
        assert held is not None
        return held

    def release_session(self, file_id: ResourceId, key: str, app_name: str) -> bool:
        """End the session lock of `key`, if it still holds; True when it did."""
        claim = LockClaim.session(key, app_name, None)
        released = False

        def decide(current: Lock | None) -> Lock | None:
            nonlocal released
            if current is not None and holds(current, claim):
                released = True
                return None
            return current

        self.store.update(file_id, decide, self.clock())
        return released

    def release(self, file_id: ResourceId) -> Lock | None:
        """An admin's override: end whatever lock holds the file; return it (None if none).

        The writer that held it is refused from then on: a WOPI client gets 409, an
        editing session's next save is kept as a conflict copy if anyone else changed the
        file meanwhile."""
        ended: Lock | None = None

        def decide(current: Lock | None) -> Lock | None:
            nonlocal ended
            ended = current
            return None

        self.store.update(file_id, decide, self.clock(), change=ADMIN_RELEASE)
        return ended
