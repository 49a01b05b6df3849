"""Who is calling: turns request credentials into a `Principal`.

Mechanisms, in the order they are looked at:

1. ``Public-Token: <link token>``, with ``Authorization: Basic public:<password>`` when the
   link has a password;
2. ``X-Access-Token: <user token>`` (tokens made with ``flask user token``);
3. ``Authorization: Bearer <OIDC access token>`` when an issuer is configured;
4. ``Authorization: Basic <name:password>`` when ``basic_auth`` is on;
5. the web UI's session cookie.

Credentials that are present but wrong are an error (401), never a silent fall-through to
anonymous access.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import re
from collections.abc import Callable
from typing import Any, cast

from flask import g, request, session

from core.errors import AccessDenied, BadRequest, InvalidToken, NotFound, Unauthenticated
from server.services import Services, services
from storage.access import Principal, principal_for_link, principal_for_user
from storage.types import User

PUBLIC_USER = "public"
SESSION_USER_KEY = "user_id"
# The web UI's CSRF token: kept in the session, sent back in this header (XHR) or form field.
CSRF_SESSION_KEY = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_CREDENTIAL_HEADERS = ("Authorization", "Public-Token", "X-Access-Token")


def _basic_credentials(header: str) -> tuple[str, str] | None:
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise Unauthenticated("malformed basic credentials") from None
    name, colon, password = decoded.partition(":")
    if not colon:
        raise Unauthenticated("malformed basic credentials")
    return name, password


def _bearer(header: str) -> str | None:
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


GUEST_NAMES_KEY = "guest_names"  # the session's {link id: the name a link visitor gave}
MAX_GUEST_NAME = 64


def guest_label(name: str) -> str:
    """How co-editors see a named link visitor."""
    return f"{name} (guest)"


def remember_guest_name(link_id: str, name: str) -> str:
    """Keep the name a visitor of a public link gave, in their session; it names them in the
    editors they open through that link. BadRequest for an empty or too long name."""
    cleaned = " ".join(name.split())
    if not cleaned or len(cleaned) > MAX_GUEST_NAME or any(not char.isprintable() for char in cleaned):
        raise BadRequest(f"give a name of 1–{MAX_GUEST_NAME} printable characters")
    names = dict(session.get(GUEST_NAMES_KEY) or {})
    names[link_id] = cleaned
    session[GUEST_NAMES_KEY] = names
    return cleaned


def guest_name(link_id: str) -> str:
    """The name the visitor gave for this link in this session, "" when none."""
    names = session.get(GUEST_NAMES_KEY)
    found = names.get(link_id) if isinstance(names, dict) else None
    return found if isinstance(found, str) else ""


def authenticate(
    found: Services, headers: Any, session_user_id: str | None, guest_name_of: Callable[[str], str] = lambda _id: ""
) -> Principal | None:
    """The caller, None when no credentials were sent; Unauthenticated when they are bad.
    `guest_name_of` gives the name a link visitor gave (see `remember_guest_name`)."""
    authorization = headers.get("Authorization", "")
    public_token = headers.get("Public-Token", "")
    if public_token:
        link = found.links.by_token(public_token)
        if link is None:
            raise Unauthenticated("invalid or expired public link")
        if link.has_password:
            credentials = _basic_credentials(authorization) if authorization else None
            if credentials is None or credentials[0] != PUBLIC_USER:
                raise Unauthenticated("this public link needs a password")
            if not found.links.check_password(link, credentials[1]):
                raise Unauthenticated("wrong password for this public link")
        named = guest_name_of(link.id)
        return principal_for_link(link, guest_label(named) if named else "")
    access_token = headers.get("X-Access-Token", "")
    if access_token:
        user = found.users.by_token(access_token)
        if user is None:
            raise Unauthenticated("invalid access token")
        return principal_for_user(user)
    bearer = _bearer(authorization)
    if bearer:
        return principal_for_user(_oidc_user(found, bearer))
    if authorization:
        credentials = _basic_credentials(authorization)
        if credentials is None:
            raise Unauthenticated("unsupported authorization scheme")
        if not found.settings.basic_auth:
            raise Unauthenticated("basic authentication is disabled")
        user = found.users.check_password(*credentials)
        if user is None:
            raise Unauthenticated("wrong user name or password")
        return principal_for_user(user)
    if session_user_id:
        user = found.users.find(session_user_id)
        if user is not None:
            return principal_for_user(user)
    return None


_SAFE_NAME = re.compile(r"[^A-Za-z0-9._@-]")


def _oidc_user(found: Services, token: str) -> User:
    if found.oidc is None:
        raise Unauthenticated("bearer tokens are not accepted: no OIDC issuer is configured")
    claims = found.oidc.verify(token)
    user = _oidc_account(found, claims)
    groups_claim = found.settings.oidc.groups_claim
    if groups_claim:
        found.groups.sync_claimed(user.id, _claimed_groups(claims.get(groups_claim)))
    return user


def _claimed_groups(value: Any) -> list[str]:
    """A groups claim as a list of names: identity providers send a list, some one string."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [item for item in value if isinstance(item, str)]
    return []


def _oidc_account(found: Services, claims: dict[str, Any]) -> User:
    """The user an identity's claims name, made at its first login when allowed."""
    subject = str(claims["sub"])
    user = found.users.by_oidc_subject(subject)
    if user is not None:
        return user
    if not found.settings.oidc.auto_create_users:
        raise InvalidToken("no Docbridge user for this identity")
    wanted = str(claims.get(found.settings.oidc.username_claim) or subject)
    name = _SAFE_NAME.sub("_", wanted)[:64] or "user"
    try:
        found.users.by_name(name)
        name = f"{name[:50]}-{_SAFE_NAME.sub('_', subject[-8:])}"
    except NotFound:
        pass
    try:
        return found.users.create(
            name,
            None,
            display_name=str(claims.get("name") or wanted),
            email=str(claims.get("email") or ""),
            oidc_subject=subject,
        )
    except BadRequest:
        raise InvalidToken("the identity's user name cannot be used") from None


def _session_user_id() -> str | None:
    """The session's user, when the session is what authenticates this request.

    A cookie rides along on cross-site requests, so a state-changing request authenticated
    by the session alone must carry the session's CSRF token in `CSRF_HEADER`."""
    user_id = session.get(SESSION_USER_KEY)
    if not user_id or request.method in SAFE_METHODS:
        return cast(str | None, user_id)
    if any(request.headers.get(name) for name in _CREDENTIAL_HEADERS):
        return None  # explicit credentials decide; the cookie is not used
    expected = session.get(CSRF_SESSION_KEY, "")
    sent = request.headers.get(CSRF_HEADER, "")
    if not expected or not hmac.compare_digest(str(expected).encode(), sent.encode()):
        raise AccessDenied("missing or wrong CSRF token: reload the page and try again")
    return cast(str, user_id)


def current_principal() -> Principal | None:
    """The caller of the current request (cached on `g`)."""
    if "principal" not in g:
        g.principal = authenticate(services(), request.headers, _session_user_id(), guest_name)
    return cast(Principal | None, g.principal)


def require_principal() -> Principal:
    principal = current_principal()
    if principal is None:
        raise Unauthenticated("authentication required")
    return principal


def require_user() -> Principal:
    """A logged-in user; public-link visitors are refused."""
    principal = require_principal()
    if principal.is_public:
        raise Unauthenticated("this needs a user account, not a public link")
    return principal
