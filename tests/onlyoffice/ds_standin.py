"""A Document Server stand-in: a real loopback HTTP server that behaves as ONLYOFFICE Docs
does towards an integration (see docs: onlyoffice.md).

* ``open(config)`` is what the editor's "auth" does: verify the config token, and for the
  first opener of a key GET ``document.url`` with ``Authorization: Bearer
  JWT({"payload": {"url": …}})``; then post status 1 to the user's callbackUrl.
* ``edit``/``close``/``forcesave`` drive the session; callbacks are POSTed with both the
  header token ``{"payload": body}`` and the body ``token`` (claims = body), retried on
  network errors, 429 and 5xx with a (shortened) backoff.
* Saved states are served at cache URLs ``/cache/files/<id>/output.<ext>?md5=…``; the
  command service and conversion API answer as the DS does (error codes included).
* ``/web-apps/apps/api/documents/api.js`` is a stand-in api.js whose ``DocEditor`` posts the
  config it receives back to the stand-in, which then acts as the editor would.
"""

from __future__ import annotations

import hashlib
import io
import json
import threading
import time
import uuid
import zipfile
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit
from xml.sax.saxutils import escape

import jwt
import requests

API_JS = r"""
(function () {
  var origin = %(origin)s;
  function DocEditor(placeholder, config) {
    if (!config || !config.document || !config.document.url || !(config.document.fileType || config.documentType)) {
      throw new Error("stand-in api.js: incomplete config");
    }
    var frame = document.createElement("iframe");
    frame.id = "standin-frame";
    frame.name = "frameEditor";
    frame.src = "about:blank";
    var target = document.getElementById(placeholder);
    target.parentNode.replaceChild(frame, target);
    var self = this;
    this.config = config;
    this.calls = [];
    window.__standin = { config: config, status: "pending", editor: this };
    fetch(origin + "/standin/editor", { method: "POST", body: JSON.stringify(config) })
      .then(function (r) { return r.json(); })
      .then(function (answer) {
        window.__standin.status = answer.ok ? "ready" : "error";
        window.__standin.answer = answer;
        var events = config.events || {};
        if (!answer.ok && events.onError) { events.onError({ data: { errorCode: answer.code, errorDescription: answer.message } }); }
        if (answer.ok && events.onDocumentReady) { events.onDocumentReady({}); }
      });
  }
  ["refreshHistory", "setHistoryData", "showMessage", "refreshFile", "destroyEditor", "requestClose"].forEach(function (name) {
    DocEditor.prototype[name] = function (arg) { this.calls.push([name, arg]); };
  });
  DocEditor.version = function () { return "9.0.4.50"; };
  window.DocsAPI = { DocEditor: DocEditor };
})();
"""


def _watermark_text(options: Any) -> str:
    """The text of ``document.options.watermark_on_draw`` as the editors draw it (every run of
    every paragraph); PermissionError when the object is not of the documented shape."""
    if options is None:
        return ""
    if not isinstance(options, dict):
        raise PermissionError("-1 document.options must be an object")
    watermark = options.get("watermark_on_draw")
    if watermark is None:
        return ""
    paragraphs = watermark.get("paragraphs") if isinstance(watermark, dict) else None
    if not isinstance(paragraphs, list) or not paragraphs:
        raise PermissionError("-1 watermark_on_draw needs paragraphs")
    texts = []
    for paragraph in paragraphs:
        runs = paragraph.get("runs") if isinstance(paragraph, dict) else None
        if not isinstance(runs, list) or not all(isinstance(run, dict) and isinstance(run.get("text"), str) for run in runs):
            raise PermissionError("-1 watermark_on_draw paragraphs need runs with text")
        texts.append("".join(run["text"] for run in runs))
    for number in ("width", "height", "rotate", "transparent"):
        if number in watermark and not isinstance(watermark[number], (int, float)):
            raise PermissionError(f"-1 watermark_on_draw.{number} must be a number")
    return "\n".join(texts)


def _iso_now() -> str:
    now = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now * 1000) % 1000:03d}Z"


def _resigned(link: str, attempt: int) -> str:
    """A cache link as the DS signs it again a moment later: same path, new ``expires``."""
    parts = urlsplit(link)
    query = parse_qs(parts.query)
    query["expires"] = [str(int(query.get("expires", ["0"])[0]) + attempt)]
    return parts._replace(query=urlencode(query, doseq=True)).geturl()


def wait_for(predicate: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for the Document Server stand-in")
        time.sleep(0.02)


@dataclass
class Session:
    key: str
    url: str
    file_type: str
    content: bytes
    users: dict[str, str] = field(default_factory=dict)  # user id -> callbackUrl
    viewers: set[str] = field(default_factory=set)  # connected in view mode: they hold no session
    callbacks: dict[str, str] = field(default_factory=dict)  # every editor's callbackUrl, kept after leaving
    modified: bool = False
    saved_since_change: bool = False
    forcesaved: bool = False
    history_changes: list[dict[str, Any]] = field(default_factory=list)
    last_author: str = ""

    def editors(self) -> list[str]:
        return [user for user in self.users if user not in self.viewers]

    def save_callback(self, fallback: str) -> str:
        """Where the DS posts a save: the callbackUrl of the user who changed the document last."""
        return self.callbacks.get(self.last_author, fallback)


@dataclass
class CallbackRecord:
    url: str
    body: dict[str, Any]
    answers: list[tuple[int, Any]]


class DocumentServerStandIn:
    def __init__(self, secret: str | None, *, header: str = "Authorization", retry_delays: tuple[float, ...] = (0.05, 0.1, 0.2)) -> None:
        self.secret = secret
        self.header = header
        self.retry_delays = retry_delays
        self.sessions: dict[str, Session] = {}
        self.ended_keys: set[str] = set()
        self.cache: dict[str, tuple[bytes, str]] = {}  # cache id -> (bytes, ext)
        # Cache ids served only after a pause (a large file, a busy DS), and every cache id
        # asked for, in order, when the request came in.
        self.cache_delays: dict[str, float] = {}
        self.cache_requests: list[str] = []
        # The next this many downloads of a saved state break off half-way (a cut connection).
        self.cut_next_downloads = 0
        self.callbacks: list[CallbackRecord] = []
        self.downloads: list[dict[str, Any]] = []
        self.editor_errors: list[dict[str, Any]] = []
        # What each editor that connected was given, as the DS applies it (the token's
        # sections): {"user", "permissions", "watermark" ("" for none), "customization"}.
        self.openings: list[dict[str, Any]] = []
        self.conversions: dict[str, int] = {}
        self.conversion_failure: int | None = None
        self.conversion_accepts: list[str] = []  # the Accept header of every conversion request
        self.redirect_to = ""  # where GET /redirect-elsewhere sends the caller
        self.lock = threading.RLock()
        self.http = requests.Session()
        self.http.trust_env = False
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_OPTIONS(self) -> None:  # noqa: N802
                self.send_response(204)
                self._cors()
                self.end_headers()

            def do_GET(self) -> None:  # noqa: N802
                stand_in._get(self)

            def do_POST(self) -> None:  # noqa: N802
                stand_in._post(self)

            def _cors(self) -> None:
                self.send_header("Access-Control-Allow-Origin", "*")
                self.send_header("Access-Control-Allow-Headers", "Content-Type")

            def reply(self, status: int, body: bytes, content_type: str = "application/json") -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self._cors()
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}/"
        # The address browsers use; the DS builds its cache links with it (as the real DS
        # does with the address the editor connected to).
        self.public_base = self.base
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    # --- lifecycle -------------------------------------------------------------------

    def __enter__(self) -> DocumentServerStandIn:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    # --- JWT -------------------------------------------------------------------------

    def sign(self, claims: dict[str, Any], ttl: int = 300) -> str:
        assert self.secret is not None
        now = int(time.time())
        return jwt.encode({**claims, "iat": now, "exp": now + ttl}, self.secret, algorithm="HS256")

    def verify(self, token: str) -> dict[str, Any]:
        assert self.secret is not None
        return dict(jwt.decode(token, self.secret, algorithms=["HS256", "HS384", "HS512"], leeway=60))

    def _request_params(self, handler: BaseHTTPRequestHandler, body: dict[str, Any]) -> dict[str, Any] | None:
        """Command/conversion parameters: body token first, then the header's payload."""
        if self.secret is None:
            return body
        try:
            if body.get("token"):
                return self.verify(str(body["token"]))
            header = handler.headers.get(self.header, "")
            if header.startswith("Bearer "):
                claims = self.verify(header[7:])
                payload = claims.get("payload")
                return dict(payload) if isinstance(payload, dict) else None
        except jwt.InvalidTokenError:
            return None
        return None

    # --- the editor side -------------------------------------------------------------

    def open(self, config: dict[str, Any], user_id: str | None = None) -> Session:
        """What happens when an editor connects with `config` (the page's, with token)."""
        if self.secret is not None:
            token = config.get("token")
            if not token:
                raise PermissionError("-20 token missing")
            claims = self.verify(str(token))
            for section in ("document", "editorConfig", "documentType"):
                if section in claims:
                    config = {**config, section: claims[section]}
            if claims.get("document", {}).get("permissions") != config["document"].get("permissions"):
                raise PermissionError("-23 permissions differ")
        document = config["document"]
        editor = config["editorConfig"]
        watermark = _watermark_text(document.get("options"))
        key = document["key"]
        assert isinstance(editor["user"]["id"], str)
        user = user_id or editor["user"]["id"]
        with self.lock:
            self.openings.append({"user": user, "permissions": dict(document.get("permissions") or {}),
                                  "watermark": watermark, "customization": dict(editor.get("customization") or {})})
            session = self.sessions.get(key)
            if session is None:
                if key in self.ended_keys and editor.get("mode") == "edit":
                    raise PermissionError("-102 the file version has been changed")
                content = self._download(document["url"])
                session = Session(key, document["url"], document["fileType"], content)
                self.sessions[key] = session
            session.users[user] = editor["callbackUrl"]
            if editor.get("mode") == "edit":
                session.callbacks[user] = editor["callbackUrl"]
            else:
                session.viewers.add(user)
        if editor.get("mode") == "edit":
            self.post_callback(editor["callbackUrl"], {"key": key, "status": 1, "users": session.editors(),
                                                       "actions": [{"type": 1, "userid": user}]})
        return session

    def _download(self, url: str) -> bytes:
        headers = {"User-Agent": "Node.js/6.13", "Connection": "Keep-Alive"}
        if self.secret is not None:
            headers[self.header] = "Bearer " + self.sign({"payload": {"url": url}})
        last: requests.Response | None = None
        for _attempt in range(3):
            try:
                last = self.http.get(url, headers=headers, timeout=120, allow_redirects=False)
            except requests.RequestException as error:
                self.downloads.append({"url": url, "status": 0})
                raise ConnectionError(f"-4 download failed: {type(error).__name__}") from None
            self.downloads.append({"url": url, "status": last.status_code})
            if last.status_code in (200, 206):
                return last.content
            time.sleep(0.05)
        raise ConnectionError(f"-4 download failed: HTTP {last.status_code if last else '?'}")

    def edit(self, key: str, user: str, content: bytes) -> None:
        with self.lock:
            session = self.sessions[key]
            session.content = content
            session.modified = True
            session.saved_since_change = False
            session.last_author = user
            session.history_changes.append({"created": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime()),
                                            "user": {"id": user, "name": user},
                                            "documentSha256": hashlib.sha256(content).hexdigest()})

    def cache_links(self, session: Session, download_delay: float = 0.0) -> tuple[str, str]:
        """Signed links to the session's current state and its changes.zip, as in a save;
        the state is served only `download_delay` seconds after it is asked for."""
        cache_id = f"{session.key}_{uuid.uuid4().hex[:8]}"
        changes_id = cache_id + "_changes"
        self.cache[cache_id] = (session.content, session.file_type)
        if download_delay:
            self.cache_delays[cache_id] = download_delay
        archive = io.BytesIO()
        with zipfile.ZipFile(archive, "w") as zipped:
            zipped.writestr("changes.json", json.dumps(session.history_changes))
        self.cache[changes_id] = (archive.getvalue(), "zip")
        md5 = hashlib.md5(cache_id.encode()).hexdigest()  # noqa: S324 - the DS's own link signature
        url = f"{self.public_base}cache/files/data/{cache_id}/output.{session.file_type}?md5={md5}&expires=9999999999&filename=output.{session.file_type}"
        changes = f"{self.public_base}cache/files/data/{changes_id}/changes.zip?md5={md5}&expires=9999999999&filename=changes.zip"
        return url, changes

    def save_body(self, session: Session, status: int, user: str, download_delay: float = 0.0,
                  **extra: Any) -> dict[str, Any]:
        url, changes = self.cache_links(session, download_delay)
        body: dict[str, Any] = {
            "key": session.key, "status": status, "url": url, "changesurl": changes,
            "history": {"serverVersion": "9.0.4", "changes": list(session.history_changes)},
            "users": [user], "actions": [{"type": 0, "userid": user}],
            "lastsave": _iso_now(),
            "notmodified": False, "filetype": session.file_type,
        }
        if status in (6, 7):
            # A forcesave names who clicked Save, and nobody else; command and timer name no one.
            body["actions"] = [{"type": 2, "userid": user}] if extra.get("forcesavetype") == 1 else None
        body.update(extra)
        return {name: value for name, value in body.items() if value is not None}

    def close(self, key: str, user: str) -> CallbackRecord | None:
        """`user` leaves. As the DS does: the last *editor's* departure ends the session (viewers
        hold none and get no callbacks), and the save goes to the callbackUrl of the user who
        changed the document last, not to the leaver's."""
        with self.lock:
            session = self.sessions.get(key)
            if session is None or user not in session.users:
                return None  # a viewer still connected after the session was saved
            callback_url = session.users.pop(user)
            if user in session.viewers:
                session.viewers.discard(user)
                if not session.users:
                    del self.sessions[key]
                return None
            if session.editors():
                return self.post_callback(callback_url, {"key": key, "status": 1, "users": session.editors(),
                                                         "actions": [{"type": 0, "userid": user}]})
            del self.sessions[key]
            self.ended_keys.add(key)
        author = session.last_author or user
        if session.modified and not session.saved_since_change:
            return self.post_callback(session.save_callback(callback_url), self.save_body(session, 2, author), retry=True)
        if session.forcesaved:
            body = self.save_body(session, 2, author, notmodified=True)
            return self.post_callback(session.save_callback(callback_url), body, retry=True)
        return self.post_callback(callback_url, {"key": key, "status": 4, "actions": [{"type": 0, "userid": user}]})

    def fail_save(self, key: str, user: str) -> CallbackRecord:
        """The assembly failed: status 3 with the (possibly corrupted) file."""
        with self.lock:
            session = self.sessions.pop(key)
            callback_url = session.users.pop(user)
            self.ended_keys.add(key)
        return self.post_callback(session.save_callback(callback_url), self.save_body(session, 3, user), retry=True)

    def forcesave(self, key: str, *, download_delay: float = 0.0) -> threading.Thread:
        """A forcesave by timer (forcesavetype 2) whose assembled file is slow to download;
        the returned thread ends when Docbridge has answered the callback."""
        with self.lock:
            session = self.sessions[key]
            user = session.last_author or next(iter(session.users))
            callback_url = session.save_callback(next(iter(session.users.values())))
            body = self.save_body(session, 6, user, download_delay, forcesavetype=2)
            session.saved_since_change = True
            session.forcesaved = True
        thread = threading.Thread(target=self.post_callback, args=(callback_url, body), daemon=True)
        thread.start()
        return thread

    def _forcesave(self, key: str, forcesave_type: int = 0) -> int:
        with self.lock:
            session = self.sessions.get(key)
            if session is None:
                return 1
            if not session.modified or session.saved_since_change:
                return 4
            user = session.last_author or next(iter(session.users))
            callback_url = session.save_callback(next(iter(session.users.values())))
            body = self.save_body(session, 6, user, forcesavetype=forcesave_type)
            session.saved_since_change = True
            session.forcesaved = True
        threading.Thread(target=self.post_callback, args=(callback_url, body), daemon=True).start()
        return 0

    # --- callbacks -------------------------------------------------------------------

    def signed_callback(self, body: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
        headers = {"Content-Type": "application/json"}
        if self.secret is None:
            return dict(body), headers
        headers[self.header] = "Bearer " + self.sign({"payload": body})
        return {**body, "token": self.sign(body)}, headers

    def post_callback(self, url: str, body: dict[str, Any], *, retry: bool = False,
                      headers: dict[str, str] | None = None, raw: dict[str, Any] | None = None) -> CallbackRecord:
        """POST a callback as the DS does; retry on network errors, 429 and 5xx when `retry`."""
        sent, signed_headers = (raw, headers or {"Content-Type": "application/json"}) if raw is not None else self.signed_callback(body)
        record = CallbackRecord(url, body, [])
        self.callbacks.append(record)
        delays = self.retry_delays if retry else ()
        for attempt in range(len(delays) + 1):
            if attempt and raw is None:
                # The DS runs the save callback again: its cache links are signed anew.
                body = {**body, **{name: _resigned(body[name], attempt) for name in ("url", "changesurl") if body.get(name)}}
                record.body = body
                sent, signed_headers = self.signed_callback(body)
            try:
                answer = self.http.post(url, data=json.dumps(sent), headers=signed_headers, timeout=600)
                try:
                    parsed: Any = answer.json()
                except ValueError:
                    parsed = answer.text
                record.answers.append((answer.status_code, parsed))
                if answer.status_code != 429 and answer.status_code < 500:
                    break
            except requests.RequestException as error:
                record.answers.append((0, str(error)))
            if attempt < len(delays):
                time.sleep(delays[attempt])
        return record

    # --- HTTP ------------------------------------------------------------------------

    def _get(self, handler: Any) -> None:
        parts = urlsplit(handler.path)
        if parts.path == "/healthcheck":
            handler.reply(200, b"true", "text/plain")
        elif parts.path == "/web-apps/apps/api/documents/api.js":
            origin = json.dumps(self.base.rstrip("/"))
            handler.reply(200, (API_JS % {"origin": origin}).encode(), "application/javascript")
        elif parts.path == "/redirect-elsewhere":
            handler.send_response(302)
            handler.send_header("Location", self.redirect_to)
            handler.send_header("Content-Length", "0")
            handler.end_headers()
        elif parts.path.startswith("/cache/files/data/"):
            cache_id = parts.path.split("/")[4]
            self.cache_requests.append(cache_id)
            time.sleep(self.cache_delays.get(cache_id, 0.0))
            found = self.cache.get(cache_id)
            query = parse_qs(parts.query)
            if found is None or query.get("md5") != [hashlib.md5(cache_id.removesuffix("_changes").encode()).hexdigest()]:  # noqa: S324
                handler.reply(403, b"forbidden", "text/plain")
            elif self.cut_next_downloads and not cache_id.endswith("_changes"):
                self.cut_next_downloads -= 1
                handler.send_response(200)
                handler.send_header("Content-Length", str(len(found[0])))
                handler.end_headers()
                handler.wfile.write(found[0][: len(found[0]) // 2])
                handler.close_connection = True
            else:
                handler.reply(200, found[0], "application/octet-stream")
        else:
            handler.reply(404, b"not found", "text/plain")

    def _post(self, handler: Any) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length)
        parts = urlsplit(handler.path)
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            body = {}
        if parts.path == "/standin/editor":
            self._editor_connected(handler, body)
        elif parts.path in ("/coauthoring/CommandService.ashx", "/command"):
            self._command(handler, body)
        elif parts.path in ("/ConvertService.ashx", "/converter"):
            self._convert(handler, body, parts.path)
        else:
            handler.reply(404, b"{}")

    def _editor_connected(self, handler: Any, config: dict[str, Any]) -> None:
        try:
            session = self.open(config)
            answer = {"ok": True, "key": session.key}
        except PermissionError as error:
            code, _, message = str(error).partition(" ")
            answer = {"ok": False, "code": int(code), "message": message}
        except (ConnectionError, jwt.InvalidTokenError, KeyError) as error:
            answer = {"ok": False, "code": -4 if isinstance(error, ConnectionError) else -20, "message": str(error)}
        self.editor_errors.append(answer) if not answer["ok"] else None
        handler.reply(200, json.dumps(answer).encode())

    def _command(self, handler: Any, body: dict[str, Any]) -> None:
        params = self._request_params(handler, body)
        if params is None:
            handler.reply(200, json.dumps({"error": 6}).encode())
            return
        command = params.get("c")
        key = params.get("key")
        if command == "version":
            result: dict[str, Any] = {"error": 0, "version": "9.0.4.50"}
        elif command == "forcesave":
            result = {"key": key, "error": self._forcesave(str(key))}
        elif command == "info":
            session = self.sessions.get(str(key))
            result = {"key": key, "error": 0 if session else 1, "users": list(session.users) if session else []}
        elif command == "drop":
            result = {"key": key, "error": 0 if str(key) in self.sessions else 1}
        elif command == "meta":
            result = {"key": key, "error": 0 if str(key) in self.sessions else 1}
        else:
            result = {"error": 5}
        handler.reply(200, json.dumps(result).encode())

    def _convert(self, handler: Any, body: dict[str, Any], path: str) -> None:
        params = self._request_params(handler, body)
        if params is None:
            self._conversion_answer(handler, path, {"error": -8})
            return
        key = str(params.get("key"))
        if self.conversion_failure is not None:
            self._conversion_answer(handler, path, {"error": self.conversion_failure})
            return
        calls = self.conversions.get(key, 0) + 1
        self.conversions[key] = calls
        if params.get("async") and calls == 1:
            self._conversion_answer(handler, path, {"percent": 0, "endConvert": False})
            return
        try:
            source = self._download(str(params["url"]))
        except ConnectionError:
            self._conversion_answer(handler, path, {"error": -4})
            return
        output = str(params.get("outputtype"))
        cache_id = f"conv_{key}_{output}"
        converted = source if params.get("filetype") == output else b"CONVERTED-" + output.encode() + b":" + source
        self.cache[cache_id] = (converted, output)
        md5 = hashlib.md5(cache_id.encode()).hexdigest()  # noqa: S324
        file_url = f"{self.public_base}cache/files/data/{cache_id}/output.{output}?md5={md5}&expires=9999999999"
        self._conversion_answer(handler, path, {"fileUrl": file_url, "fileType": output, "percent": 100,
                                                "endConvert": True})

    def _conversion_answer(self, handler: Any, path: str, answer: dict[str, Any]) -> None:
        """As the DS answers: ``ConvertService.ashx`` in XML unless ``Accept`` asks for JSON
        only, ``/converter`` in JSON unless it asks for XML only."""
        accept = (handler.headers.get("Accept") or "*/*").lower()
        self.conversion_accepts.append(accept)
        wants_json = "json" in accept and "xml" not in accept
        wants_xml = "xml" in accept and "json" not in accept
        if (path == "/converter" and not wants_xml) or wants_json:
            handler.reply(200, json.dumps(answer).encode(), "application/json; charset=UTF-8")
            return
        if "error" in answer:
            inner = f"<Error>{answer['error']}</Error>"
        else:
            url = answer.get("fileUrl")
            kind = answer.get("fileType")
            inner = (f"<FileUrl>{escape(url)}</FileUrl>" if url else "<FileUrl/>") + \
                    (f"<FileType>{escape(kind)}</FileType>" if kind else "<FileType/>") + \
                    f"<Percent>{answer.get('percent', 0)}</Percent>" + \
                    f"<EndConvert>{'True' if answer.get('endConvert') else 'False'}</EndConvert>"
        xml = f'<?xml version="1.0" encoding="utf-8"?><FileResult>{inner}</FileResult>'
        handler.reply(200, xml.encode(), "text/xml; charset=UTF-8")
