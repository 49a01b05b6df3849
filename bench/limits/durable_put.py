"""The PutFile limit: a Flask app that stores each request body durably and nothing else.

``PUT`` or ``POST /wopi/files/<id>/contents`` streams the body in 1 MiB pieces to a
temporary file in the same folder, fsyncs it, renames it over ``<id>``, fsyncs the folder
and answers 200 with no body: the least a server must do for a save that survives a power
cut. No token, lock, hash or database. ``GET`` of the same path returns the stored bytes,
so a benchmark can check them. The folder is ``$DOCBRIDGE_DATA_DIR/puts``.

Run under Docbridge's settings: ``gunicorn -c gunicorn.conf.py 'bench.limits.durable_put:create_app()'``.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

from flask import Flask, Response, abort, request, send_file

PIECE = 1 << 20
NAME = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9_.-]{0,99}")


def create_app(folder: Path | None = None) -> Flask:
    """The app, storing into `folder` (default: ``$DOCBRIDGE_DATA_DIR/puts``, created)."""
    folder = folder or Path(os.environ.get("DOCBRIDGE_DATA_DIR", "data")) / "puts"
    folder.mkdir(parents=True, exist_ok=True)
    app = Flask(__name__)

    def target(file_id: str) -> Path:
        if not NAME.fullmatch(file_id):
            abort(404)
        return folder / file_id

    @app.route("/wopi/files/<file_id>/contents", methods=["PUT", "POST"])
    def put_file(file_id: str) -> Response:
        final = target(file_id)
        descriptor, temporary = tempfile.mkstemp(dir=folder, prefix=".put-")
        try:
            with os.fdopen(descriptor, "wb") as handle:
                while piece := request.stream.read(PIECE):
                    handle.write(piece)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, final)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        directory = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)
        return Response(status=200)

    @app.get("/wopi/files/<file_id>/contents")
    def get_file(file_id: str) -> Response:
        stored = target(file_id)
        if not stored.is_file():
            abort(404)
        return send_file(stored, mimetype="application/octet-stream", conditional=False, etag=False, max_age=0)

    @app.get("/healthz")
    def healthz() -> Response:
        return Response("ok", mimetype="text/plain")

    return app
