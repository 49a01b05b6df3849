"""The JWT shared with the Document Server (not Docbridge's own access tokens).

The DS signs HS256 with ``exp = iat + 5 min`` and accepts 60 s of clock skew; we do the
same. Where the claims sit depends on the message:

* config token (browser → DS) and request bodies (command, conversion): the claims ARE the
  object (`sign_object`);
* headers (both ways): ``{"payload": <object>}`` (`sign_header`), sent as ``Bearer <jwt>``;
* callback bodies: a ``token`` field whose claims are the body, plus a header token whose
  ``payload`` is the body. Fields are read from the verified body token first, then from the
  header's ``payload``; never from the unsigned JSON (`callback_fields`).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import jwt

from core.errors import InvalidToken

SIGN_ALGORITHM = "HS256"
VERIFY_ALGORITHMS = ("HS256", "HS384", "HS512")
DEFAULT_TTL_SECONDS = 300
_TIME_CLAIMS = ("iat", "exp", "nbf")


@dataclass(frozen=True, slots=True)
class DsTokens:
    """Signs and verifies DS JWTs with one shared secret. `enabled` False means ``jwt: off``."""

    secret: str
    enabled: bool = True
    leeway_seconds: int = 60
    header_name: str = "Authorization"

    def sign_object(self, claims: Mapping[str, Any], *, ttl_seconds: int = DEFAULT_TTL_SECONDS,
                    now: float | None = None) -> str:
        issued = int(now if now is not None else time.time())
        body = {key: value for key, value in claims.items() if key != "token"}
        body["iat"] = issued
        body["exp"] = issued + ttl_seconds
        return jwt.encode(body, self.secret, algorithm=SIGN_ALGORITHM)

    def sign_header(self, payload: Mapping[str, Any], *, ttl_seconds: int = DEFAULT_TTL_SECONDS,
                    now: float | None = None) -> str:
        return self.sign_object({"payload": dict(payload)}, ttl_seconds=ttl_seconds, now=now)

    def header_value(self, token: str) -> str:
        return f"Bearer {token}"

    def verify(self, token: str, *, now: float | None = None) -> dict[str, Any]:
        """The claims of a DS token, or InvalidToken. Requires ``exp``; HS256/384/512 only,
        so ``alg: none`` and public-key algorithms are refused."""
        if not token:
            raise InvalidToken("missing Document Server token")
        options: dict[str, Any] = {"require": ["exp"]}
        if now is not None:
            options["verify_exp"] = False
            options["verify_iat"] = False
            options["verify_nbf"] = False
        try:
            claims = jwt.decode(token, self.secret, algorithms=list(VERIFY_ALGORITHMS),
                                leeway=self.leeway_seconds, options=options)  # type: ignore[arg-type]
        except jwt.ExpiredSignatureError:
            raise InvalidToken("the Document Server token has expired") from None
        except jwt.InvalidTokenError:
            raise InvalidToken("invalid Document Server token") from None
        if now is not None and int(claims["exp"]) + self.leeway_seconds < now:
            raise InvalidToken("the Document Server token has expired")
        if not isinstance(claims, dict):
            raise InvalidToken("invalid Document Server token")
        return claims

    def verify_header(self, header_value: str | None, *, now: float | None = None) -> dict[str, Any]:
        """The ``payload`` object of a ``Bearer`` header token."""
        token = bearer_token(header_value)
        if token is None:
            raise InvalidToken("missing Document Server token")
        claims = self.verify(token, now=now)
        payload = claims.get("payload")
        if not isinstance(payload, dict):
            raise InvalidToken("the Document Server token has no payload")
        return payload

    def callback_fields(self, body: Mapping[str, Any], header_value: str | None, *,
                        now: float | None = None) -> dict[str, Any]:
        """The callback's fields as signed by the DS: body ``token`` first, header fallback.

        With JWT off the plain body is all there is."""
        if not self.enabled:
            return {key: value for key, value in body.items() if key != "token"}
        body_token = body.get("token")
        if isinstance(body_token, str) and body_token:
            claims = self.verify(body_token, now=now)
            # Some DS versions wrap even the body token; unwrap a lone payload object.
            inner = claims.get("payload")
            if isinstance(inner, dict) and "key" not in claims:
                return strip_time_claims(inner)
            return strip_time_claims(claims)
        return strip_time_claims(self.verify_header(header_value, now=now))

    def download_url_claim(self, header_value: str | None, *, now: float | None = None) -> str:
        """``payload.url`` of the header token the DS sends when fetching ``document.url``."""
        payload = self.verify_header(header_value, now=now)
        url = payload.get("url")
        if not isinstance(url, str) or not url:
            raise InvalidToken("the Document Server token names no URL")
        return url


def bearer_token(header_value: str | None) -> str | None:
    if not header_value:
        return None
    scheme, _, rest = header_value.strip().partition(" ")
    if scheme.lower() == "bearer" and rest.strip():
        return rest.strip()
    # A DS behind a proxy may be set up without the prefix.
    return header_value.strip() if not rest else None


def strip_time_claims(claims: Mapping[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in claims.items() if key not in _TIME_CLAIMS}
