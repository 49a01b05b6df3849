"""Docbridge's own access tokens: what the registry hands to an editor and what the editor
(or a WOPI client, or a Document Server fetching a file) sends back.

They are HS256 JWTs signed with the instance secret, bound to one file, one user, one view
mode and one audience (``app:<name>`` for editors, or a driver's own purpose), and they
expire. The JWT shared with an ONLYOFFICE Document Server is a different thing and lives in
``onlyoffice/``; never verify one with the other's key.
"""

from __future__ import annotations

import enum
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import jwt

from core.errors import BadRequest, InvalidToken
from core.ids import ResourceId, parse_resource_id

ALGORITHM = "HS256"


class ViewMode(enum.StrEnum):
    """What an opened file lets the user do, lowest first."""

    VIEW = "view"  # see only: no download, no print
    READ = "read"  # see and download
    WRITE = "write"  # edit and download

    @property
    def rank(self) -> int:
        return _RANKS[self]

    def at_most(self, ceiling: ViewMode) -> ViewMode:
        """This mode lowered to `ceiling`; never raised."""
        return self if self.rank <= ceiling.rank else ceiling


_RANKS = {ViewMode.VIEW: 0, ViewMode.READ: 1, ViewMode.WRITE: 2}


@dataclass(frozen=True, slots=True)
class IssuedToken:
    token: str
    expires_at: int  # seconds since the epoch

    @property
    def expires_at_ms(self) -> int:
        return self.expires_at * 1000


@dataclass(frozen=True, slots=True)
class AccessGrant:
    file_id: ResourceId
    user_id: str
    view_mode: ViewMode
    audience: str
    expires_at: int
    link_id: str | None = None
    claims: Mapping[str, Any] = field(default_factory=dict)

    @property
    def can_write(self) -> bool:
        return self.view_mode is ViewMode.WRITE


class TokenService:
    def __init__(self, secret: bytes, default_ttl_seconds: int) -> None:
        self._secret = secret
        self._default_ttl = default_ttl_seconds

    def issue(
        self,
        *,
        file_id: ResourceId,
        user_id: str,
        view_mode: ViewMode,
        audience: str,
        ttl_seconds: int | None = None,
        link_id: str | None = None,
        claims: Mapping[str, Any] | None = None,
        now: float | None = None,
    ) -> IssuedToken:
        issued_at = int(now if now is not None else time.time())
        expires_at = issued_at + (ttl_seconds if ttl_seconds is not None else self._default_ttl)
        payload: dict[str, Any] = {
            "sub": user_id,
            "fid": str(file_id),
            "mode": view_mode.value,
            "aud": audience,
            "iat": issued_at,
            "exp": expires_at,
        }
        if link_id:
            payload["lnk"] = link_id
        if claims:
            payload["x"] = dict(claims)
        return IssuedToken(jwt.encode(payload, self._secret, algorithm=ALGORITHM), expires_at)

    def verify(
        self,
        token: str,
        *,
        audience: str | Callable[[str], bool],
        file_id: ResourceId | None = None,
        now: float | None = None,
    ) -> AccessGrant:
        """Check signature, expiry, audience and (when given) the file; raise InvalidToken.

        `audience` is the one audience accepted, or a test of the token's audience for a
        caller that accepts several (decoding once instead of once per audience)."""
        if not token:
            raise InvalidToken("missing access token")
        options: Any = {"require": ["exp", "iat", "sub", "fid", "mode", "aud"]}
        if now is not None:
            options["verify_exp"] = False
        if callable(audience):
            options["verify_aud"] = False
        try:
            payload = jwt.decode(
                token, self._secret, algorithms=[ALGORITHM],
                audience=None if callable(audience) else audience, options=options,
            )
        except jwt.ExpiredSignatureError:
            raise InvalidToken("the access token has expired") from None
        except jwt.InvalidTokenError:
            raise InvalidToken("invalid access token") from None
        if callable(audience):
            claimed = payload["aud"]
            if not isinstance(claimed, str) or not audience(claimed):
                raise InvalidToken("invalid access token")
            audience = claimed
        if now is not None and payload["exp"] <= now:
            raise InvalidToken("the access token has expired")
        try:
            bound_file = parse_resource_id(str(payload["fid"]))
            mode = ViewMode(payload["mode"])
        except (BadRequest, ValueError):
            raise InvalidToken("invalid access token") from None
        if file_id is not None and bound_file != file_id:
            raise InvalidToken("the access token is for another file")
        return AccessGrant(
            file_id=bound_file,
            user_id=str(payload["sub"]),
            view_mode=mode,
            audience=audience,
            expires_at=int(payload["exp"]),
            link_id=payload.get("lnk"),
            claims=payload.get("x") or {},
        )


def token_tail(token: str) -> str:
    """What logs may show of a token."""
    return "…" + token[-6:] if token else "-"
