"""Blobs on local disk, confined to ``<data_dir>/blobs``.

A write goes to ``tmp/<key>.part``, is fsynced, renamed to ``<k0k1>/<k2k3>/<key>`` and the
folder is fsynced: a reader sees a whole blob or none. Keys are chosen by Docbridge
(hex uuids); a user-given name never becomes a path.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from core.digests import StreamingSha256
from core.errors import NotFound, PayloadTooLarge, StorageUnavailable
from core.files import write_atomically
from storage.types import StoredBlob

CHUNK_SIZE = 1024 * 1024
_KEY = re.compile(r"^[0-9a-f]{32}$")


class LocalBlobStore:
    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self._tmp = self.root / "tmp"
        self._tmp.mkdir(parents=True, exist_ok=True)

    def _path(self, key: str) -> Path:
        if not _KEY.match(key):
            raise NotFound(f"no blob {key!r}")
        return self.root / key[0:2] / key[2:4] / key

    def put(self, key: str, content: BinaryIO, *, max_bytes: int | None = None) -> StoredBlob:
        size = 0

        def chunks() -> Iterator[bytes]:
            nonlocal size
            while chunk := content.read(CHUNK_SIZE):
                size += len(chunk)
                if max_bytes is not None and size > max_bytes:
                    raise PayloadTooLarge(f"the content is larger than {max_bytes} bytes", max_bytes)
                digest.update(chunk)
                yield chunk

        with StreamingSha256() as digest:
            write_atomically(self._path(key), chunks(), temporary=self._tmp / f"{key}.part", drop_cached=True)
            return StoredBlob(key=key, size=size, sha256=digest.hexdigest())

    def open(self, key: str) -> BinaryIO:
        try:
            return open(self._path(key), "rb")
        except FileNotFoundError:
            raise NotFound(f"no blob {key!r}") from None
        except OSError as error:
            raise StorageUnavailable(f"cannot read blob: {error.strerror}") from error

    def size(self, key: str) -> int:
        try:
            return self._path(key).stat().st_size
        except FileNotFoundError:
            raise NotFound(f"no blob {key!r}") from None

    def delete(self, key: str) -> None:
        try:
            self._path(key).unlink(missing_ok=True)
        except NotFound:
            pass

    def keys(self) -> Iterator[str]:
        for path in self.root.glob("[0-9a-f][0-9a-f]/[0-9a-f][0-9a-f]/*"):
            if _KEY.match(path.name):
                yield path.name

    def keys_older_than(self, seconds: float) -> Iterator[str]:
        cutoff = time.time() - seconds
        for path in self.root.glob("[0-9a-f][0-9a-f]/[0-9a-f][0-9a-f]/*"):
            if not _KEY.match(path.name):
                continue
            try:
                if path.stat().st_mtime < cutoff:
                    yield path.name
            except FileNotFoundError:
                continue

    def sweep_temporary(self, older_than_seconds: float) -> int:
        cutoff = time.time() - older_than_seconds
        removed = 0
        for path in self._tmp.glob("*.part"):
            try:
                if path.stat().st_mtime < cutoff:
                    path.unlink()
                    removed += 1
            except FileNotFoundError:
                continue
        return removed

    def check_writable(self) -> None:
        probe = self._tmp / f"probe-{os.getpid()}"
        try:
            probe.write_bytes(b"ok")
            probe.unlink()
        except OSError as error:
            raise StorageUnavailable(f"the data directory is not writable: {error.strerror}") from error

