"""An event listener that writes what happened to files as structured lines on the
``docbridge.audit`` logger, for admins who ship logs to their SIEM."""

from __future__ import annotations

import dataclasses
import json
import logging

from core.events import (
    ConflictCopySaved,
    DownloadRefused,
    Event,
    FileCreated,
    FileDeleted,
    FileDownloaded,
    FileOpened,
    FileRenamed,
    LockChanged,
    ShareChanged,
    ShareGranted,
    ShareRevoked,
    VersionSaved,
)
from core.extensions import ExtensionKind, Manifest
from server.extensions import ExtensionContext

MANIFEST = Manifest(
    id="audit-log",
    name="Audit log",
    version="1.0.0",
    licence="AGPL-3.0-or-later",
    kind=ExtensionKind.LISTENER,
    description="Logs file creations, saves, renames, deletions, lock changes, conflict copies, shares, opens, downloads and secure-view refusals, with the actor, as JSON lines.",
    requires={"docbridge": ">=0.1"},
)

audit_log = logging.getLogger("docbridge.audit")


def audit_line(event: Event) -> str:
    fields = {item.name: str(getattr(event, item.name)) for item in dataclasses.fields(event)}
    return json.dumps({"event": type(event).__name__, **fields}, sort_keys=True)


def _write(event: Event) -> None:
    audit_log.info("%s", audit_line(event))


AUDITED: tuple[type[Event], ...] = (
    FileCreated,
    VersionSaved,
    FileRenamed,
    FileDeleted,
    LockChanged,
    ShareGranted,
    ShareChanged,
    ShareRevoked,
    FileOpened,
    FileDownloaded,
    ConflictCopySaved,
    DownloadRefused,
)


def register(context: ExtensionContext) -> None:
    for event_type in AUDITED:
        context.services.events.subscribe(event_type, _write)
