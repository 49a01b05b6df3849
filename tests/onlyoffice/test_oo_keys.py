from __future__ import annotations

import re

import pytest

from onlyoffice.keys import clean_key, conversion_key, document_key, history_key, is_valid_key

SALT = b"instance-salt"
ALPHABET = re.compile(r"^[0-9a-zA-Z._=-]{1,128}$")


def test_same_inputs_same_key_for_co_editors() -> None:
    assert document_key(SALT, "s$p!f", 3, 0) == document_key(SALT, "s$p!f", 3, 0)


@pytest.mark.parametrize(
    "other",
    [("s$p!g", 3, 0), ("s$p!f", 4, 0), ("s$p!f", 3, 1)],
)
def test_key_changes_with_file_version_or_epoch(other: tuple[str, int, int]) -> None:
    assert document_key(SALT, *other) != document_key(SALT, "s$p!f", 3, 0)


def test_keys_depend_on_the_salt() -> None:
    assert document_key(b"a", "s$p!f", 1, 0) != document_key(b"b", "s$p!f", 1, 0)


def test_history_and_conversion_keys_are_distinct_and_stable() -> None:
    keys = {document_key(SALT, "s$p!f", 2, 0), history_key(SALT, "s$p!f", 2), conversion_key(SALT, "s$p!f", 2, "1")}
    assert len(keys) == 3
    assert history_key(SALT, "s$p!f", 2) == history_key(SALT, "s$p!f", 2)
    assert conversion_key(SALT, "s$p!f", 2, "1") != conversion_key(SALT, "s$p!f", 2, "2")


@pytest.mark.parametrize("version", [1, 10, 10**12])
def test_keys_use_the_allowed_alphabet(version: int) -> None:
    for key in (document_key(SALT, "x$y!z", version, 7), history_key(SALT, "x$y!z", version)):
        assert ALPHABET.match(key)
        assert is_valid_key(key)


@pytest.mark.parametrize(
    ("raw", "cleaned"),
    [("a/b+c", "abc"), ("ok_key-1.2=", "ok_key-1.2="), ("", "0"), ("$$$", "0"), ("x" * 200, "x" * 128)],
)
def test_clean_key(raw: str, cleaned: str) -> None:
    assert clean_key(raw) == cleaned


@pytest.mark.parametrize("bad", ["", "a b", "a/b", "x" * 129, "ключ"])
def test_invalid_keys(bad: str) -> None:
    assert not is_valid_key(bad)
