"""A loopback HTTP proxy in front of a WebDAV server that can fail the next PUTs with 503:
storage that is briefly unavailable, for the "5xx so the Document Server retries" journey."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import requests

_HOP_HEADERS = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "host", "content-length"}


class FlakyProxy:
    def __init__(self, upstream: str) -> None:
        self.upstream = upstream.rstrip("/")
        self.fail_next_puts = 0
        self.failed = 0
        self.lock = threading.Lock()
        session = requests.Session()
        session.trust_env = False
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def _body(self) -> bytes:
                if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    data = bytearray()
                    while True:
                        size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                        if size == 0:
                            self.rfile.readline()
                            return bytes(data)
                        data.extend(self.rfile.read(size))
                        self.rfile.readline()
                return self.rfile.read(int(self.headers.get("Content-Length") or 0))

            def _forward(self) -> None:
                body = self._body()
                if self.command == "PUT":
                    with proxy.lock:
                        failing = proxy.fail_next_puts > 0
                        if failing:
                            proxy.fail_next_puts -= 1
                            proxy.failed += 1
                    if failing:
                        self.send_response(503)
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                        return
                headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_HEADERS}
                if "Destination" in headers:
                    own = f"http://{self.headers['Host']}"
                    headers["Destination"] = headers["Destination"].replace(own, proxy.upstream)
                answer = session.request(self.command, proxy.upstream + self.path, data=body, headers=headers,
                                         allow_redirects=False, timeout=30)
                content = answer.content if self.command != "HEAD" else b""
                self.send_response(answer.status_code)
                for key, value in answer.headers.items():
                    if key.lower() not in _HOP_HEADERS:
                        self.send_header(key, value)
                self.send_header("Content-Length", answer.headers.get("Content-Length", str(len(content)))
                                 if self.command == "HEAD" else str(len(content)))
                self.end_headers()
                self.wfile.write(content)

            do_GET = do_PUT = do_HEAD = do_DELETE = do_MKCOL = do_MOVE = do_COPY = _forward  # noqa: N815

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> FlakyProxy:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()
