"""UTF-7 (RFC 2152) as WOPI uses it for file names in headers (``X-WOPI-SuggestedTarget``,
``X-WOPI-RelativeTarget``, ``X-WOPI-RequestedName``, ``X-WOPI-ValidRelativeTarget``).

Python's ``utf-7`` codec does the decoding and encoding; this module adds what a header
needs around it: header values arrive as latin-1 text (WSGI), some clients send raw UTF-8
instead of UTF-7, and a malformed value is a client error (400), never a 500.
"""

from __future__ import annotations

from core.errors import BadRequest


def decode_header_name(value: str, header: str) -> str:
    """The file name a WOPI header carries."""
    raw = value.encode("latin-1", errors="replace")
    if any(byte >= 0x80 for byte in raw):
        # Not UTF-7 (which is 7-bit by definition): a client that sent UTF-8 as is.
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            raise BadRequest(f"{header} is neither UTF-7 nor UTF-8") from None
    try:
        return raw.decode("utf-7")
    except UnicodeDecodeError:
        raise BadRequest(f"{header} is not valid UTF-7") from None


def encode_header_name(name: str) -> str:
    """A file name as 7-bit UTF-7 text, safe in an HTTP header."""
    return name.encode("utf-7").decode("ascii")
