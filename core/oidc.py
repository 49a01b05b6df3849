"""OIDC bearer tokens: validated against the issuer's JWKS (signature, issuer, audience,
expiry, algorithms from the settings). Keys are cached and refetched when a token names a
key id we have not seen, so the issuer can rotate keys."""

from __future__ import annotations

import threading
import time
from typing import Any

import jwt
import requests

from core.config import OidcSettings
from core.errors import InvalidToken, UpstreamError

DISCOVERY_PATH = "/.well-known/openid-configuration"
KEYS_TTL_SECONDS = 300


class OidcVerifier:
    def __init__(self, settings: OidcSettings, session: requests.Session | None = None) -> None:
        self.settings = settings
        self._session = session or requests.Session()
        self._lock = threading.Lock()
        self._jwks_url = settings.jwks_url
        self._keys: dict[str, Any] = {}
        self._fetched_at = 0.0

    def _discover_jwks_url(self) -> str:
        if self._jwks_url:
            return self._jwks_url
        url = self.settings.issuer.rstrip("/") + DISCOVERY_PATH
        try:
            answer = self._session.get(url, timeout=10, allow_redirects=False)
            answer.raise_for_status()
            self._jwks_url = str(answer.json()["jwks_uri"])
        except (requests.RequestException, ValueError, KeyError) as error:
            raise UpstreamError(f"cannot read the OIDC discovery document at {url}: {error}") from error
        return self._jwks_url

    def _refresh_keys(self) -> None:
        url = self._discover_jwks_url()
        try:
            answer = self._session.get(url, timeout=10, allow_redirects=False)
            answer.raise_for_status()
            key_set = jwt.PyJWKSet.from_dict(answer.json())
        except (requests.RequestException, ValueError, jwt.PyJWKSetError) as error:
            raise UpstreamError(f"cannot read the OIDC keys at {url}: {error}") from error
        self._keys = {key.key_id or "": key for key in key_set.keys}
        self._fetched_at = time.monotonic()

    def _key_for(self, key_id: str) -> Any:
        with self._lock:
            stale = time.monotonic() - self._fetched_at > KEYS_TTL_SECONDS
            if stale or key_id not in self._keys:
                self._refresh_keys()
            key = self._keys.get(key_id) or (self._keys.get("") if len(self._keys) == 1 else None)
        if key is None:
            raise InvalidToken("the bearer token is signed with an unknown key")
        return key

    def verify(self, token: str) -> dict[str, Any]:
        """The token's claims, or InvalidToken."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError:
            raise InvalidToken("malformed bearer token") from None
        if header.get("alg") not in self.settings.algorithms:
            raise InvalidToken("the bearer token uses an algorithm that is not allowed")
        key = self._key_for(str(header.get("kid", "")))
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key.key,
                algorithms=list(self.settings.algorithms),
                audience=self.settings.audience or None,
                issuer=self.settings.issuer,
                leeway=30,
                options={"verify_aud": bool(self.settings.audience), "require": ["exp", "iss", "sub"]},
            )
        except jwt.ExpiredSignatureError:
            raise InvalidToken("the bearer token has expired") from None
        except jwt.InvalidTokenError as error:
            raise InvalidToken(f"invalid bearer token: {error}") from None
        return claims
