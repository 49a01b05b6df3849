"""The streaming SHA-256 against hashlib's, on both sides of the inline threshold."""

from __future__ import annotations

import hashlib
import os
import threading

import pytest

from core.digests import StreamingSha256

CHUNKS = [os.urandom(size) for size in (1, 64 << 10, 1 << 20, 3, 1 << 20, 500_000, 1 << 20, 7)]


def _hashing_threads() -> list[threading.Thread]:
    return [thread for thread in threading.enumerate() if thread.name == "sha256"]


@pytest.mark.parametrize("inline_bytes", [0, 1, 100_000, 2 << 20, 64 << 20],
                         ids=["all-queued", "first-byte-inline", "part-inline", "half-inline", "all-inline"])
def test_the_digest_is_sha256_of_the_chunks_in_order(inline_bytes: int) -> None:
    with StreamingSha256(inline_bytes=inline_bytes, queued_chunks=2) as digest:
        for chunk in CHUNKS:
            digest.update(chunk)
        assert digest.hexdigest() == hashlib.sha256(b"".join(CHUNKS)).hexdigest()
    assert not _hashing_threads()


def test_a_buffer_reused_by_the_caller_after_update_does_not_change_the_digest() -> None:
    buffer = bytearray(1 << 20)
    fed = []
    with StreamingSha256(inline_bytes=0) as digest:
        for fill in range(6):
            buffer[:] = bytes([fill]) * len(buffer)
            fed.append(bytes(buffer))
            digest.update(memoryview(buffer) if fill % 2 else buffer)
        assert digest.hexdigest() == hashlib.sha256(b"".join(fed)).hexdigest()


def test_nothing_fed_is_the_digest_of_nothing() -> None:
    with StreamingSha256() as digest:
        assert digest.hexdigest() == hashlib.sha256().hexdigest()


def test_leaving_early_on_an_error_stops_the_hashing_thread() -> None:
    with pytest.raises(OSError), StreamingSha256(inline_bytes=0) as digest:
        digest.update(CHUNKS[2])
        assert _hashing_threads()
        raise OSError("the client went away")
    assert not _hashing_threads()


def test_feeding_after_the_digest_was_taken_is_refused() -> None:
    with StreamingSha256() as digest:
        digest.update(b"abc")
        digest.hexdigest()
        with pytest.raises(ValueError, match="already taken"):
            digest.update(b"d")


class _BrokenSha256:
    def __init__(self) -> None:
        self.hashed = 0

    def update(self, chunk: bytes) -> None:
        self.hashed += len(chunk)
        if self.hashed > 2 << 20:
            raise MemoryError("no room to hash")


def test_a_failure_in_the_hashing_thread_never_blocks_the_feeder_and_is_raised_by_hexdigest(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hashlib, "sha256", _BrokenSha256)
    with StreamingSha256(inline_bytes=0, queued_chunks=1) as digest:
        for _ in range(40):  # far more chunks than the queue holds
            digest.update(CHUNKS[2])
        with pytest.raises(MemoryError):
            digest.hexdigest()
    assert not _hashing_threads()
