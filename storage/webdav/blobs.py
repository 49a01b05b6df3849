"""Blobs on a WebDAV server, over ``requests``.

Layout under the configured base URL: ``<k0k1>/<key>`` for blobs and ``tmp/<key>.<nonce>.part``
for writes under way. A write is streamed (chunked) to the temporary name, then moved to its
key with ``MOVE`` and ``Overwrite: F``: a reader sees a whole blob or none, and an existing
blob is never replaced. A write that fails is deleted again; one cut off by a crash stays in
``tmp/`` until `sweep_temporary` removes it.

Listing asks ``PROPFIND`` with ``Depth: 1``. nginx's dav module answers PUT, DELETE, MKCOL,
COPY and MOVE but not PROPFIND; for nginx, serve the same location with ``autoindex on;
autoindex_format json;`` and listing reads those JSON indexes instead (see docs/storage.md).
"""

from __future__ import annotations

import io
import os
import re
import uuid
import weakref
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any, BinaryIO
from urllib.parse import unquote, urljoin, urlsplit

import requests
import urllib3
from defusedxml import ElementTree

from core.digests import StreamingSha256
from core.errors import NotFound, PayloadTooLarge, StorageUnavailable
from storage.types import StoredBlob

CHUNK_SIZE = 1024 * 1024
TEMPORARY_FOLDER = "tmp"
_KEY = re.compile(r"^[0-9a-f]{32}$")
_SHARD = re.compile(r"^[0-9a-f]{2}$")
_DAV = "{DAV:}"
_PROPFIND_BODY = (
    b'<?xml version="1.0" encoding="utf-8"?>'
    b'<propfind xmlns="DAV:"><prop><resourcetype/><getlastmodified/></prop></propfind>'
)


@dataclass(frozen=True, slots=True)
class _Entry:
    name: str
    is_collection: bool
    modified: datetime | None


class WebDavBlobStore:
    def __init__(
        self,
        base_url: str,
        *,
        username: str = "",
        password: str = "",
        session: requests.Session | None = None,
        timeout_seconds: float = 60.0,
    ) -> None:
        if not base_url:
            raise StorageUnavailable("storage.webdav_url is not set")
        self.base_url = base_url.rstrip("/") + "/"
        self.session = session or requests.Session()
        if username:
            self.session.auth = (username, password)
        self.timeout = timeout_seconds
        self._propfind: bool | None = None
        self._temporary_ready = False
        _close_connections_after_fork(self)

    def _after_fork(self) -> None:
        # A gunicorn worker is forked from a master that already talked to the server (the
        # orphan sweep at start): its pooled keep-alive sockets must not be shared.
        self.session.close()

    # --- helpers ------------------------------------------------------------------------

    def _url(self, path: str) -> str:
        return urljoin(self.base_url, path)

    def _blob_path(self, key: str) -> str:
        if not _KEY.match(key):
            raise NotFound(f"no blob {key!r}")
        return f"{key[0:2]}/{key}"

    def _request(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", self.timeout)
        kwargs.setdefault("allow_redirects", False)
        try:
            return self.session.request(method, url, **kwargs)
        except requests.RequestException as error:
            raise StorageUnavailable(f"the WebDAV server did not answer {method}: {type(error).__name__}") from error

    def _fail(self, response: requests.Response, what: str) -> StorageUnavailable:
        return StorageUnavailable(f"the WebDAV server refused to {what}: HTTP {response.status_code}")

    def _make_collections(self, path: str) -> None:
        """MKCOL the base and every folder of `path` that is missing (servers without
        nginx's create_full_put_path need it); 405 means the folder is there already."""
        parts = path.split("/")[:-1]
        for depth in range(0, len(parts) + 1):
            folder = "/".join(parts[:depth])
            response = self._request("MKCOL", self._url(folder + "/" if folder else ""))
            if response.status_code not in (201, 405):
                raise self._fail(response, "create a folder")

    # --- BlobStore ----------------------------------------------------------------------

    def put(self, key: str, content: BinaryIO, *, max_bytes: int | None = None) -> StoredBlob:
        final = self._blob_path(key)
        temporary = f"{TEMPORARY_FOLDER}/{key}.{uuid.uuid4().hex[:8]}.part"
        # The folder must exist before the body goes out: a streamed body cannot be sent twice.
        self._ensure_temporary_folder()
        with StreamingSha256() as digest:
            counter = _CountingReader(content, max_bytes, digest)
            self._send_blob(temporary, final, counter)
            return StoredBlob(key=key, size=counter.size, sha256=digest.hexdigest())

    def _send_blob(self, temporary: str, final: str, counter: _CountingReader) -> None:
        """The body PUT under `temporary`, then moved to `final`; a failure removes `temporary`."""
        try:
            response = self._request("PUT", self._url(temporary), data=counter.chunks())
            if response.status_code not in (200, 201, 204):
                raise self._fail(response, "store a blob")
            self._move(temporary, final)
        except BaseException as error:
            self._delete_quietly(temporary)
            if counter.failure is not None and counter.failure is not error:
                # The body failed (a client went away, the size cap): say that, not "server down".
                raise counter.failure from None
            raise

    def _ensure_temporary_folder(self) -> None:
        if not self._temporary_ready:
            self._make_collections(TEMPORARY_FOLDER + "/")
            self._temporary_ready = True

    def _move(self, source: str, destination: str) -> None:
        headers = {"Destination": self._url(destination), "Overwrite": "F"}
        response = self._request("MOVE", self._url(source), headers=headers)
        if response.status_code == 409:
            self._make_collections(destination)
            response = self._request("MOVE", self._url(source), headers=headers)
        if response.status_code not in (201, 204):
            raise self._fail(response, "move a finished blob into place")

    def _delete_quietly(self, path: str) -> None:
        try:
            self._request("DELETE", self._url(path))
        except StorageUnavailable:
            pass

    def open(self, key: str) -> BinaryIO:
        response = self._request("GET", self._url(self._blob_path(key)), stream=True)
        if response.status_code == 404:
            response.close()
            raise NotFound(f"no blob {key!r}")
        if response.status_code != 200:
            response.close()
            raise self._fail(response, "read a blob")
        return io.BufferedReader(_ResponseReader(response), CHUNK_SIZE)

    def size(self, key: str) -> int:
        response = self._request("HEAD", self._url(self._blob_path(key)))
        if response.status_code == 404:
            raise NotFound(f"no blob {key!r}")
        if response.status_code != 200 or "Content-Length" not in response.headers:
            raise self._fail(response, "tell a blob's size")
        return int(response.headers["Content-Length"])

    def delete(self, key: str) -> None:
        try:
            path = self._blob_path(key)
        except NotFound:
            return
        response = self._request("DELETE", self._url(path))
        if response.status_code not in (200, 204, 404):
            raise self._fail(response, "delete a blob")

    def keys(self) -> Iterator[str]:
        for shard in self._list(""):
            if shard.is_collection and _SHARD.match(shard.name):
                for entry in self._list(shard.name + "/"):
                    if not entry.is_collection and _KEY.match(entry.name) and entry.name.startswith(shard.name):
                        yield entry.name

    def keys_older_than(self, seconds: float) -> Iterator[str]:
        cutoff = datetime.now(UTC) - timedelta(seconds=seconds)
        for shard in self._list(""):
            if shard.is_collection and _SHARD.match(shard.name):
                for entry in self._list(shard.name + "/"):
                    if entry.is_collection or not _KEY.match(entry.name) or not entry.name.startswith(shard.name):
                        continue
                    # A blob whose age the server does not tell is kept: it may be a save's.
                    if entry.modified is not None and entry.modified < cutoff:
                        yield entry.name

    def sweep_temporary(self, older_than_seconds: float) -> int:
        cutoff = datetime.now(UTC) - timedelta(seconds=older_than_seconds)
        removed = 0
        for entry in self._list(TEMPORARY_FOLDER + "/"):
            if entry.is_collection or not entry.name.endswith(".part"):
                continue
            # Last-Modified has whole seconds: with no grace period, anything there goes.
            if older_than_seconds <= 0 or (entry.modified is not None and entry.modified < cutoff):
                response = self._request("DELETE", self._url(f"{TEMPORARY_FOLDER}/{entry.name}"))
                if response.status_code in (200, 204):
                    removed += 1
        return removed

    def check_writable(self) -> None:
        probe = f"{TEMPORARY_FOLDER}/probe-{uuid.uuid4().hex}.part"
        self._ensure_temporary_folder()
        response = self._request("PUT", self._url(probe), data=b"ok")
        if response.status_code not in (200, 201, 204):
            raise self._fail(response, "store a probe file")
        self._delete_quietly(probe)

    # --- listing ------------------------------------------------------------------------

    def _list(self, folder: str) -> list[_Entry]:
        """The entries of one collection; empty when it does not exist (yet)."""
        if self._propfind is not False:
            response = self._request(
                "PROPFIND",
                self._url(folder),
                data=_PROPFIND_BODY,
                headers={"Depth": "1", "Content-Type": "application/xml; charset=utf-8"},
            )
            if response.status_code == 207:
                self._propfind = True
                return _parse_multistatus(response.content, urlsplit(self._url(folder)).path)
            if response.status_code == 404:
                return []
            if response.status_code not in (405, 501):
                raise self._fail(response, "list a folder")
            self._propfind = False
        response = self._request("GET", self._url(folder), headers={"Accept": "application/json"})
        if response.status_code == 404:
            return []
        if response.status_code != 200:
            raise self._fail(response, "list a folder")
        try:
            index = response.json()
        except ValueError as error:
            raise StorageUnavailable(
                "the WebDAV server supports neither PROPFIND nor a JSON index (nginx: autoindex_format json)"
            ) from error
        return [
            _Entry(item["name"], item.get("type") == "directory", _http_date(item.get("mtime")))
            for item in index
            if isinstance(item, dict) and isinstance(item.get("name"), str)
        ]


def _close_connections_after_fork(store: WebDavBlobStore) -> None:
    reference = weakref.ref(store)

    def after_fork() -> None:
        alive = reference()
        if alive is not None:
            alive._after_fork()

    os.register_at_fork(after_in_child=after_fork)


def _parse_multistatus(body: bytes, folder_path: str) -> list[_Entry]:
    entries: list[_Entry] = []
    own = unquote(folder_path).rstrip("/")
    for response in ElementTree.fromstring(body).iter(f"{_DAV}response"):
        href = response.findtext(f"{_DAV}href") or ""
        path = unquote(urlsplit(href).path).rstrip("/")
        if path == own:
            continue
        is_collection = response.find(f".//{_DAV}resourcetype/{_DAV}collection") is not None
        entries.append(
            _Entry(path.rsplit("/", 1)[-1], is_collection, _http_date(response.findtext(f".//{_DAV}getlastmodified")))
        )
    return entries


def _http_date(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None


class _CountingReader:
    """Feeds `content` to requests in chunks, hashing, counting and enforcing the size cap."""

    def __init__(self, content: BinaryIO, max_bytes: int | None, digest: StreamingSha256) -> None:
        self.content = content
        self.max_bytes = max_bytes
        self.size = 0
        self.digest = digest
        self.failure: BaseException | None = None

    def chunks(self) -> Iterator[bytes]:
        """The body in chunks; a failure is kept, since requests reports it as its own."""
        try:
            while True:
                chunk = self.content.read(CHUNK_SIZE)
                if not chunk:
                    return
                self.size += len(chunk)
                if self.max_bytes is not None and self.size > self.max_bytes:
                    raise PayloadTooLarge(f"the content is larger than {self.max_bytes} bytes", self.max_bytes)
                self.digest.update(chunk)
                yield chunk
        except GeneratorExit:
            raise
        except BaseException as error:
            self.failure = error
            raise


class _ResponseReader(io.RawIOBase):
    """A streamed GET body as a readable file; closing it releases the connection."""

    def __init__(self, response: requests.Response) -> None:
        self._response = response
        self._raw = response.raw

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        try:
            data = self._raw.read(len(buffer), decode_content=True)
        except (urllib3.exceptions.HTTPError, OSError) as error:
            raise StorageUnavailable(f"the WebDAV server broke off a download: {type(error).__name__}") from error
        count = len(data)
        buffer[:count] = data
        return count

    def close(self) -> None:
        if not self.closed:
            self._response.close()
        super().close()
