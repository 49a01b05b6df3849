"""External app providers: registration over HTTP, persistence, and the launch call.

An external provider is a web application that Docbridge does not ship. It registers with
``POST /api/v1/app-providers`` (shared secret, see ``docs/app-registry.md``), renews its
registration by heartbeat before the time to live runs out, and is asked for a launch by
Docbridge with a JSON ``POST`` to the ``launch_url`` it registered. Registrations are rows
of the ``app_providers`` table, so a restart loses none and several instances agree.

Parsing a registration and building or reading the launch exchange are pure functions;
`ProviderStore` is the SQL, `ExternalDriver` the one outbound request.
"""

from __future__ import annotations

import json
import logging
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote, urlsplit

import requests
from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from core.errors import BadRequest, UpstreamError
from registry.catalog import Registration, cleaned_mimetypes, is_mimetype
from registry.providers import AppProvider, Launch, LaunchRequest
from registry.tables import app_providers

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Docbridge-Provider-Secret"  # noqa: S105 - a header name
DEFAULT_TTL_SECONDS = 60
MAX_LAUNCH_ANSWER_BYTES = 65_536
# Rows expired this long ago are removed when someone registers.
PURGE_AFTER = timedelta(days=1)

_REGISTRATION_KEYS = frozenset(
    {
        "name",
        "mimetypes",
        "launch_url",
        "ttl_seconds",
        "icon",
        "description",
        "product_name",
        "capability",
        "priority",
        "target_ext",
    }
)
_CAPABILITY = re.compile(r"^[A-Za-z_]{0,64}$")
_EXTENSION = re.compile(r"^[a-z0-9][a-z0-9_+-]{0,15}$")


@dataclass(frozen=True, slots=True)
class ExternalRegistration:
    """What an external provider registered: the listing half and where to ask for launches."""

    provider: AppProvider
    launch_url: str
    ttl_seconds: int


@dataclass(frozen=True, slots=True)
class StoredRegistration:
    registration: ExternalRegistration
    registered_at: datetime
    expires_at: datetime


# --- parsing a registration (pure) -----------------------------------------------------------


def parse_registration(body: Any, max_ttl_seconds: int) -> ExternalRegistration:
    """Validate a registration body; BadRequest names the first thing wrong.

    The TTL is capped at `max_ttl_seconds` (the provider learns the granted one from the
    answer) and `application/octet-stream` is never registered.
    """
    if not isinstance(body, Mapping):
        raise BadRequest("the registration must be a JSON object")
    unknown = sorted(set(body) - _REGISTRATION_KEYS)
    if unknown:
        raise BadRequest(f"unknown key {unknown[0]!r}")
    name = _text(body, "name", required=True, limit=64)
    if "/" in name or name != name.strip():
        raise BadRequest("name must not contain '/' or start or end with spaces")
    raw_mimetypes = body.get("mimetypes")
    if not isinstance(raw_mimetypes, list) or not all(isinstance(m, str) for m in raw_mimetypes):
        raise BadRequest("mimetypes must be a list of mimetypes")
    for mimetype in raw_mimetypes:
        if not is_mimetype(mimetype.strip().lower()):
            raise BadRequest(f"{mimetype!r} is not a mimetype")
    mimetypes = cleaned_mimetypes(raw_mimetypes)
    if not mimetypes:
        raise BadRequest("mimetypes must name at least one mimetype other than application/octet-stream")
    launch_url = _text(body, "launch_url", required=True, limit=2048)
    if not is_http_url(launch_url):
        raise BadRequest("launch_url must be an absolute http or https URL without credentials or fragment")
    icon = _text(body, "icon", limit=2048)
    if icon and not is_http_url(icon):
        raise BadRequest("icon must be an absolute http or https URL")
    capability = _text(body, "capability", limit=64)
    if not _CAPABILITY.match(capability):
        raise BadRequest("capability must be letters and underscores")
    priority = body.get("priority", 0)
    if not isinstance(priority, int) or isinstance(priority, bool) or not -1000 <= priority <= 1000:
        raise BadRequest("priority must be a whole number from -1000 to 1000")
    ttl = body.get("ttl_seconds", DEFAULT_TTL_SECONDS)
    if not isinstance(ttl, int) or isinstance(ttl, bool) or ttl < 1:
        raise BadRequest("ttl_seconds must be a whole number of seconds, at least 1")
    target_ext = body.get("target_ext", {})
    if not isinstance(target_ext, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) and is_mimetype(k) and _EXTENSION.match(v)
        for k, v in target_ext.items()
    ):
        raise BadRequest("target_ext must map template mimetypes to extensions without the dot")
    provider = AppProvider(
        name=name,
        mimetypes=mimetypes,
        icon=icon,
        description=_text(body, "description", limit=1024),
        product_name=_text(body, "product_name", limit=255),
        capability=capability,
        priority=priority,
        target_ext=dict(target_ext),
    )
    return ExternalRegistration(provider, launch_url, min(ttl, max_ttl_seconds) if max_ttl_seconds else ttl)


def _text(body: Mapping[str, Any], key: str, *, required: bool = False, limit: int) -> str:
    value = body.get(key, "")
    if not isinstance(value, str):
        raise BadRequest(f"{key} must be text")
    if required and not value:
        raise BadRequest(f"missing {key}")
    if len(value) > limit:
        raise BadRequest(f"{key} must not be longer than {limit} characters")
    if any(unicodedata.category(char) == "Cc" for char in value):
        raise BadRequest(f"{key} must not contain control characters")
    return value


def is_http_url(text: str) -> bool:
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        return False
    return (
        parts.scheme in ("http", "https")
        and bool(parts.hostname)
        and parts.username is None
        and parts.password is None
        and not parts.fragment
    )


def registration_to_json(registration: ExternalRegistration) -> str:
    provider = registration.provider
    return json.dumps(
        {
            "name": provider.name,
            "mimetypes": list(provider.mimetypes),
            "icon": provider.icon,
            "description": provider.description,
            "product_name": provider.product_name,
            "capability": provider.capability,
            "priority": provider.priority,
            "target_ext": dict(provider.target_ext),
            "launch_url": registration.launch_url,
            "ttl_seconds": registration.ttl_seconds,
        },
        sort_keys=True,
    )


def registration_from_json(text: str) -> ExternalRegistration:
    data = json.loads(text)
    return ExternalRegistration(
        provider=AppProvider(
            name=data["name"],
            mimetypes=tuple(data["mimetypes"]),
            icon=data.get("icon", ""),
            description=data.get("description", ""),
            product_name=data.get("product_name", ""),
            capability=data.get("capability", ""),
            priority=int(data.get("priority", 0)),
            target_ext=dict(data.get("target_ext", {})),
        ),
        launch_url=data["launch_url"],
        ttl_seconds=int(data["ttl_seconds"]),
    )


# --- the launch exchange (pure) -------------------------------------------------------------


def launch_request_body(request: LaunchRequest, app_name: str, public_base: str) -> dict[str, Any]:
    """What Docbridge POSTs to a provider's `launch_url` (documented in docs/app-registry.md)."""
    file = request.file
    body: dict[str, Any] = {
        "app_name": app_name,
        "file": {
            "id": str(file.id),
            "name": file.name,
            "mimetype": file.mimetype,
            "size": file.size,
            "version": file.version,
        },
        "user": {"id": request.user_id, "name": request.user_display_name},
        "view_mode": request.view_mode.value,
        "access_token": request.access_token,
        "access_token_ttl": str(request.access_token_expires_at_ms),
        "lang": request.lang,
        "wopi_src": f"{public_base}/wopi/files/{quote(str(file.id), safe='')}",
    }
    if request.template_id is not None:
        body["template_id"] = str(request.template_id)
    if request.link_id:
        body["public_link"] = True
    return body


def parse_launch_answer(data: Any, request: LaunchRequest) -> Launch:
    """Read the provider's answer; UpstreamError when it is not the documented shape.

    A POST answer without `form_parameters` gets the access token and its expiry, which is
    what a WOPI-style app expects in the form.
    """
    if not isinstance(data, Mapping):
        raise UpstreamError("the provider's launch answer is not a JSON object")
    app_url = data.get("app_url")
    if not isinstance(app_url, str) or not is_http_url(app_url):
        raise UpstreamError("the provider's launch answer has no http(s) app_url")
    method = data.get("method", "POST")
    if method not in ("POST", "GET"):
        raise UpstreamError("the provider's launch answer has a method other than POST or GET")
    form = _string_map(data.get("form_parameters"), "form_parameters")
    headers = _string_map(data.get("headers"), "headers")
    if method == "POST" and "form_parameters" not in data:
        form = {
            "access_token": request.access_token,
            "access_token_ttl": str(request.access_token_expires_at_ms),
        }
    return Launch(app_url=app_url, method=method, form_parameters=form, headers=headers)


def _string_map(value: Any, key: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, Mapping) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise UpstreamError(f"the provider's launch answer has {key} that are not text")
    return dict(value)


# --- the driver -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LaunchClient:
    """How Docbridge calls providers: one session, the shared secret, a timeout."""

    session: requests.Session
    secret: str
    timeout_seconds: float
    public_base: str  # Docbridge as providers reach it, for the WOPISrc they read and save through


class ExternalDriver:
    """The AppDriver of one external registration."""

    def __init__(self, registration: ExternalRegistration, client: LaunchClient) -> None:
        self._registration = registration
        self._client = client

    def launch(self, request: LaunchRequest) -> Launch:
        """Ask the provider where the browser goes. Any failure (unreachable, timeout,
        redirect, non-2xx, oversized or malformed answer) is an UpstreamError."""
        body = launch_request_body(request, self._registration.provider.name, self._client.public_base)
        url = self._registration.launch_url
        try:
            with self._client.session.post(
                url,
                json=body,
                headers={SECRET_HEADER: self._client.secret, "Accept": "application/json"},
                timeout=self._client.timeout_seconds,
                allow_redirects=False,
                stream=True,
            ) as response:
                if response.status_code != 200:
                    raise UpstreamError(f"the provider answered HTTP {response.status_code}")
                raw = response.raw.read(MAX_LAUNCH_ANSWER_BYTES + 1, decode_content=True)
        except requests.RequestException as error:
            log.warning("app %s: launch call failed: %s", self._registration.provider.name, type(error).__name__)
            raise UpstreamError("the provider cannot be reached") from error
        if len(raw) > MAX_LAUNCH_ANSWER_BYTES:
            raise UpstreamError("the provider's launch answer is too large")
        try:
            data = json.loads(raw)
        except ValueError:
            raise UpstreamError("the provider's launch answer is not JSON") from None
        return parse_launch_answer(data, request)


# --- persistence -----------------------------------------------------------------------------------


def _aware(value: datetime) -> datetime:
    # SQLite hands back naive datetimes; everything is stored in UTC.
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _stored(value: datetime) -> datetime:
    return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value


class ProviderStore:
    """External registrations in the `app_providers` table."""

    def __init__(self, engine: Engine, client: LaunchClient) -> None:
        self._engine = engine
        self._client = client
        # Stored as naive UTC on SQLite, aware on PostgreSQL; compare like with like.
        self._naive = engine.dialect.name == "sqlite"

    def _when(self, value: datetime) -> datetime:
        return _stored(value) if self._naive else value

    def upsert(self, registration: ExternalRegistration, now: datetime) -> StoredRegistration:
        """Register or renew. A renewal keeps the first registration time (and so the place
        in `/app/list`) unless the earlier registration had already expired."""
        expires_at = now + timedelta(seconds=registration.ttl_seconds)
        payload = registration_to_json(registration)
        name = registration.provider.name
        for _attempt in range(2):
            with self._engine.begin() as connection:
                connection.execute(
                    delete(app_providers).where(app_providers.c.expires_at < self._when(now - PURGE_AFTER))
                )
                row = connection.execute(
                    select(app_providers.c.registered_at, app_providers.c.expires_at).where(
                        app_providers.c.name == name
                    )
                ).first()
                if row is None:
                    try:
                        connection.execute(
                            insert(app_providers).values(
                                name=name,
                                payload=payload,
                                registered_at=self._when(now),
                                expires_at=self._when(expires_at),
                            )
                        )
                    except IntegrityError:
                        continue  # registered concurrently by another instance: renew it
                    return StoredRegistration(registration, now, expires_at)
                registered_at = _aware(row.registered_at)
                if _aware(row.expires_at) <= now:
                    registered_at = now
                connection.execute(
                    update(app_providers)
                    .where(app_providers.c.name == name)
                    .values(payload=payload, registered_at=self._when(registered_at), expires_at=self._when(expires_at))
                )
                return StoredRegistration(registration, registered_at, expires_at)
        raise UpstreamError("the registration could not be stored")  # pragma: no cover

    def heartbeat(
        self, name: str, now: datetime, ttl_seconds: int | None, max_ttl_seconds: int
    ) -> StoredRegistration | None:
        """Extend a live registration; None when it is unknown or has already expired."""
        with self._engine.begin() as connection:
            row = connection.execute(
                select(app_providers).where(app_providers.c.name == name, app_providers.c.expires_at > self._when(now))
            ).first()
            if row is None:
                return None
            registration = registration_from_json(row.payload)
            ttl = ttl_seconds if ttl_seconds is not None else registration.ttl_seconds
            if max_ttl_seconds:
                ttl = min(ttl, max_ttl_seconds)
            expires_at = now + timedelta(seconds=ttl)
            connection.execute(
                update(app_providers).where(app_providers.c.name == name).values(expires_at=self._when(expires_at))
            )
            return StoredRegistration(registration, _aware(row.registered_at), expires_at)

    def remove(self, name: str) -> bool:
        with self._engine.begin() as connection:
            result = connection.execute(delete(app_providers).where(app_providers.c.name == name))
            return result.rowcount > 0

    def live_registrations(self, now: datetime) -> list[StoredRegistration]:
        with self._engine.connect() as connection:
            rows = connection.execute(
                select(app_providers)
                .where(app_providers.c.expires_at > self._when(now))
                .order_by(app_providers.c.registered_at, app_providers.c.name)
            ).all()
        found: list[StoredRegistration] = []
        for row in rows:
            try:
                registration = registration_from_json(row.payload)
            except (ValueError, KeyError, TypeError):
                log.error("app_providers row %r is unreadable; ignored", row.name)
                continue
            found.append(StoredRegistration(registration, _aware(row.registered_at), _aware(row.expires_at)))
        return found

    def live(self, now: datetime) -> list[Registration]:
        return [
            Registration(stored.registration.provider, ExternalDriver(stored.registration, self._client), builtin=False)
            for stored in self.live_registrations(now)
        ]
