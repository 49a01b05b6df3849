"""Users, their personal spaces and their access tokens (``X-Access-Token``)."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import threading
import time
from typing import Any

from sqlalchemy import bindparam, delete, func, insert, or_, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from core.errors import AlreadyExists, BadRequest, NotFound
from core.ids import ResourceId, new_opaque_id
from storage.metadata.database import (
    LIKE_ESCAPE,
    cached_read,
    contains_pattern,
    now_utc,
    read_connection,
    write_transaction,
)
from storage.metadata.passwords import PasswordHasher
from storage.metadata.schema import spaces, user_tokens, users
from storage.service import StorageService
from storage.types import User

TOKEN_PREFIX = "dbt_"  # noqa: S105 - marks our tokens, not a secret
_USER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class _VerifiedPasswords:
    """Remembers recent successful password checks for a minute.

    Scripts authenticate every request with Basic credentials; rehashing with scrypt each
    time would cost ~100 ms of CPU per request. The key covers the stored hash, so a
    changed password misses the cache; only successes are kept."""

    def __init__(self, ttl_seconds: float = 60.0, capacity: int = 1024) -> None:
        self._ttl = ttl_seconds
        self._capacity = capacity
        self._entries: dict[str, float] = {}
        self._lock = threading.Lock()

    @staticmethod
    def _key(stored_hash: str, password: str) -> str:
        return hashlib.sha256(f"{stored_hash}\x00{password}".encode()).hexdigest()

    def seen(self, stored_hash: str, password: str) -> bool:
        key = self._key(stored_hash, password)
        with self._lock:
            expires = self._entries.get(key)
            if expires is None or expires < time.monotonic():
                self._entries.pop(key, None)
                return False
            return True

    def remember(self, stored_hash: str, password: str) -> None:
        with self._lock:
            if len(self._entries) >= self._capacity:
                self._entries.clear()
            self._entries[self._key(stored_hash, password)] = time.monotonic() + self._ttl


_USER_BY_ID = select(users).where(users.c.id == bindparam("user_id"))  # every request reads one


class UserStore:
    def __init__(self, engine: Engine, storage: StorageService, passwords: PasswordHasher | None = None) -> None:
        self.engine = engine
        self.storage = storage
        self.passwords = passwords or PasswordHasher()
        self._verified = _VerifiedPasswords()

    def _user(self, row: Any) -> User:
        return User(
            id=row.id,
            name=row.name,
            display_name=row.display_name,
            email=row.email,
            is_admin=row.is_admin,
            home_id=ResourceId(self.storage.storage_id, row.home_space_id, row.home_space_id),
        )

    def create(
        self,
        name: str,
        password: str | None,
        *,
        is_admin: bool = False,
        display_name: str = "",
        email: str = "",
        oidc_subject: str | None = None,
    ) -> User:
        if not _USER_NAME.match(name):
            raise BadRequest("a user name is 1–64 letters, digits, '.', '_', '@' or '-'")
        user_id = new_opaque_id()
        try:
            with write_transaction(self.engine) as connection:
                if connection.execute(select(users.c.id).where(users.c.name == name)).first():
                    raise AlreadyExists(f"user {name!r} already exists")
                # The space row references the user, so the user row goes in first.
                connection.execute(
                    insert(users).values(
                        id=user_id,
                        name=name,
                        display_name=display_name or name,
                        email=email,
                        password_hash=self.passwords.hash(password) if password else None,
                        is_admin=is_admin,
                        home_space_id="",
                        oidc_subject=oidc_subject,
                        created_at=now_utc(),
                    )
                )
                home = self.storage.create_space(connection, user_id, name)
                connection.execute(update(users).where(users.c.id == user_id).values(home_space_id=home.space_id))
        except IntegrityError:
            raise AlreadyExists(f"user {name!r} already exists") from None
        return self.get(user_id)

    def get(self, user_id: str) -> User:
        def load(connection: Connection) -> User:
            row = connection.execute(_USER_BY_ID, {"user_id": user_id}).first()
            if row is None:
                raise NotFound("no such user")
            return self._user(row)

        return cached_read(self.engine, ("user", user_id), load)

    def find(self, user_id: str) -> User | None:
        try:
            return self.get(user_id)
        except NotFound:
            return None

    def by_name(self, name: str) -> User:
        with read_connection(self.engine) as connection:
            row = connection.execute(select(users).where(users.c.name == name)).first()
        if row is None:
            raise NotFound(f"no user {name!r}")
        return self._user(row)

    def list(self) -> list[User]:
        with read_connection(self.engine) as connection:
            return [self._user(row) for row in connection.execute(select(users).order_by(users.c.name))]

    def search(self, text: str, limit: int) -> tuple[User, ...]:
        """Users whose name or display name holds `text` (any case), by name."""
        pattern = contains_pattern(text)
        with read_connection(self.engine) as connection:
            rows = connection.execute(
                select(users)
                .where(or_(func.lower(users.c.name).like(pattern, escape=LIKE_ESCAPE),
                           func.lower(users.c.display_name).like(pattern, escape=LIKE_ESCAPE)))
                .order_by(users.c.name)
                .limit(limit)
            )
            return tuple(self._user(row) for row in rows)

    def count(self) -> int:
        with read_connection(self.engine) as connection:
            return len(connection.execute(select(users.c.id)).all())

    def delete(self, name: str) -> None:
        user = self.by_name(name)
        with write_transaction(self.engine) as connection:
            space_ids = [row.id for row in connection.execute(select(spaces.c.id).where(spaces.c.owner_id == user.id))]
            keys = self.storage.space_blob_keys(connection, space_ids)
            connection.execute(delete(users).where(users.c.id == user.id))
        self.storage.delete_unreferenced_blobs(keys)

    def set_password(self, name: str, password: str) -> None:
        user = self.by_name(name)
        with write_transaction(self.engine) as connection:
            connection.execute(
                update(users).where(users.c.id == user.id).values(password_hash=self.passwords.hash(password))
            )

    def check_password(self, name: str, password: str) -> User | None:
        with read_connection(self.engine) as connection:
            row = connection.execute(select(users).where(users.c.name == name)).first()
        stored = row.password_hash if row is not None else None
        if not stored:
            self.passwords.check(None, password)  # a wrong name costs what a wrong password does
            return None
        if not (self._verified.seen(stored, password) or self.passwords.check(stored, password)):
            return None
        self._verified.remember(stored, password)
        return self._user(row)

    def issue_token(self, user_id: str, label: str = "") -> str:
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        with write_transaction(self.engine) as connection:
            connection.execute(
                insert(user_tokens).values(
                    token_hash=_token_hash(token), user_id=user_id, label=label, created_at=now_utc()
                )
            )
        return token

    def by_token(self, token: str) -> User | None:
        if not token.startswith(TOKEN_PREFIX):
            return None
        digest = _token_hash(token)
        with read_connection(self.engine) as connection:
            row = connection.execute(
                select(users, user_tokens.c.token_hash)
                .join(user_tokens, user_tokens.c.user_id == users.c.id)
                .where(user_tokens.c.token_hash == digest)
            ).first()
        if row is None or not hmac.compare_digest(row.token_hash, digest):
            return None
        return self._user(row)

    def by_oidc_subject(self, subject: str) -> User | None:
        with read_connection(self.engine) as connection:
            row = connection.execute(select(users).where(users.c.oidc_subject == subject)).first()
        return self._user(row) if row else None
