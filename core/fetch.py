"""Outbound HTTP fenced to the peers an admin configured (the SSRF fence).

Every request Docbridge makes to a Document Server, a WOPI client or an external app
provider goes through a `Fetcher`: only ``http``/``https`` URLs whose origin (scheme, host, port) is one of the
policy's allowed origins; never a redirect (a 3xx is an error, not followed); a host that
resolves to a loopback, link-local, multicast or unspecified address is refused unless that
very address (or ``localhost``) is the configured origin's host (so ``http://127.0.0.1:8000`` may be configured
for a stand-in, while a configured name that resolves to 169.254.169.254 is still refused),
and always when the policy's origins did not come from an admin (``trust_literal_hosts``
off: an external app provider's registered launch URL);
timeouts on connect and on every read, plus an overall deadline; a size cap checked against
``Content-Length`` and again while streaming. Downloads are streamed to an anonymous
temporary file, hashed on the way, and handed over positioned at offset 0.

Known limit: the address check resolves the name before `requests` connects and resolves
it again; an attacker controlling the DNS of a configured peer could race the two.
"""

from __future__ import annotations

import hashlib
import ipaddress
import socket
import tempfile
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, BinaryIO
from urllib.parse import urlsplit

import requests

from core.errors import OriginNotAllowed, PayloadTooLarge, UpstreamError, UpstreamInterrupted
from core.urls import DEFAULT_PORTS, origin_of

CHUNK_BYTES = 1 << 20


@dataclass(frozen=True, slots=True)
class FetchPolicy:
    """Where a `Fetcher` may go and how much it reads.

    `trust_literal_hosts` says the allowed origins were written by an admin, so a host
    written as a loopback or link-local address (or ``localhost``) is what they meant. Turn
    it off for origins that arrive from outside (a provider's registration): then no such
    address is ever reached, however it is written."""

    allowed_origins: tuple[str, ...]
    max_bytes: int
    timeout_seconds: float
    verify_tls: bool = True
    trust_literal_hosts: bool = True

    @property
    def origins(self) -> frozenset[str]:
        return frozenset(filter(None, (origin_of(origin) for origin in self.allowed_origins)))


@dataclass(frozen=True, slots=True)
class Download:
    file: BinaryIO
    size: int
    sha256: str


def _special(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback or address.is_link_local or address.is_multicast or address.is_unspecified


def _kind(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str:
    """Which of the refused kinds `address` is, for the error message."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address.is_loopback:
        return "loopback"
    if address.is_link_local:
        return "link-local"
    return "multicast" if address.is_multicast else "unspecified"


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def _resolve(host: str, port: int) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except socket.gaierror as error:
        raise UpstreamError(f"cannot resolve {host}: {error.strerror}") from None
    return [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]


class Fetcher:
    """Outbound requests under one `FetchPolicy`; the session is injected (tests use a real
    loopback peer, production a plain `requests.Session`)."""

    def __init__(self, session: requests.Session, policy: FetchPolicy) -> None:
        self.session = session
        self.policy = policy
        self._origins = policy.origins

    def check_url(self, url: str) -> str:
        """The URL's origin if the fence lets it through; OriginNotAllowed otherwise."""
        origin = origin_of(url)
        if not origin or origin not in self._origins:
            raise OriginNotAllowed(f"{origin or 'the URL'} is not an allowed peer origin")
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        for address in _resolve(host, parts.port or DEFAULT_PORTS[parts.scheme.lower()]):
            if _special(address) and not (self.policy.trust_literal_hosts and _is_literal(host, address)):
                if _is_address(host):
                    raise OriginNotAllowed(f"{host} is a {_kind(address)} address, which is not allowed")
                raise OriginNotAllowed(f"{host} resolves to {address}, which is not allowed")
        return origin

    def _send(self, method: str, url: str, *, stream: bool, **kwargs: Any) -> requests.Response:
        self.check_url(url)
        kwargs.setdefault("timeout", (min(10.0, self.policy.timeout_seconds), self.policy.timeout_seconds))
        kwargs["allow_redirects"] = False
        kwargs.setdefault("verify", self.policy.verify_tls)
        try:
            response = self.session.request(method, url, stream=stream, **kwargs)
        except requests.Timeout:
            raise UpstreamError(f"{origin_of(url)} did not answer in time") from None
        except requests.RequestException as error:
            raise UpstreamError(f"cannot reach {origin_of(url)}: {type(error).__name__}") from None
        if 300 <= response.status_code < 400:
            response.close()
            raise UpstreamError(f"{origin_of(url)} answered with a redirect, which is not followed")
        declared = response.headers.get("Content-Length")
        if declared and declared.isdigit() and int(declared) > self.policy.max_bytes:
            response.close()
            raise PayloadTooLarge(f"the answer is larger than {self.policy.max_bytes} bytes", self.policy.max_bytes)
        return response

    def request(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        """A fenced request whose (small) answer is read whole, within the size cap."""
        response = self._send(method, url, stream=True, **kwargs)
        with response:
            body = bytearray()
            for chunk in response.iter_content(CHUNK_BYTES):
                body.extend(chunk)
                if len(body) > self.policy.max_bytes:
                    raise PayloadTooLarge(f"the answer is larger than {self.policy.max_bytes} bytes",
                                          self.policy.max_bytes)
            response._content = bytes(body)  # noqa: SLF001 - hand back a normal, fully read response
        return response

    @contextmanager
    def download(self, url: str, headers: Mapping[str, str] | None = None) -> Iterator[Download]:
        """Stream `url` (status 200 or 206) into a temporary file; yield it at offset 0.
        The file is removed when the context ends."""
        deadline = time.monotonic() + max(self.policy.timeout_seconds * 5, self.policy.timeout_seconds)
        response = self._send("GET", url, stream=True, headers=dict(headers or {}))
        with response, tempfile.TemporaryFile() as spool:
            if response.status_code not in (200, 206):
                raise UpstreamError(f"{origin_of(url)} answered HTTP {response.status_code}")
            digest = hashlib.sha256()
            size = 0
            try:
                for chunk in response.iter_content(CHUNK_BYTES):
                    size += len(chunk)
                    if size > self.policy.max_bytes:
                        raise PayloadTooLarge(f"the download is larger than {self.policy.max_bytes} bytes",
                                              self.policy.max_bytes)
                    if time.monotonic() > deadline:
                        raise UpstreamError(f"the download from {origin_of(url)} took too long")
                    digest.update(chunk)
                    spool.write(chunk)
            except requests.RequestException as error:
                raise UpstreamInterrupted(
                    f"the download from {origin_of(url)} broke off after {size} bytes: {type(error).__name__}"
                ) from None
            spool.flush()
            spool.seek(0)
            yield Download(file=spool, size=size, sha256=digest.hexdigest())


def _is_literal(host: str, address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """The host is written as this very address (the admin configured the address itself),
    or is ``localhost`` naming a loopback address."""
    if host == "localhost" and address.is_loopback:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")) == address
    except ValueError:
        return False


def origins_of(urls: Iterable[str]) -> tuple[str, ...]:
    return tuple(sorted({origin for origin in (origin_of(url) for url in urls) if origin}))
