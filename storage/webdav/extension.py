"""The WebDAV byte backend as an extension: ``storage.backend: webdav`` selects it."""

from __future__ import annotations

from core.config import Settings
from core.extensions import ExtensionKind, Manifest, StorageContext
from storage.interface import BlobStore
from storage.webdav.blobs import WebDavBlobStore

MANIFEST = Manifest(
    id="storage-webdav",
    name="WebDAV storage",
    version="1.0.0",
    licence="AGPL-3.0-or-later",
    kind=ExtensionKind.STORAGE,
    description="File blobs on a WebDAV server; uploaded under a temporary name, then moved into place.",
    requires={"docbridge": ">=0.1"},
)


def _open(settings: Settings) -> BlobStore:  # mypy checks the store against the protocol
    return WebDavBlobStore(
        settings.storage.webdav_url,
        username=settings.storage.webdav_username,
        password=settings.storage.webdav_password,
    )


def register(context: StorageContext) -> None:
    context.blob_store_factories["webdav"] = _open
