"""URL origins, the one way Docbridge spells and compares them."""

from __future__ import annotations

from functools import lru_cache
from urllib.parse import urlsplit

DEFAULT_PORTS = {"http": 80, "https": 443}


@lru_cache(maxsize=256)  # the same few bases and Origin headers, on every request
def origin_of(url: str) -> str:
    """The origin of an absolute http(s) URL as a browser writes it (``Origin`` headers,
    CSP sources, ``postMessage`` targets): lower-case scheme and host, no credentials, the
    port only when it is not the scheme's default. "" for anything else: another scheme,
    no host, a port that is no port. Two URLs share an origin when these are equal."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return ""
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or not parts.hostname:
        return ""
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    if port is None or port == DEFAULT_PORTS[scheme]:
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"
