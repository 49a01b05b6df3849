"""An external app provider for the tests, served on a loopback port: it answers Docbridge's
launch calls as docs/app-registry.md describes, and can register itself."""

from __future__ import annotations

import hmac
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from flask import Flask, Response, jsonify, redirect, request

from tests.support.net import serve_wsgi

SECRET_HEADER = "X-Docbridge-Provider-Secret"


@dataclass
class StandInProvider:
    url: str
    launches: list[dict[str, Any]] = field(default_factory=list)


@contextmanager
def stand_in_provider(secret: str) -> Iterator[StandInProvider]:
    app = Flask("stand-in-provider")
    state: dict[str, StandInProvider] = {}

    def authorised() -> bool:
        return hmac.compare_digest(request.headers.get(SECRET_HEADER, ""), secret)

    @app.post("/launch")
    def launch() -> Any:
        if not authorised():
            return jsonify(error="unauthorised"), 401
        body = request.get_json()
        state["provider"].launches.append(body)
        return jsonify(app_url=f"{state['provider'].url}/editor?file={quote(body['file']['id'], safe='')}")

    @app.post("/launch-get")
    def launch_get() -> Any:
        body = request.get_json()
        state["provider"].launches.append(body)
        return jsonify(
            app_url=f"{state['provider'].url}/view",
            method="GET",
            headers={"Authorization": f"Bearer {body['access_token']}"},
        )

    @app.post("/status/<int:code>")
    def status(code: int) -> Any:
        return jsonify(error="failing"), code

    @app.post("/redirect")
    def moved() -> Response:
        return redirect("/launch", code=307)

    @app.post("/not-json")
    def not_json() -> Response:
        return Response("<html>hello</html>", mimetype="text/html")

    @app.post("/huge")
    def huge() -> Response:
        return Response('{"app_url": "https://x.test/", "pad": "' + "x" * 100_000 + '"}', mimetype="application/json")

    @app.post("/bad-shape")
    def bad_shape() -> Any:
        return jsonify(app_url="file:///etc/passwd")

    with serve_wsgi(app) as url:
        state["provider"] = StandInProvider(url)
        yield state["provider"]
