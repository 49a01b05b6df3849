"""What the web pages send to protect themselves: the CSRF token they carry, the
Content-Security-Policy and companion headers, and the check on a local `next` address.

The policy is a pure function of the settings: the pages may talk only to Docbridge, and
editors may be framed (and receive the launch form) only from Docbridge itself, the
configured Document Server and the configured WOPI clients.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Iterable, MutableMapping
from typing import Any

from core.config import Settings
from core.urls import origin_of
from server.auth import CSRF_SESSION_KEY

CSRF_FORM_FIELD = "csrf_token"


def csrf_token(session: MutableMapping[str, Any]) -> str:
    """The session's CSRF token, made on first use."""
    token = session.get(CSRF_SESSION_KEY)
    if not isinstance(token, str) or not token:
        token = secrets.token_urlsafe(32)
        session[CSRF_SESSION_KEY] = token
    return token


def csrf_matches(session: MutableMapping[str, Any], sent: str | None) -> bool:
    expected = session.get(CSRF_SESSION_KEY)
    if not isinstance(expected, str) or not expected or not sent:
        return False
    return hmac.compare_digest(expected.encode(), sent.encode())


def app_origins(settings: Settings) -> list[str]:
    """Origins whose editors the pages may frame: the Document Server, the WOPI clients
    (their discovery origin, which is where their editors are served) and the admin's
    `web_app_origins` (external providers' apps)."""
    found: list[str] = []
    candidates = [
        settings.onlyoffice.document_server_url,
        *(app.discovery_url for app in settings.wopi.apps),
        *settings.web_app_origins,
    ]
    for url in candidates:
        origin = origin_of(url)
        if origin and origin not in found:
            found.append(origin)
    return found


def content_security_policy(origins: Iterable[str]) -> str:
    allowed = " ".join(["'self'", *origins])
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data: blob: https:",
            # An app launched by GET with headers is fetched by the page.
            f"connect-src {allowed}",
            "font-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "frame-ancestors 'self'",
            f"frame-src {allowed} blob:",
            f"form-action {allowed}",
        ]
    )


def page_headers(settings: Settings) -> dict[str, str]:
    return {
        "Content-Security-Policy": content_security_policy(app_origins(settings)),
        "X-Content-Type-Options": "nosniff",
        # Pages carry file ids and public-link tokens in their address: never leak them.
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-store",
    }


def safe_next(target: str | None, default: str = "/") -> str:
    """`target` when it is a path on this site, else `default` (no open redirects)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    if any(ord(char) < 0x20 for char in target):
        return default
    return target
