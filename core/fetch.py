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
``Content-Length`` and again while streaming; an answer shorter than its ``Content-Length``
is a broken-off download, never a short file.

Two ways to take a body: `Fetcher.stream` hands the answer over as it arrives (a read-only
file that enforces the rules above on every read, so a caller can copy it straight into
storage and write the bytes once), `Fetcher.download` spools it into an anonymous
temporary file, hashed on the way, handed over at offset 0, for callers that need to read
it twice. Both apply the same checks (`Stream`).

Known limit: the address check resolves the name before `requests` connects and resolves
it again; an attacker controlling the DNS of a configured peer could race the two.
"""

from __future__ import annotations

import hashlib
import io
import ipaddress
import shutil
import socket
import tempfile
import time
from collections.abc import Generator, Iterable, Iterator, Mapping
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


class Stream:
    """A fenced answer being read: `file` yields the body as it arrives, checking the size
    cap, the deadline and the declared length on the way; a broken-off body raises
    UpstreamInterrupted from `file.read`. `size` counts the bytes read so far; `sha256`,
    when asked for, is known once the body was read to its end."""

    def __init__(self, response: requests.Response, *, source: str, max_bytes: int, deadline: float,
                 digest: bool) -> None:
        self._response = response
        self._source = source
        self._max_bytes = max_bytes
        self._deadline = deadline
        self._digest = hashlib.sha256() if digest else None
        self._declared = _declared_length(response)
        self.size = 0
        self.finished = False
        self._started = False
        self.file: BinaryIO = _ChunkFile(self._chunks())  # type: ignore[assignment]

    @property
    def unread(self) -> bool:
        """Nothing of the body was taken yet: `file` still holds all of it."""
        return not self._started

    @property
    def sha256(self) -> str | None:
        if self._digest is None or not self.finished:
            return None
        return self._digest.hexdigest()

    def _chunks(self) -> Generator[bytes, None, None]:
        self._started = True
        try:
            for chunk in self._response.iter_content(CHUNK_BYTES):
                self.size += len(chunk)
                if self.size > self._max_bytes:
                    raise PayloadTooLarge(f"the download is larger than {self._max_bytes} bytes", self._max_bytes)
                if time.monotonic() > self._deadline:
                    raise UpstreamError(f"the download from {self._source} took too long")
                if self._digest is not None:
                    self._digest.update(chunk)
                yield chunk
        except requests.RequestException as error:
            raise UpstreamInterrupted(
                f"the download from {self._source} broke off after {self.size} bytes: {type(error).__name__}"
            ) from None
        if self._declared is not None and self.size != self._declared:
            # urllib3 already refuses most short bodies; this holds whatever the transport.
            raise UpstreamInterrupted(
                f"the download from {self._source} broke off after {self.size} of {self._declared} bytes"
            )
        self.finished = True


class _ChunkFile(io.BufferedIOBase):
    """`chunks` as a read-only file. A read of at least a chunk's length that begins at a
    chunk's start is answered with the chunk itself, uncopied: a large body streamed into
    storage in chunk-sized reads is copied only by the kernel. A failure is raised again on
    every later read, so a caller that went on reading could never take a cut-off body for
    a whole one."""

    def __init__(self, chunks: Generator[bytes, None, None]) -> None:
        self._chunks = chunks
        self._pending = b""
        self._offset = 0
        self._failure: BaseException | None = None

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        self._chunks.close()
        super().close()

    def read1(self, size: int | None = -1) -> bytes:
        """Up to `size` bytes of at most one chunk; empty only at the end."""
        if self.closed:
            raise ValueError("read of a closed file")
        if self._offset >= len(self._pending):
            self._pending, self._offset = self._next_chunk(), 0
        if size is None or size < 0 or size >= len(self._pending) - self._offset:
            piece = self._pending[self._offset:] if self._offset else self._pending
            self._pending, self._offset = b"", 0
            return piece
        piece = self._pending[self._offset:self._offset + size]
        self._offset += size
        return piece

    def read(self, size: int | None = -1) -> bytes:
        """`size` bytes, fewer only at the end (all that is left when `size` is negative)."""
        wanted = -1 if size is None else size
        pieces: list[bytes] = []
        while wanted != 0 and (piece := self.read1(wanted)):
            pieces.append(piece)
            if wanted > 0:
                wanted -= len(piece)
        return pieces[0] if len(pieces) == 1 else b"".join(pieces)

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        data = self.read(len(view))
        view[:len(data)] = data
        return len(data)

    def _next_chunk(self) -> bytes:
        if self._failure is not None:
            raise self._failure
        try:
            return next(self._chunks, b"")  # an ended generator stays ended
        except BaseException as error:
            self._failure = error
            raise


def _declared_length(response: requests.Response) -> int | None:
    """The body length the peer announced, when the bytes read are to match it (an
    encoded body is counted after decoding, so only urllib3 can check it)."""
    declared = response.headers.get("Content-Length", "")
    if not declared.isdigit() or response.headers.get("Content-Encoding", "identity").lower() != "identity":
        return None
    return int(declared)


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
    def stream(self, url: str, headers: Mapping[str, str] | None = None, *,
               digest: bool = False) -> Iterator[Stream]:
        """The answer to a GET of `url` (status 200 or 206) as a `Stream` whose `file` is
        read as the bytes arrive; `digest` also hashes them. The connection is closed, and
        `file` with it, when the context ends."""
        deadline = time.monotonic() + max(self.policy.timeout_seconds * 5, self.policy.timeout_seconds)
        response = self._send("GET", url, stream=True, headers=dict(headers or {}))
        with response:
            if response.status_code not in (200, 206):
                raise UpstreamError(f"{origin_of(url)} answered HTTP {response.status_code}")
            body = Stream(response, source=origin_of(url), max_bytes=self.policy.max_bytes, deadline=deadline,
                          digest=digest)
            with body.file:
                yield body

    @contextmanager
    def download(self, url: str, headers: Mapping[str, str] | None = None) -> Iterator[Download]:
        """`url` read whole into a temporary file (see `stream`), yielded at offset 0.
        The file is removed when the context ends."""
        with self.stream(url, headers, digest=True) as body, tempfile.TemporaryFile() as spool:
            shutil.copyfileobj(body.file, spool, CHUNK_BYTES)
            spool.flush()
            spool.seek(0)
            assert body.sha256 is not None
            yield Download(file=spool, size=body.size, sha256=body.sha256)

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
