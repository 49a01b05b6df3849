"""Files written whole or not at all, in folders that outlive a power cut too."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

import core.files
from core.files import make_folders_durably, write_atomically


@pytest.fixture
def fsynced(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, int]]:
    """The (device, inode) of every descriptor fsynced, in order."""
    calls: list[tuple[int, int]] = []
    real_fsync = os.fsync

    def recording_fsync(descriptor: int) -> None:
        status = os.fstat(descriptor)
        calls.append((status.st_dev, status.st_ino))
        real_fsync(descriptor)

    monkeypatch.setattr(os, "fsync", recording_fsync)
    return calls


def identity(path: Path) -> tuple[int, int]:
    status = path.stat()
    return status.st_dev, status.st_ino


def test_a_file_in_new_folders_has_every_new_name_fsynced_into_its_parent(
    tmp_path: Path, fsynced: list[tuple[int, int]]
) -> None:
    target = tmp_path / "ab" / "cd" / "blob"

    write_atomically(target, [b"first ", b"second"])

    assert target.read_bytes() == b"first second"
    # "ab" lives in tmp_path, "cd" in "ab", "blob" in "cd"; the file's own bytes too.
    for folder in (tmp_path, tmp_path / "ab", tmp_path / "ab" / "cd"):
        assert identity(folder) in fsynced
    assert identity(target) in fsynced
    assert [name for name in os.listdir(target.parent)] == ["blob"]


def test_existing_folders_are_not_fsynced_again(tmp_path: Path, fsynced: list[tuple[int, int]]) -> None:
    (tmp_path / "ab" / "cd").mkdir(parents=True)

    write_atomically(tmp_path / "ab" / "cd" / "blob", [b"x"])

    assert identity(tmp_path) not in fsynced
    assert identity(tmp_path / "ab") not in fsynced
    assert identity(tmp_path / "ab" / "cd") in fsynced


def test_a_folder_made_by_another_writer_meanwhile_is_fsynced_into_its_parent(
    tmp_path: Path, fsynced: list[tuple[int, int]], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The other writer's mkdir lands between this writer's look and its own mkdir, and
    # the other writer may not have fsynced the parent yet.
    real_mkdir = Path.mkdir

    def racing_mkdir(self: Path, *args: object, **kwargs: object) -> None:
        real_mkdir(self)
        raise FileExistsError(str(self))

    monkeypatch.setattr(Path, "mkdir", racing_mkdir)

    make_folders_durably(tmp_path / "new")

    assert (tmp_path / "new").is_dir()
    assert identity(tmp_path) in fsynced


def test_a_file_where_a_folder_should_be_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "ab").write_bytes(b"not a folder")

    with pytest.raises(OSError):
        write_atomically(tmp_path / "ab" / "cd" / "blob", [b"x"])

    assert (tmp_path / "ab").read_bytes() == b"not a folder"


def resident_bytes(path: Path) -> int:
    """How much of `path` the page cache holds, as util-linux's fincore reports it."""
    output = subprocess.run(
        ["fincore", "--bytes", "--noheadings", "--output", "RES", str(path)], check=True, capture_output=True, text=True
    ).stdout
    return int(output.strip())


@pytest.mark.skipif(shutil.which("fincore") is None, reason="needs util-linux's fincore")
def test_a_file_written_with_drop_cached_is_whole_on_disk_and_out_of_the_page_cache(tmp_path: Path) -> None:
    contents = os.urandom(4 << 20)
    kept, dropped = tmp_path / "kept", tmp_path / "dropped"

    write_atomically(kept, [contents])
    write_atomically(dropped, [contents[: 1 << 20], contents[1 << 20 :]], drop_cached=True)

    if resident_bytes(kept) == 0:
        pytest.skip("this kernel keeps no written pages cached, so there is nothing to drop")
    assert resident_bytes(dropped) == 0
    assert dropped.read_bytes() == contents


def test_a_large_file_is_handed_to_writeback_in_steps_before_its_fsync(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(core.files, "WRITEBACK_BYTES", 100_000)
    events: list[tuple[str, int, int]] = []
    real_advise, real_fsync = os.posix_fadvise, os.fsync

    def recording_advise(descriptor: int, offset: int, length: int, advice: int) -> None:
        events.append(("advise", offset, length))
        real_advise(descriptor, offset, length, advice)

    def recording_fsync(descriptor: int) -> None:
        events.append(("fsync", 0, 0))
        real_fsync(descriptor)

    monkeypatch.setattr(os, "posix_fadvise", recording_advise)
    monkeypatch.setattr(os, "fsync", recording_fsync)
    contents = os.urandom(450_000)
    target = tmp_path / "blob"

    write_atomically(target, [contents[start:start + 60_000] for start in range(0, len(contents), 60_000)],
                     drop_cached=True)

    assert target.read_bytes() == contents
    before_fsync = events[:events.index(("fsync", 0, 0))]
    # Each step starts where the one before ended, once at least WRITEBACK_BYTES more were written.
    assert before_fsync == [("advise", 0, 120_000), ("advise", 120_000, 120_000),
                            ("advise", 240_000, 120_000)]
    assert ("advise", 0, 0) in events[events.index(("fsync", 0, 0)):]


def test_a_file_written_without_drop_cached_is_never_advised(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    advised: list[int] = []
    monkeypatch.setattr(os, "posix_fadvise", lambda *arguments: advised.append(1))
    write_atomically(tmp_path / "kept", [os.urandom(1 << 20)] * 12)
    assert not advised
