"""Files written whole or not at all."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterable
from pathlib import Path


def write_atomically(target: Path, chunks: Iterable[bytes], *, temporary: Path | None = None) -> None:
    """Write `chunks` to `temporary` (by default a hidden name beside `target`; it must be
    on the same file system), fsync it, rename it to `target` and fsync the folder: a
    reader, or the disk after a crash, has the whole new file or none of it.

    Whatever goes wrong, even in `chunks` (a client that hangs up, a size cap), the
    temporary file is removed and the error raised."""
    temporary = temporary or target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        with open(temporary, "xb") as handle:
            for chunk in chunks:
                handle.write(chunk)
            handle.flush()
            os.fsync(handle.fileno())
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(temporary, target)
        fsync_folder(target.parent)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def fsync_folder(path: Path) -> None:
    """Make a rename or a new name in `path` durable."""
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
