from __future__ import annotations

import pytest

from core.urls import origin_of


@pytest.mark.parametrize(
    ("url", "origin"),
    [
        ("https://Docs.Example.org/x", "https://docs.example.org"),
        ("https://docs.example.org:443/ds/", "https://docs.example.org"),
        ("HTTP://docs:80", "http://docs"),
        ("http://docs:8080/", "http://docs:8080"),
        ("http://user:pw@host:8080/x", "http://host:8080"),
        ("http://[::1]:81/", "http://[::1]:81"),
        ("http://[::1]/", "http://[::1]"),
        ("ftp://x/", ""),
        ("not a url", ""),
        ("http://x:99999/", ""),
        ("/relative/path", ""),
    ],
)
def test_origin_of(url: str, origin: str) -> None:
    assert origin_of(url) == origin
