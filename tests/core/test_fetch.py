"""The outbound fence against real loopback servers."""

from __future__ import annotations

import hashlib
import ipaddress
import socket
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests

from core.errors import OriginNotAllowed, PayloadTooLarge, UpstreamError, UpstreamInterrupted
from core.fetch import Fetcher, FetchPolicy

PAYLOAD = bytes(range(256)) * 4096  # 1 MiB
# Longer than a few of the fetcher's 1 MiB chunks and ending inside one.
LARGE_PAYLOAD = hashlib.sha256(b"large").digest() * (112 * 1024 + 5)


class _Peer(BaseHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802
        seen_headers.append(dict(self.headers))
        if self.path == "/file":
            self._send(200, PAYLOAD)
        elif self.path == "/large":
            self._send(200, LARGE_PAYLOAD)
        elif self.path == "/redirect":
            self.send_response(302)
            self.send_header("Location", "http://169.254.169.254/latest/meta-data/")
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif self.path == "/missing":
            self._send(404, b"no")
        elif self.path == "/lying-length":
            # No Content-Length: the cap must be enforced while streaming.
            self.send_response(200)
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(PAYLOAD)
        elif self.path == "/cut":
            # A dropped connection: the whole length announced, half of the body sent.
            self.send_response(200)
            self.send_header("Content-Length", str(len(PAYLOAD)))
            self.end_headers()
            self.wfile.write(PAYLOAD[: len(PAYLOAD) // 2])
            self.close_connection = True
        elif self.path == "/dribble":
            # Every read is quick, the whole answer is not.
            self.send_response(200)
            self.send_header("Content-Length", str(2 * len(PAYLOAD)))
            self.end_headers()
            for start in range(0, 2 * len(PAYLOAD), 128 << 10):
                self.wfile.write((PAYLOAD * 2)[start:start + (128 << 10)])
                time.sleep(0.1)
        elif self.path == "/slow":
            release.wait(5)
            self._send(200, b"late")
        else:
            self._send(200, b"ok")

    def _send(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


seen_headers: list[dict[str, str]] = []
release = threading.Event()


@pytest.fixture
def peer() -> Iterator[str]:
    release.clear()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Peer)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    release.set()
    server.shutdown()
    server.server_close()


def _fetcher(origin: str, max_bytes: int = 10 << 20, timeout: float = 5.0) -> Fetcher:
    session = requests.Session()
    session.trust_env = False
    return Fetcher(session, FetchPolicy(allowed_origins=(origin,), max_bytes=max_bytes, timeout_seconds=timeout))


def test_download_streams_to_a_temp_file(peer: str) -> None:
    with _fetcher(peer).download(peer + "/file", headers={"Authorization": "Bearer x"}) as download:
        assert download.size == len(PAYLOAD)
        assert download.sha256 == hashlib.sha256(PAYLOAD).hexdigest()
        assert download.file.read() == PAYLOAD
    assert seen_headers[-1]["Authorization"] == "Bearer x"


def test_stream_hands_over_the_body_as_it_arrives(peer: str) -> None:
    with _fetcher(peer).stream(peer + "/file", headers={"Authorization": "Bearer x"}, digest=True) as body:
        assert body.unread and body.sha256 is None
        assert body.file.read(1000) == PAYLOAD[:1000]
        assert not body.unread
        assert body.file.read() == PAYLOAD[1000:]
        assert body.size == len(PAYLOAD)
        assert body.sha256 == hashlib.sha256(PAYLOAD).hexdigest()
    assert seen_headers[-1]["Authorization"] == "Bearer x"
    assert body.file.closed


@pytest.mark.parametrize("sizes", [[1000, 1 << 20, 3 << 20, -1], [1 << 20] * 5, [777_777] * 6, [-1]],
                         ids=["mixed", "chunk-sized", "odd", "all"])
def test_stream_reads_of_any_size_give_the_body_in_order(peer: str, sizes: list[int]) -> None:
    pieces: list[bytes] = []
    with _fetcher(peer).stream(peer + "/large", digest=True) as body:
        for size in sizes:
            piece = body.file.read(size)
            expected = len(LARGE_PAYLOAD) - sum(len(piece) for piece in pieces)
            assert len(piece) == (expected if size < 0 else min(size, expected))
            pieces.append(piece)
        assert body.file.read(10) == b""
    assert b"".join(pieces) == LARGE_PAYLOAD
    assert body.sha256 == hashlib.sha256(LARGE_PAYLOAD).hexdigest()


def test_stream_fills_a_reused_buffer(peer: str) -> None:
    received = bytearray()
    buffer = bytearray(300_000)
    with _fetcher(peer).stream(peer + "/large") as body:
        file: Any = body.file  # a BinaryIO that also reads into a buffer
        while count := file.readinto(buffer):
            received += buffer[:count]
    assert received == LARGE_PAYLOAD


@pytest.mark.parametrize("read", [lambda file: file.read(64 << 10), lambda file: file.read(),
                                  lambda file: file.read1(), lambda file: file.readinto(bytearray(5000))],
                         ids=["read", "read-all", "read1", "readinto"])
def test_a_stream_cut_off_before_its_content_length_is_interrupted_on_every_read(
        peer: str, read: Callable[[Any], object]) -> None:
    with _fetcher(peer).stream(peer + "/cut") as body:
        with pytest.raises(UpstreamInterrupted, match="broke off"):
            while read(body.file):
                pass
        # A caller that goes on reading never sees an end of file it could take for the end.
        with pytest.raises(UpstreamInterrupted):
            body.file.read(64 << 10)
        with pytest.raises(UpstreamInterrupted):
            read(body.file)
        assert body.size < len(PAYLOAD)


def test_a_download_cut_off_is_interrupted(peer: str) -> None:
    with pytest.raises(UpstreamInterrupted):
        with _fetcher(peer).download(peer + "/cut"):
            pass


@pytest.mark.parametrize("path", ["/file", "/lying-length"])
def test_stream_size_cap(peer: str, path: str) -> None:
    with pytest.raises(PayloadTooLarge) as caught:
        with _fetcher(peer, max_bytes=1000).stream(peer + path) as body:
            body.file.read()
    assert caught.value.limit == 1000


def test_stream_refuses_a_declared_oversize_before_reading(peer: str) -> None:
    entered = False
    with pytest.raises(PayloadTooLarge):
        with _fetcher(peer, max_bytes=1000).stream(peer + "/file"):
            entered = True
    assert not entered


def test_stream_overall_deadline(peer: str) -> None:
    with pytest.raises(UpstreamError, match="took too long"):
        with _fetcher(peer, timeout=0.25).stream(peer + "/dribble") as body:
            body.file.read()


def test_stream_keeps_to_the_fence(peer: str) -> None:
    with pytest.raises(OriginNotAllowed):
        with _fetcher(peer).stream("http://169.254.169.254/latest/meta-data/"):
            pass


def test_request_returns_a_read_response(peer: str) -> None:
    response = _fetcher(peer).request("GET", peer + "/hello")
    assert response.status_code == 200 and response.text == "ok"


@pytest.mark.parametrize(
    "target",
    [
        "http://127.0.0.1:1/file",  # another loopback port
        "http://169.254.169.254/latest/meta-data/",
        "http://example.org/file",
        "ftp://127.0.0.1/file",
        "file:///etc/passwd",
        "not a url",
    ],
)
def test_other_origins_are_refused(peer: str, target: str) -> None:
    with pytest.raises(OriginNotAllowed):
        with _fetcher(peer).download(target):
            pass


def _loopback_name() -> str:
    """A host name other than localhost that resolves to a loopback address here."""
    for name in (socket.gethostname(), "vm", "runsc"):
        try:
            if ipaddress.ip_address(socket.gethostbyname(name)).is_loopback:
                return name
        except OSError:
            continue
    pytest.skip("no host name other than localhost resolves to loopback on this machine")


def test_configured_name_resolving_to_loopback_is_refused() -> None:
    name = _loopback_name()
    fetcher = _fetcher(f"http://{name}:8080")
    with pytest.raises(OriginNotAllowed, match="resolves to"):
        fetcher.check_url(f"http://{name}:8080/x")


def test_configured_loopback_literal_is_allowed(peer: str) -> None:
    assert _fetcher(peer).check_url(peer + "/x") == peer


@pytest.mark.parametrize(
    "origin", ["http://127.0.0.1:8080", "http://localhost:8080", "http://[::1]:8080", "http://169.254.169.254:80"]
)
def test_untrusted_origins_never_reach_loopback_or_link_local_even_written_literally(origin: str) -> None:
    session = requests.Session()
    policy = FetchPolicy(allowed_origins=(origin,), max_bytes=1024, timeout_seconds=1, trust_literal_hosts=False)
    with pytest.raises(OriginNotAllowed, match="(is a (loopback|link-local) address|resolves to .*), which is not allowed"):
        Fetcher(session, policy).check_url(origin + "/launch")


@pytest.mark.parametrize("method", ["download", "stream"])
def test_redirects_are_not_followed(peer: str, method: str) -> None:
    with pytest.raises(UpstreamError, match="redirect"):
        with getattr(_fetcher(peer), method)(peer + "/redirect"):
            pass


@pytest.mark.parametrize("method", ["download", "stream"])
def test_error_status_is_an_upstream_error(peer: str, method: str) -> None:
    with pytest.raises(UpstreamError, match="404"):
        with getattr(_fetcher(peer), method)(peer + "/missing"):
            pass


@pytest.mark.parametrize("path", ["/file", "/lying-length"])
def test_size_cap(peer: str, path: str) -> None:
    with pytest.raises(PayloadTooLarge) as caught:
        with _fetcher(peer, max_bytes=1000).download(peer + path):
            pass
    assert caught.value.limit == 1000


def test_timeout_is_an_upstream_error(peer: str) -> None:
    with pytest.raises(UpstreamError, match="in time"):
        _fetcher(peer, timeout=0.3).request("GET", peer + "/slow")
    release.set()


def test_unreachable_peer_is_an_upstream_error() -> None:
    with pytest.raises(UpstreamError):
        _fetcher("http://127.0.0.1:9").request("GET", "http://127.0.0.1:9/x")
