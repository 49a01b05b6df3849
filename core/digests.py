"""Digests of bodies as they pass."""

from __future__ import annotations

import hashlib
import queue
import threading
from types import TracebackType


class StreamingSha256:
    """The SHA-256 of chunks fed in order. The first `inline_bytes` are hashed in the
    caller's thread; past them a thread of its own takes the chunks, so that hashing a large
    body overlaps receiving and writing it (hashlib lets go of the GIL while it hashes a
    large chunk). The thread holds at most `queued_chunks` chunks not yet hashed.

    Use as a context manager: leaving it early (an error) stops the thread."""

    def __init__(self, *, inline_bytes: int = 8 * 1024 * 1024, queued_chunks: int = 8) -> None:
        self._digest = hashlib.sha256()
        self._inline_bytes = inline_bytes
        self._queued_chunks = queued_chunks
        self._seen = 0
        self._queue: queue.Queue[bytes | None] | None = None
        self._thread: threading.Thread | None = None
        self._finished = False
        self._failure: BaseException | None = None

    def update(self, chunk: bytes | bytearray | memoryview) -> None:
        if self._finished:
            raise ValueError("the digest was already taken")
        self._seen += chunk.nbytes if isinstance(chunk, memoryview) else len(chunk)
        if self._queue is None and self._seen <= self._inline_bytes:
            self._digest.update(chunk)
            return
        if self._queue is None:
            self._queue = queue.Queue(self._queued_chunks)
            self._thread = threading.Thread(target=self._hash_queued, name="sha256", daemon=True)
            self._thread.start()
        # A caller may reuse its buffer once update returns: the thread gets a copy of one.
        self._queue.put(chunk if isinstance(chunk, bytes) else bytes(chunk))

    def _hash_queued(self) -> None:
        assert self._queue is not None
        while (chunk := self._queue.get()) is not None:
            if self._failure is not None:
                continue  # keep taking chunks, so that the feeding thread never blocks
            try:
                self._digest.update(chunk)
            except BaseException as error:  # noqa: BLE001 - raised again in the caller's thread
                self._failure = error

    def hexdigest(self) -> str:
        self._finish()
        if self._failure is not None:
            raise self._failure
        return self._digest.hexdigest()

    def _finish(self) -> None:
        self._finished = True
        if self._thread is not None:
            assert self._queue is not None
            self._queue.put(None)
            self._thread.join()
            self._thread = None

    def __enter__(self) -> StreamingSha256:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self._finish()
