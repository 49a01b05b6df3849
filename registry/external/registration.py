"""What an external provider registers, read from its JSON body (pure) and kept as JSON.

`parse_registration` validates a ``POST /api/v1/app-providers`` body and names the first
thing wrong; `registration_to_json` and `registration_from_json` are the form the store
keeps.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from core.errors import BadRequest
from registry.catalog import cleaned_mimetypes, is_mimetype
from registry.providers import AppProvider

SECRET_HEADER = "X-Docbridge-Provider-Secret"  # noqa: S105 - a header name
DEFAULT_TTL_SECONDS = 60

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
