"""Password hashes of users and links, made with the configured method (`core.passwords`).

A stored hash names its own method, so hashes made before the setting changed keep
verifying, and the next password change moves them to the new method."""

from __future__ import annotations

import secrets
from functools import cached_property

from werkzeug.security import check_password_hash, generate_password_hash

from core.passwords import DEFAULT_METHOD


class PasswordHasher:
    def __init__(self, method: str = DEFAULT_METHOD) -> None:
        self.method = method

    @cached_property
    def _stand_in(self) -> str:
        """Checked when there is no stored hash, so a wrong name costs as much as a wrong
        password; made at the first such check, not at every start."""
        return generate_password_hash(secrets.token_hex(16), method=self.method)

    def hash(self, password: str) -> str:
        return generate_password_hash(password, method=self.method)

    def check(self, stored: str | None, password: str) -> bool:
        if not stored:
            check_password_hash(self._stand_in, password)
            return False
        return check_password_hash(stored, password)
