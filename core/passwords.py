"""The ``password_hashing`` setting: which method new password hashes are made with.

The methods are werkzeug's (``scrypt[:n:r:p]``, ``pbkdf2[:hash[:iterations]]``); the
hashing itself is the metadata store's (`storage.metadata.passwords`)."""

from __future__ import annotations

import hashlib
import re

DEFAULT_METHOD = "scrypt"

_SCRYPT = re.compile(r"scrypt(?::(\d+):(\d+):(\d+))?")
_PBKDF2 = re.compile(r"pbkdf2(?::([a-z0-9_-]+)(?::(\d+))?)?")


def method_error(method: str) -> str | None:
    """Why `method` cannot hash passwords, or None when it can."""
    scrypt = _SCRYPT.fullmatch(method)
    if scrypt is not None:
        if scrypt.group(1) is None:
            return None
        n, r, p = (int(part) for part in scrypt.groups())
        if n < 2 or n & (n - 1) or r < 1 or p < 1:
            return f"{method!r}: scrypt's n must be a power of two above 1, r and p at least 1"
        return None
    pbkdf2 = _PBKDF2.fullmatch(method)
    if pbkdf2 is not None:
        name, iterations = pbkdf2.groups()
        if name is not None and name not in hashlib.algorithms_available:
            return f"{method!r}: {name!r} is not a hash this Python has"
        if iterations is not None and int(iterations) < 1:
            return f"{method!r}: at least one iteration"
        return None
    return f"{method!r} is not scrypt[:n:r:p] or pbkdf2[:hash[:iterations]]"
