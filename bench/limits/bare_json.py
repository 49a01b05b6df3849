"""The CheckFileInfo limit: a bare Flask app answering every ``GET /wopi/files/<id>`` with
the same 400 bytes of CheckFileInfo-shaped JSON; no token, no storage, no database.

Run under Docbridge's settings: ``gunicorn -c gunicorn.conf.py bench.limits.bare_json:app``.
"""

from __future__ import annotations

import json

from flask import Flask, Response

SIZE = 400


def _body() -> bytes:
    info = {
        "BaseFileName": "get-1m.bin",
        "OwnerId": "admin",
        "UserId": "admin",
        "UserFriendlyName": "admin",
        "Size": 1048576,
        "Version": "1",
        "UserCanWrite": True,
        "SupportsLocks": True,
        "SupportsUpdate": True,
        "SupportsGetLock": True,
        "SupportsRename": True,
        "UserCanRename": True,
        "UserCanNotWriteRelative": False,
        "SupportsExtendedLockLength": True,
        "LastModifiedTime": "2026-01-01T00:00:00.0000000Z",
    }
    text = json.dumps(info, separators=(",", ":"))
    # Padded to exactly SIZE bytes, the size of a typical CheckFileInfo answer.
    info["BreadcrumbFolderName"] = "x" * (SIZE - len(text) - len(',"BreadcrumbFolderName":""'))
    body = json.dumps(info, separators=(",", ":")).encode()
    assert len(body) == SIZE, len(body)
    return body


BODY = _body()
app = Flask(__name__)


@app.get("/wopi/files/<file_id>")
def check_file_info(file_id: str) -> Response:
    return Response(BODY, mimetype="application/json")


@app.get("/healthz")
def healthz() -> Response:
    return Response("ok", mimetype="text/plain")
