"""A WOPI editor stand-in for the browser tests: a real loopback web app that publishes
WOPI discovery (Word for .docx, no proof keys) and serves the editor page a browser is
sent to. The page reads the file through CheckFileInfo, and its "Save" button makes the
stand-in save the way a WOPI client does: LOCK, PutFile with the lock, UNLOCK."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from urllib.parse import urlencode

import requests
from flask import Flask, render_template_string, request

from tests.support.net import serve_wsgi

SAVED_TEXT = b"saved by the editor stand-in"
LOCK_ID = "editor-standin-lock"

PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Stand-in editor</title></head>
<body>
<h1 id="heading">{{ "Editing" if can_write else "Viewing" }} {{ name }}</h1>
<p id="version">Version {{ version }}</p>
{% if saved %}<p id="saved">Saved</p>{% endif %}
{% if can_write %}
<form method="post" action="/save">
  <input type="hidden" name="WOPISrc" value="{{ wopi_src }}">
  <input type="hidden" name="access_token" value="{{ token }}">
  <button type="submit" id="save">Save</button>
</form>
{% endif %}
</body></html>"""


@dataclass
class EditorStandIn:
    base_url: str = ""
    opened: list[dict[str, str]] = field(default_factory=list)

    @property
    def discovery_url(self) -> str:
        return self.base_url + "/hosting/discovery"

    def discovery_xml(self) -> str:
        actions = "".join(
            f'<action name="{action}" ext="docx" urlsrc="{self.base_url}/word/{action}?&lt;ui=UI_LLCC&amp;&gt;"/>'
            for action in ("view", "edit")
        )
        return (
            '<?xml version="1.0" encoding="utf-8"?><wopi-discovery><net-zone name="external-http">'
            f'<app name="Word">{actions}</app></net-zone></wopi-discovery>'
        )


_http = requests.Session()
_http.trust_env = False  # loopback only: never through a proxy from the environment


def _wopi(method: str, wopi_src: str, token: str, suffix: str = "", **kwargs: object) -> requests.Response:
    url = f"{wopi_src}{suffix}?{urlencode({'access_token': token})}"
    return _http.request(method, url, timeout=10, **kwargs)  # type: ignore[arg-type]


def _page(wopi_src: str, token: str, saved: bool) -> str:
    info = _wopi("GET", wopi_src, token)
    info.raise_for_status()
    body = info.json()
    return render_template_string(
        PAGE,
        name=body["BaseFileName"],
        version=body.get("Version", ""),
        can_write=bool(body.get("UserCanWrite")),
        wopi_src=wopi_src,
        token=token,
        saved=saved,
    )


def make_app(stand_in: EditorStandIn) -> Flask:
    app = Flask("editor-standin")

    @app.get("/hosting/discovery")
    def discovery() -> tuple[str, int, dict[str, str]]:
        return stand_in.discovery_xml(), 200, {"Content-Type": "text/xml"}

    @app.post("/word/<action>")
    def editor(action: str) -> str:
        wopi_src = request.args["WOPISrc"]
        token = request.form["access_token"]
        stand_in.opened.append({"action": action, "wopi_src": wopi_src})
        return _page(wopi_src, token, saved=False)

    @app.post("/save")
    def save() -> str:
        wopi_src = request.form["WOPISrc"]
        token = request.form["access_token"]
        lock = {"X-WOPI-Lock": LOCK_ID}
        _wopi("POST", wopi_src, token, headers={"X-WOPI-Override": "LOCK", **lock}).raise_for_status()
        put = _wopi("POST", wopi_src, token, "/contents", headers={"X-WOPI-Override": "PUT", **lock}, data=SAVED_TEXT)
        put.raise_for_status()
        _wopi("POST", wopi_src, token, headers={"X-WOPI-Override": "UNLOCK", **lock}).raise_for_status()
        return _page(wopi_src, token, saved=True)

    return app


@contextmanager
def editor_standin() -> Iterator[EditorStandIn]:
    stand_in = EditorStandIn()
    with serve_wsgi(make_app(stand_in)) as url:
        stand_in.base_url = url
        yield stand_in
