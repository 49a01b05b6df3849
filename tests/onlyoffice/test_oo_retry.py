"""Storage that is briefly unavailable: Docbridge answers 5xx, the Document Server retries,
and exactly one version results."""

from __future__ import annotations

import hashlib
import os
import threading
import uuid
from collections.abc import Callable, Iterator

import pytest

from core.fetch import Fetcher
from server.services import services_of
from storage.local.blobs import LocalBlobStore
from tests.onlyoffice.conftest import Docbridge
from tests.onlyoffice.ds_standin import DocumentServerStandIn
from tests.onlyoffice.flaky_proxy import FlakyProxy
from tests.support.webdav import nginx_webdav


@pytest.fixture
def flaky_dav() -> Iterator[FlakyProxy]:
    with nginx_webdav() as server, FlakyProxy(server.url.removesuffix("/dav/")) as proxy:
        yield proxy


def test_transient_storage_failure_is_retried_by_the_document_server(
        start_docbridge: Callable[..., Docbridge], ds: DocumentServerStandIn, flaky_dav: FlakyProxy) -> None:
    docbridge = _with_webdav(start_docbridge, ds, f"{flaky_dav.url}/dav/{uuid.uuid4().hex}/")
    alice = docbridge.user("alice")
    file_id = docbridge.upload(alice, "Report.docx", b"PK-v1")
    session = ds.open(docbridge.open_config(alice, file_id))
    ds.edit(session.key, alice.id, b"PK-v2")
    flaky_dav.fail_next_puts = 1
    record = ds.close(session.key, alice.id)
    assert record is not None
    assert [status for status, _ in record.answers] == [503, 200]
    assert record.answers[-1] == (200, {"error": 0})
    assert flaky_dav.failed == 1
    assert [v["version"] for v in docbridge.versions(alice, file_id)] == [1, 2]
    assert docbridge.content(alice, file_id) == b"PK-v2"


def _with_webdav(start: Callable[..., Docbridge], ds: DocumentServerStandIn, url: str) -> Docbridge:
    return start(ds.base, _storage={"backend": "webdav", "webdav_url": url})


# 1 MiB is hashed as it arrives; 24 MiB, cut after 12, also by the hashing thread.
@pytest.mark.parametrize("size", [1 << 20, 24 << 20], ids=["1MiB", "24MiB"])
def test_a_download_cut_off_by_the_network_is_retried_and_stores_only_the_whole_file(
        docbridge: Docbridge, ds: DocumentServerStandIn, size: int) -> None:
    alice = docbridge.user("alice")
    file_id = docbridge.upload(alice, "Report.docx", b"PK-v1")
    session = ds.open(docbridge.open_config(alice, file_id))
    edited = b"PK-v2 " + bytes(range(256)) * (size // 256)
    ds.edit(session.key, alice.id, edited)
    ds.cut_next_downloads = 1
    record = ds.close(session.key, alice.id)
    assert record is not None
    # Half of the file arrived the first time: nothing of it is kept, and the DS is asked to retry.
    assert record.answers == [(503, {"error": 1}), (200, {"error": 0})]
    assert [v["version"] for v in docbridge.versions(alice, file_id)] == [1, 2]
    assert docbridge.versions(alice, file_id)[1]["sha256"] == hashlib.sha256(edited).hexdigest()
    assert docbridge.content(alice, file_id) == edited
    blobs = services_of(docbridge.app).blobs
    assert isinstance(blobs, LocalBlobStore) and not list((blobs.root / "tmp").iterdir())
    assert not [thread for thread in threading.enumerate() if thread.name == "sha256"]


def test_a_large_save_is_streamed_into_storage_byte_exact(
        docbridge: Docbridge, ds: DocumentServerStandIn, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_spool(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("the save went through a spooled download")

    # The save path must not spool: the blob store's write is the only one.
    monkeypatch.setattr(Fetcher, "download", no_spool)
    alice = docbridge.user("alice")
    file_id = docbridge.upload(alice, "Big.docx", b"PK-v1")
    session = ds.open(docbridge.open_config(alice, file_id))
    edited = b"PK-v2 " + os.urandom(6 << 20)
    ds.edit(session.key, alice.id, edited)
    record = ds.close(session.key, alice.id)
    assert record is not None and record.answers == [(200, {"error": 0})]
    [_first, second] = docbridge.versions(alice, file_id)
    assert second["size"] == len(edited) and second["sha256"] == hashlib.sha256(edited).hexdigest()
    assert docbridge.content(alice, file_id) == edited
