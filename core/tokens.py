"""Docbridge's own access tokens: what the registry hands to an editor and what the editor
(or a WOPI client, or a Document Server fetching a file) sends back.

They are HS256 JWTs signed with the instance secret, bound to one file, one user, one view
mode and one audience (``app:<name>`` for editors, or a driver's own purpose), and they
expire. The JWT shared with an ONLYOFFICE Document Server is a different thing and lives in
``onlyoffice/``; never verify one with the other's key.
"""

from __future__ import annotations

import enum
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
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


# How many verified tokens a process remembers. An editor sends the same token with every
# request; a few thousand cover every session open at once on an instance.
VERIFIED_TOKENS_REMEMBERED = 4096


class TokenService:
    """Issues and verifies access tokens.

    A token's signature and claims are checked once per process and the result is kept
    (`VERIFIED_TOKENS_REMEMBERED` of them): an editor sends the same token with every
    request, and the HMAC and JSON work was most of a CheckFileInfo's token cost. Expiry,
    audience and file are checked at every use, against the kept claims. A refused token
    is never kept, so forged tokens cannot fill the memory."""

    def __init__(self, secret: bytes, default_ttl_seconds: int) -> None:
        self._secret = secret
        self._default_ttl = default_ttl_seconds
        self._verified: dict[str, AccessGrant] = {}
        self._verified_lock = threading.Lock()

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
        grant = self._verified.get(token)
        if grant is None:
            grant = self._decode(token)
            self._remember(token, grant)
        if grant.expires_at <= (now if now is not None else time.time()):
            raise InvalidToken("the access token has expired")
        accepted = audience(grant.audience) if callable(audience) else grant.audience == audience
        if not accepted:
            raise InvalidToken("invalid access token")
        if file_id is not None and grant.file_id != file_id:
            raise InvalidToken("the access token is for another file")
        return grant

    def _decode(self, token: str) -> AccessGrant:
        """The grant a well-signed token of ours carries, whatever its expiry and audience."""
        options: Any = {"require": ["exp", "iat", "sub", "fid", "mode", "aud"], "verify_exp": False, "verify_aud": False}
        try:
            payload = jwt.decode(token, self._secret, algorithms=[ALGORITHM], options=options)
        except jwt.InvalidTokenError:
            raise InvalidToken("invalid access token") from None
        expires_at, audience = payload["exp"], payload["aud"]
        if not isinstance(expires_at, int) or isinstance(expires_at, bool) or not isinstance(audience, str):
            raise InvalidToken("invalid access token")
        try:
            bound_file = parse_resource_id(str(payload["fid"]))
            mode = ViewMode(payload["mode"])
        except (BadRequest, ValueError):
            raise InvalidToken("invalid access token") from None
        return AccessGrant(
            file_id=bound_file,
            user_id=str(payload["sub"]),
            view_mode=mode,
            audience=audience,
            expires_at=expires_at,
            link_id=payload.get("lnk"),
            claims=MappingProxyType(dict(payload.get("x") or {})),
        )

    def _remember(self, token: str, grant: AccessGrant) -> None:
        with self._verified_lock:
            if len(self._verified) >= VERIFIED_TOKENS_REMEMBERED:
                moment = time.time()
                for kept in [kept for kept, known in self._verified.items() if known.expires_at <= moment]:
                    del self._verified[kept]
                if len(self._verified) >= VERIFIED_TOKENS_REMEMBERED:
                    # The oldest half goes; their holders pay one more decode at their next use.
                    for kept in list(self._verified)[: VERIFIED_TOKENS_REMEMBERED // 2]:
                        del self._verified[kept]
            self._verified[token] = grant


def token_tail(token: str) -> str:
    """What logs may show of a token."""
    return "…" + token[-6:] if token else "-"
