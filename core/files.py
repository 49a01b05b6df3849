"""Files written whole or not at all."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterable
from pathlib import Path

# With `drop_cached`, how often the bytes written so far are handed to the disk's writeback.
WRITEBACK_BYTES = 8 * 1024 * 1024


def write_atomically(
    target: Path, chunks: Iterable[bytes], *, temporary: Path | None = None, drop_cached: bool = False
) -> None:
    """Write `chunks` to `temporary` (by default a hidden name beside `target`; it must be
    on the same file system), fsync it, rename it to `target` and fsync the folder: a
    reader, or the disk after a crash, has the whole new file or none of it. The folders
    of `target` are made first if missing (`make_folders_durably`).

    With `drop_cached` the file's pages leave the page cache once they are on disk: for
    files written once and seldom read back soon (stored versions), which would otherwise
    push out what is read often, and whose kept pages make every later write slower on
    virtual machines (docs/benchmarks.md, "PutFile"). Every `WRITEBACK_BYTES` the bytes
    written so far are sent to the disk while the rest still arrives, so that the final fsync
    of a large file waits for its last few megabytes, not for all of it.

    Whatever goes wrong, even in `chunks` (a client that hangs up, a size cap), the
    temporary file is removed and the error raised."""
    temporary = temporary or target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.tmp")
    make_folders_durably(target.parent)
    try:
        with open(temporary, "xb") as handle:
            written = handed_over = 0
            for chunk in chunks:
                handle.write(chunk)
                written += len(chunk)
                if drop_cached and written - handed_over >= WRITEBACK_BYTES:
                    handle.flush()
                    _drop_cached(handle.fileno(), handed_over, written - handed_over)
                    handed_over = written
            handle.flush()
            os.fsync(handle.fileno())
            if drop_cached:
                _drop_cached(handle.fileno())
        os.replace(temporary, target)
        fsync_folder(target.parent)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def _drop_cached(descriptor: int, offset: int = 0, length: int = 0) -> None:
    # Linux starts the writeback of a range's dirty pages and drops its clean ones: given
    # before the fsync it gets the disk going early, after it frees the cache. Only a hint:
    # where the system has no posix_fadvise or refuses it, the file simply stays cached.
    advise = getattr(os, "posix_fadvise", None)
    if advise is None:
        return
    try:
        advise(descriptor, offset, length, os.POSIX_FADV_DONTNEED)
    except OSError:
        pass


def make_folders_durably(path: Path) -> None:
    """Create `path` and its missing parents so that each new folder survives a power cut.

    A folder's name is an entry in its parent, so fsyncing the folder alone does not keep
    it: after each folder is made its parent is fsynced. A folder another writer made
    between the look and the mkdir is fsynced into its parent too, as that writer may not
    have done it yet. Folders that already existed cost one stat."""
    missing: list[Path] = []
    folder = path
    while not folder.is_dir():
        missing.append(folder)
        folder = folder.parent
    for folder in reversed(missing):
        try:
            folder.mkdir()
        except FileExistsError:
            if not folder.is_dir():
                raise
        fsync_folder(folder.parent)


def fsync_folder(path: Path) -> None:
    """Make a rename or a new name in `path` durable."""
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
