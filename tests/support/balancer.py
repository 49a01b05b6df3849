"""A loopback load balancer in front of several Docbridge instances, as admins run them
behind one address: each request goes to the upstream a test-given rule picks.

Bodies are passed through whole (the requests it carries in tests are small); the answer
goes back with the upstream's status, headers and body.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import requests

_HOP_HEADERS = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "host", "content-length"}

# (method, path with query, how many requests came before) -> index of the upstream
Rule = Callable[[str, str, int], int]


def round_robin(count: int) -> Rule:
    return lambda _method, _path, seen: seen % count


class Balancer:
    def __init__(self, upstreams: list[str], rule: Rule | None = None) -> None:
        self.upstreams = [upstream.rstrip("/") for upstream in upstreams]
        self.rule: Rule = rule or round_robin(len(self.upstreams))
        self.routed: list[tuple[str, str, int]] = []  # (method, path, upstream index)
        self._lock = threading.Lock()
        session = requests.Session()
        session.trust_env = False
        balancer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def _forward(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with balancer._lock:
                    index = balancer.rule(self.command, self.path, len(balancer.routed))
                    balancer.routed.append((self.command, self.path, index))
                headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_HEADERS}
                answer = session.request(self.command, balancer.upstreams[index] + self.path, data=body,
                                         headers=headers, allow_redirects=False, timeout=120)
                self.send_response(answer.status_code)
                for key, value in answer.headers.items():
                    if key.lower() not in _HOP_HEADERS:
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(answer.content)))
                self.end_headers()
                self.wfile.write(answer.content)

            do_GET = do_POST = do_PUT = do_DELETE = _forward  # noqa: N815

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> Balancer:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()
