"""Logging in to the web UI through the configured OpenID Connect issuer.

Authorization-code flow with PKCE (RFC 7636, S256) for a public client: Docbridge reads the
issuer's discovery document, sends the browser to its authorization endpoint with a fresh
`state`, `nonce` and code challenge kept in the session, and on the way back exchanges the
code (with the verifier) at the token endpoint. The access token it gets is then checked
exactly as an API bearer token is (JWKS signature, issuer, audience, expiry) and mapped to
a Docbridge user by `server.auth`, so the browser and the API agree on who someone is.

Building the URLs and checking the answers are pure functions; `OidcClient` does the two
requests (discovery, token), with timeouts and without following redirects.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import requests

from core.errors import InvalidToken, UpstreamError

DISCOVERY_PATH = "/.well-known/openid-configuration"
SCOPES = "openid profile email"
TIMEOUT_SECONDS = 10.0


@dataclass(frozen=True, slots=True)
class PendingLogin:
    """What the session keeps between leaving for the issuer and coming back."""

    state: str
    nonce: str
    code_verifier: str
    next_url: str

    def to_session(self) -> dict[str, str]:
        return {"state": self.state, "nonce": self.nonce, "code_verifier": self.code_verifier, "next": self.next_url}

    @classmethod
    def from_session(cls, value: Any) -> PendingLogin | None:
        if not isinstance(value, dict):
            return None
        try:
            return cls(str(value["state"]), str(value["nonce"]), str(value["code_verifier"]), str(value["next"]))
        except KeyError:
            return None


@dataclass(frozen=True, slots=True)
class Endpoints:
    authorization: str
    token: str


def new_pending_login(next_url: str) -> PendingLogin:
    return PendingLogin(secrets.token_urlsafe(24), secrets.token_urlsafe(24), secrets.token_urlsafe(48), next_url)


def code_challenge(verifier: str) -> str:
    """RFC 7636 S256: base64url(sha256(verifier)) without padding."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def authorization_url(endpoints: Endpoints, client_id: str, redirect_uri: str, pending: PendingLogin) -> str:
    query = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "scope": SCOPES,
        "state": pending.state,
        "nonce": pending.nonce,
        "code_challenge": code_challenge(pending.code_verifier),
        "code_challenge_method": "S256",
    }
    separator = "&" if "?" in endpoints.authorization else "?"
    return endpoints.authorization + separator + urlencode(query)


def check_callback(pending: PendingLogin | None, args: dict[str, str]) -> str:
    """The authorization code from the issuer's redirect; InvalidToken when the answer is an
    error, lacks a code, or does not belong to the login this session started."""
    if pending is None:
        raise InvalidToken("no login was started from this browser; try again")
    if not hmac.compare_digest(pending.state.encode(), args.get("state", "").encode()):
        raise InvalidToken("the login answer does not match this browser's login; try again")
    if args.get("error"):
        detail = args.get("error_description") or args["error"]
        raise InvalidToken(f"the identity provider refused the login: {detail}")
    code = args.get("code", "")
    if not code:
        raise InvalidToken("the identity provider sent no authorization code")
    return code


def parse_endpoints(issuer: str, document: Any) -> Endpoints:
    if not isinstance(document, dict):
        raise UpstreamError("the OIDC discovery document is not a JSON object")
    if str(document.get("issuer", "")).rstrip("/") != issuer.rstrip("/"):
        raise UpstreamError("the OIDC discovery document names another issuer")
    authorization = document.get("authorization_endpoint")
    token = document.get("token_endpoint")
    if not isinstance(authorization, str) or not isinstance(token, str) or not authorization or not token:
        raise UpstreamError("the OIDC discovery document lacks the authorization or token endpoint")
    return Endpoints(authorization, token)


class OidcClient:
    def __init__(self, issuer: str, client_id: str, session: requests.Session | None = None) -> None:
        self.issuer = issuer
        self.client_id = client_id
        self._session = session or requests.Session()

    def endpoints(self) -> Endpoints:
        url = self.issuer.rstrip("/") + DISCOVERY_PATH
        try:
            answer = self._session.get(url, timeout=TIMEOUT_SECONDS, allow_redirects=False)
            answer.raise_for_status()
            return parse_endpoints(self.issuer, answer.json())
        except (requests.RequestException, ValueError) as error:
            raise UpstreamError(f"cannot read the OIDC discovery document: {type(error).__name__}") from error

    def exchange(self, code: str, redirect_uri: str, pending: PendingLogin) -> str:
        """Trade the code for tokens; return the access token."""
        endpoints = self.endpoints()
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "client_id": self.client_id,
            "code_verifier": pending.code_verifier,
        }
        try:
            answer = self._session.post(endpoints.token, data=form, timeout=TIMEOUT_SECONDS, allow_redirects=False)
            body = answer.json()
        except (requests.RequestException, ValueError) as error:
            raise UpstreamError(f"the OIDC token endpoint did not answer: {type(error).__name__}") from error
        if answer.status_code != 200 or not isinstance(body, dict):
            raise InvalidToken("the identity provider refused the authorization code")
        token = body.get("access_token")
        if not isinstance(token, str) or not token:
            raise InvalidToken("the identity provider sent no access token")
        return token
