"""The Flask request class: its body is read whole or not at all (see `core.bodies`).

gunicorn frames bodies itself (``wsgi.input_terminated``), so Werkzeug hands its input
through unchecked: a body cut off before its Content-Length would read as a short, clean
end. Every reader of ``request.stream`` (uploads, forms, JSON) goes through `CompleteBody`
instead, with gunicorn's framing errors among those it turns into a 400.
"""

from __future__ import annotations

import io
from typing import IO, cast

from flask import Request
from werkzeug.utils import cached_property
from werkzeug.wsgi import get_content_length

from core.bodies import CompleteBody

try:
    from gunicorn.http.errors import ParseException
except ImportError:  # served by another WSGI server
    _READ_ERRORS: tuple[type[BaseException], ...] = (OSError, ValueError)
else:
    _READ_ERRORS = (OSError, ValueError, ParseException)


class CompleteBodyRequest(Request):
    @cached_property
    def stream(self) -> IO[bytes]:
        environ = self.environ
        length = get_content_length(environ)
        if length is None and "wsgi.input_terminated" not in environ:
            # Without a length or a server that ends the stream, reading could block forever.
            return io.BytesIO()
        return cast(IO[bytes], CompleteBody(environ["wsgi.input"], length, _READ_ERRORS))
