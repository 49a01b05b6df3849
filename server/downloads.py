"""Serving stored bytes over HTTP: streamed, with Content-Length, ETag, Last-Modified and
Range, and with the server's sendfile when the content is a real file."""

from __future__ import annotations

from datetime import datetime
from typing import BinaryIO

from flask import Response, request, send_file


def stream_content(
    content: BinaryIO,
    *,
    size: int,
    mimetype: str,
    download_name: str,
    etag: str | None = None,
    last_modified: datetime | None = None,
    as_attachment: bool = True,
    conditional: bool = True,
) -> Response:
    """A response that streams `content` (closed by the server when done)."""
    response = send_file(
        content,
        mimetype=mimetype,
        as_attachment=as_attachment,
        download_name=download_name,
        conditional=False,
        etag=False,
        max_age=0,
    )
    response.content_length = size
    if etag:
        response.set_etag(etag)
    if last_modified is not None:
        response.last_modified = last_modified
    response.headers["Cache-Control"] = "private, no-cache"
    if conditional:
        response.make_conditional(request.environ, accept_ranges=True, complete_length=size)
    return response
