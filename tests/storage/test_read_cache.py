"""The per-connection read cache keeps at most READ_CACHE_ENTRIES answers, dropping the
least recently used, and keeps no failed read."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from core.errors import NotFound
from storage.metadata.database import READ_CACHE_ENTRIES, ReadCache


def test_the_least_recently_used_answer_goes_first_when_the_cache_is_full() -> None:
    cache = ReadCache()
    loads: list[int] = []

    def loader(key: int) -> Callable[[], str]:
        def load() -> str:
            loads.append(key)
            return f"answer {key}"

        return load

    for key in range(READ_CACHE_ENTRIES):
        assert cache.get(key, loader(key)) == f"answer {key}"
    assert cache.get(0, loader(0)) == "answer 0"  # a hit: 0 is now the most recent
    cache.get(READ_CACHE_ENTRIES, loader(READ_CACHE_ENTRIES))  # one too many: 1 goes
    loads.clear()
    cache.get(0, loader(0))
    cache.get(2, loader(2))
    assert loads == []
    cache.get(1, loader(1))
    assert loads == [1]


def test_a_read_that_fails_is_tried_again() -> None:
    cache, attempts = ReadCache(), []

    def missing() -> str:
        attempts.append(1)
        raise NotFound("no such user")

    for _ in range(2):
        with pytest.raises(NotFound):
            cache.get(("user", "u1"), missing)
    assert len(attempts) == 2
    assert cache.get(("user", "u1"), lambda: "found") == "found"
