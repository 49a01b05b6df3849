"""Request bodies that are read whole or not at all.

A client that declares ``Content-Length: N`` and hangs up after fewer bytes, or whose
chunked framing breaks off, must never have what did arrive stored as if it were the file.
`CompleteBody` counts what it hands out against the declared length and turns a short or
malformed body into `IncompleteBody` (400) at the read that finds it. Every consumer of
the body (the blob stores, the form and JSON parsers) reads through it, so the error
reaches the save path, which removes its temporary blob and adds no version.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import BinaryIO

from core.errors import IncompleteBody

READ_SIZE = 1024 * 1024


class CompleteBody(io.RawIOBase):
    """`raw` limited to `expected_length` bytes (None: the server frames the body, as for
    chunked requests), raising `IncompleteBody` when it ends early.

    `read_errors` are what the WSGI server's input raises for broken framing (a bad chunk
    size, a chunk cut off); they become `IncompleteBody` as well."""

    def __init__(
        self,
        raw: BinaryIO,
        expected_length: int | None,
        read_errors: tuple[type[BaseException], ...] = (OSError, ValueError),
    ) -> None:
        super().__init__()
        self._raw = raw
        self._expected = expected_length
        self._read_errors = read_errors
        self.received = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        if size is None or size < 0:
            return self.readall()
        return self._take(self._raw.read, size)

    def readall(self) -> bytes:
        parts = []
        while chunk := self.read(READ_SIZE):
            parts.append(chunk)
        return b"".join(parts)

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def readline(self, size: int | None = -1) -> bytes:
        limit = READ_SIZE if size is None or size < 0 else size
        return self._take(self._raw.readline, limit)

    def _take(self, reader: Callable[[int], bytes], size: int) -> bytes:
        if self._expected is not None:
            size = min(size, self._expected - self.received)
        if size <= 0:
            return b""
        try:
            data = reader(size)
        except self._read_errors as error:
            raise IncompleteBody(
                f"the request body was cut off or malformed after {self.received} bytes ({type(error).__name__})"
            ) from error
        if data:
            self.received += len(data)
        elif self._expected is not None:
            raise IncompleteBody(f"the request body ended after {self.received} of {self._expected} bytes")
        return data
