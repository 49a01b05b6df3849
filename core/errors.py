"""Domain exceptions. Each carries the data a protocol edge needs (a message, and for
some the values a caller acts on), never an HTTP status: each blueprint maps them to its
protocol's answer with one table (``server/errors.py``).

The tree::

    DocbridgeError                      message
    ├── BadRequest                      the request cannot be acted on as sent
    │   ├── InvalidName                 a user-given name that cannot be stored
    │   └── IncompleteBody              a request body cut off before its end, or badly framed
    ├── Unauthenticated                 no caller, or credentials that do not check out
    │   └── InvalidToken                a token that is malformed, forged, expired or bound elsewhere
    ├── AccessDenied                    the caller may not do this
    │   └── OriginNotAllowed            an outbound URL outside the configured peers
    ├── AlreadyExists                   the name is taken
    ├── NotFound                        nothing the caller may see by that id
    ├── Conflict                        the state changed under the caller
    │   ├── VersionConflict             expected_version, current_version
    │   └── LockConflict                current_lock, reason, holder (who holds the file)
    ├── PayloadTooLarge                 limit
    ├── TooEarly                        the file is still being written
    ├── NotImplementedFeature           not offered here
    └── ServerError                     Docbridge or a peer failed
        ├── UpstreamError               a peer (document server, WOPI client, provider) failed
        │   └── UpstreamInterrupted     its answer broke off mid-way: transient
        └── StorageUnavailable          transient: the caller may retry

Nothing above storage inspects message text.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


class DocbridgeError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BadRequest(DocbridgeError):
    pass


class InvalidName(BadRequest):
    def __init__(self, message: str, name: str = "") -> None:
        super().__init__(message)
        self.name = name


class IncompleteBody(BadRequest):
    """The request body ended before its Content-Length, or its chunked framing broke:
    nothing of it may be stored."""


class Unauthenticated(DocbridgeError):
    pass


class InvalidToken(Unauthenticated):
    pass


class AccessDenied(DocbridgeError):
    pass


class AlreadyExists(DocbridgeError):
    pass


class NotFound(DocbridgeError):
    pass


class Conflict(DocbridgeError):
    pass


class VersionConflict(Conflict):
    def __init__(self, message: str, expected_version: int | None, current_version: int) -> None:
        super().__init__(message)
        self.expected_version = expected_version
        self.current_version = current_version


@dataclass(frozen=True, slots=True)
class LockHolder:
    """Who holds a file's lock, as people and other writers are told: the app, the user
    (id and display name), the kind of lock (``wopi`` or ``session``) and when it ends."""

    app_name: str
    user_id: str | None
    user_name: str
    kind: str
    expires_at: datetime


class LockConflict(Conflict):
    """The writer does not hold the file's lock. `current_lock` is the lock id a WOPI
    client may be shown ("" when the file is unlocked, or locked by something other than a
    WOPI client); `holder` says who holds it (None when nobody does)."""

    def __init__(self, message: str, current_lock: str, reason: str = "", holder: LockHolder | None = None) -> None:
        super().__init__(message)
        self.current_lock = current_lock
        self.reason = reason or message
        self.holder = holder


class PayloadTooLarge(DocbridgeError):
    def __init__(self, message: str, limit: int) -> None:
        super().__init__(message)
        self.limit = limit


class TooEarly(DocbridgeError):
    pass


class NotImplementedFeature(DocbridgeError):
    pass


class ServerError(DocbridgeError):
    pass


class UpstreamError(ServerError):
    pass


class UpstreamInterrupted(UpstreamError):
    """A peer's answer broke off before its end (a cut connection, a short body): nothing
    of it is used, and the caller may retry."""


class StorageUnavailable(ServerError):
    pass


class OriginNotAllowed(AccessDenied):
    """An outbound URL outside the configured peer origins (SSRF fence)."""
