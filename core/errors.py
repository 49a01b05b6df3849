"""Domain exceptions. Each carries the data a protocol edge needs, never HTTP.

The tree::

    DocbridgeError                      code, http_status, message
    ├── BadRequest                      INVALID_PARAMETER 400
    │   ├── InvalidName                 a user-given name that cannot be stored
    │   └── IncompleteBody              a request body cut off before its end, or badly framed
    ├── Unauthenticated                 UNAUTHENTICATED 401
    │   └── InvalidToken                a token that is malformed, forged, expired or bound elsewhere
    ├── AccessDenied                    PERMISSION_DENIED 403
    │   └── OriginNotAllowed            an outbound URL outside the configured peers
    ├── AlreadyExists                   RESOURCE_ALREADY_EXISTS 403 (the oCIS contract's status)
    ├── NotFound                        RESOURCE_NOT_FOUND 404
    ├── Conflict                        CONFLICT 409
    │   ├── VersionConflict             expected_version, current_version
    │   └── LockConflict                current_lock, reason
    ├── PayloadTooLarge                 PAYLOAD_TOO_LARGE 413, limit
    ├── TooEarly                        TOO_EARLY 425
    ├── NotImplementedFeature           NOT_IMPLEMENTED 501
    └── ServerError                     SERVER_ERROR 500
        ├── UpstreamError               a peer (document server, WOPI client, provider) failed
        │   └── UpstreamInterrupted     its answer broke off mid-way: transient, 503
        └── StorageUnavailable          transient: the caller may retry

Views map these to their protocol's shape in one error handler per blueprint;
nothing above storage inspects message text.
"""

from __future__ import annotations

from typing import ClassVar


class DocbridgeError(Exception):
    code: ClassVar[str] = "SERVER_ERROR"
    http_status: ClassVar[int] = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BadRequest(DocbridgeError):
    code = "INVALID_PARAMETER"
    http_status = 400


class InvalidName(BadRequest):
    def __init__(self, message: str, name: str = "") -> None:
        super().__init__(message)
        self.name = name


class IncompleteBody(BadRequest):
    """The request body ended before its Content-Length, or its chunked framing broke:
    nothing of it may be stored."""


class Unauthenticated(DocbridgeError):
    code = "UNAUTHENTICATED"
    http_status = 401


class InvalidToken(Unauthenticated):
    pass


class AccessDenied(DocbridgeError):
    code = "PERMISSION_DENIED"
    http_status = 403


class AlreadyExists(DocbridgeError):
    code = "RESOURCE_ALREADY_EXISTS"
    http_status = 403


class NotFound(DocbridgeError):
    code = "RESOURCE_NOT_FOUND"
    http_status = 404


class Conflict(DocbridgeError):
    code = "CONFLICT"
    http_status = 409


class VersionConflict(Conflict):
    def __init__(self, message: str, expected_version: int | None, current_version: int) -> None:
        super().__init__(message)
        self.expected_version = expected_version
        self.current_version = current_version


class LockConflict(Conflict):
    """The lock held is not the one presented. `current_lock` is "" when unlocked."""

    def __init__(self, message: str, current_lock: str, reason: str = "") -> None:
        super().__init__(message)
        self.current_lock = current_lock
        self.reason = reason or message


class PayloadTooLarge(DocbridgeError):
    code = "PAYLOAD_TOO_LARGE"
    http_status = 413

    def __init__(self, message: str, limit: int) -> None:
        super().__init__(message)
        self.limit = limit


class TooEarly(DocbridgeError):
    code = "TOO_EARLY"
    http_status = 425


class NotImplementedFeature(DocbridgeError):
    code = "NOT_IMPLEMENTED"
    http_status = 501


class ServerError(DocbridgeError):
    code = "SERVER_ERROR"
    http_status = 500


class UpstreamError(ServerError):
    pass


class UpstreamInterrupted(UpstreamError):
    """A peer's answer broke off before its end (a cut connection, a short body): nothing
    of it is used, and the caller may retry."""

    http_status = 503


class StorageUnavailable(ServerError):
    http_status = 503


class OriginNotAllowed(AccessDenied):
    """An outbound URL outside the configured peer origins (SSRF fence)."""
