"""The local-disk byte backend, declared as an extension like any third-party backend."""

from __future__ import annotations

from core.config import Settings
from core.extensions import ExtensionKind, Manifest, StorageContext
from storage.local.blobs import LocalBlobStore

MANIFEST = Manifest(
    id="storage-local",
    name="Local disk storage",
    version="1.0.0",
    licence="AGPL-3.0-or-later",
    kind=ExtensionKind.STORAGE,
    description="File blobs under the data directory; written to a temporary file, fsynced, renamed.",
    requires={"docbridge": ">=0.1"},
)


def _open(settings: Settings) -> LocalBlobStore:
    return LocalBlobStore(settings.data_dir / "blobs")


def register(context: StorageContext) -> None:
    context.blob_store_factories["local"] = _open
