"""`CompleteBody`: what it hands out is the declared body, whole, or it raises."""

from __future__ import annotations

import io

import pytest

from core.bodies import CompleteBody
from core.errors import IncompleteBody


class BrokenFraming(io.BytesIO):
    """A server's chunked input that finds a bad chunk size after `good` bytes."""

    def __init__(self, good: bytes) -> None:
        super().__init__(good)

    def read(self, size: int | None = -1) -> bytes:
        data = super().read(size)
        if not data:
            raise ValueError("invalid chunk size")
        return data


def test_a_whole_body_reads_as_it_was_sent() -> None:
    body = CompleteBody(io.BytesIO(b"abcdef"), 6)
    assert body.read(4) == b"ab" + b"cd"
    assert body.read() == b"ef"
    assert body.read(10) == b""
    assert body.received == 6


def test_nothing_past_the_declared_length_is_read() -> None:
    raw = io.BytesIO(b"abcdef-next-request")
    body = CompleteBody(raw, 6)
    assert body.read() == b"abcdef"
    assert raw.read() == b"-next-request"


@pytest.mark.parametrize("reader", [
    lambda body: body.read(),
    lambda body: [body.read(3) for _ in range(10)],
    lambda body: body.readinto(bytearray(100)) and body.readinto(bytearray(100)),
    lambda body: list(body),
])
def test_a_short_body_raises_at_the_read_that_finds_the_end(reader: object) -> None:
    body = CompleteBody(io.BytesIO(b"line one\nline"), 1000)
    with pytest.raises(IncompleteBody, match="after 13 of 1000 bytes"):
        reader(body)  # type: ignore[operator]


def test_a_body_framed_by_the_server_ends_where_the_server_says() -> None:
    body = CompleteBody(io.BytesIO(b"chunked content"), None)
    assert body.read() == b"chunked content"
    assert body.read() == b""


def test_framing_errors_of_the_server_become_incomplete_bodies() -> None:
    body = CompleteBody(BrokenFraming(b"first chunk"), None)
    assert body.read(11) == b"first chunk"
    with pytest.raises(IncompleteBody, match="cut off or malformed after 11 bytes"):
        body.read(11)


def test_an_empty_declared_body_is_complete() -> None:
    assert CompleteBody(io.BytesIO(b""), 0).read() == b""
