"""Document keys: the Document Server's cache id for one state of one file.

Rules (ONLYOFFICE Docs API, ``document.key``): at most 128 characters from
``[0-9a-zA-Z._=-]``; co-editors of a file share one key; the key stays while a session
lives (forcesave included) and changes after every final save, because the DS serves its
cached copy for a key it has seen. A key is derived, never random, so every instance of
Docbridge computes the same one: a keyed hash of the file id, the version the session
started from and the file's key epoch (bumped when a session ends with a save or a save
error). Versions shown in the editor's history get their own stable keys.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

MAX_KEY_LENGTH = 128
_NOT_ALLOWED = re.compile(r"[^0-9a-zA-Z._=-]")
_VALID = re.compile(r"^[0-9a-zA-Z._=-]{1,128}$")


def clean_key(text: str) -> str:
    """`text` reduced to the key alphabet and length; never empty."""
    cleaned = _NOT_ALLOWED.sub("", text)[:MAX_KEY_LENGTH]
    return cleaned or "0"


def is_valid_key(text: str) -> bool:
    return bool(_VALID.match(text))


def _digest(salt: bytes, *parts: str) -> str:
    message = "\x1f".join(parts).encode("utf-8")
    raw = hmac.new(salt, message, hashlib.sha256).digest()[:24]
    # url-safe base64 uses "-" and "_": both allowed; "=" padding is allowed too.
    return base64.urlsafe_b64encode(raw).decode("ascii")


def document_key(salt: bytes, file_id: str, version: int, epoch: int) -> str:
    """The key of the editing session of `file_id` based on `version`, in key `epoch`."""
    return clean_key(f"d{version}.{epoch}.{_digest(salt, 'doc', file_id, str(version), str(epoch))}")


def history_key(salt: bytes, file_id: str, version: int) -> str:
    """A stable key for showing stored version `version` in the editor's history."""
    return clean_key(f"h{version}.{_digest(salt, 'history', file_id, str(version))}")


def conversion_key(salt: bytes, file_id: str, version: int, attempt: str) -> str:
    """A conversion cache key; the DS caches results and errors, so each attempt gets one."""
    return clean_key(f"c{version}.{_digest(salt, 'convert', file_id, str(version), attempt)}")
