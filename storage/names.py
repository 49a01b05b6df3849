"""What a user may call a file or folder."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from datetime import datetime

from core.errors import AlreadyExists, InvalidName

MAX_NAME_BYTES = 255


def validate_name(name: str) -> str:
    """Return `name` unchanged if it can be stored, else raise InvalidName saying why."""
    if not name:
        raise InvalidName("the name must not be empty", name)
    if name in (".", ".."):
        raise InvalidName("the name must not be '.' or '..'", name)
    if "/" in name or "\\" in name:
        raise InvalidName("the name must not contain a path segment ('/' or '\\')", name)
    if any(unicodedata.category(char) == "Cc" for char in name):
        raise InvalidName("the name must not contain NUL or control characters", name)
    if len(name.encode("utf-8")) > MAX_NAME_BYTES:
        raise InvalidName(f"the name must not be longer than {MAX_NAME_BYTES} bytes", name)
    return name


def split_extension(name: str) -> tuple[str, str]:
    """("report", ".docx") for "report.docx"; ("", "") parts stay sensible for dotfiles."""
    stem, dot, ext = name.rpartition(".")
    if not dot or not stem:
        return name, ""
    return stem, "." + ext


def free_name(wanted: str, is_taken: Callable[[str], bool], attempts: int = 1000) -> str:
    """`wanted`, or ``stem (n).ext`` with the first n from 2 on that is free."""
    if not is_taken(wanted):
        return wanted
    stem, ext = split_extension(wanted)
    for number in range(2, attempts + 2):
        candidate = validate_name(f"{stem} ({number}){ext}")
        if not is_taken(candidate):
            return candidate
    raise AlreadyExists(f"no free name near {wanted!r}")


def conflict_copy_name(name: str, when: datetime, user: str) -> str:
    """``Report (conflict 2026-11-21 Alice).docx``: the name of a save kept beside `name`
    because another writer changed or held the file. The user's name is cleaned of what a
    name may not hold and shortened so that the result fits."""
    stem, ext = split_extension(name)
    who = "".join(" " if char in "/\\" or unicodedata.category(char) == "Cc" else char for char in user)
    who = " ".join(who.split()) or "unknown"
    marker = f" (conflict {when:%Y-%m-%d} {who})"
    while len(f"{stem}{marker}{ext}".encode()) > MAX_NAME_BYTES and len(who) > 1:
        who = who[:-1]
        marker = f" (conflict {when:%Y-%m-%d} {who})"
    while len(f"{stem}{marker}{ext}".encode()) > MAX_NAME_BYTES and stem:
        stem = stem[:-1]
    return validate_name(f"{stem}{marker}{ext}")
