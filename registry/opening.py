"""What `/app/open` does besides picking the app and the mode: secure view lowers the mode,
and a ``template_id`` fills an empty file before any editor opens it.

- Secure view (docs/policies.md): ``read`` (view and download) becomes ``view`` (view
  only). ``write`` stays ``write``: the contract has no "edit without download" mode, so the
  editors get the no-download, no-print, no-copy switches from the policy themselves.
- ``template_id``: opening an empty file (0 bytes) for writing stores the template's current
  content as the file's next version, so every editor (ONLYOFFICE, every WOPI client) opens
  the document made from the template rather than a blank one. A file that has content, or
  one opened only to read, is left as it is. The token then names the template and the
  version made from it, for WOPI clients that read ``TemplateSource`` (Collabora).
"""

from __future__ import annotations

import logging
from typing import Any

from core.errors import VersionConflict
from core.ids import ResourceId
from core.tokens import ViewMode
from registry.providers import TEMPLATE_CLAIM, TEMPLATE_VERSION_CLAIM
from server.services import Services
from storage.access import Principal
from storage.types import Node

log = logging.getLogger(__name__)

TEMPLATE_SOURCE = "template"


def secure_view_mode(found: Services, principal: Principal, file: Node, view_mode: ViewMode) -> ViewMode:
    """`view_mode`, with ``read`` lowered to ``view`` under secure view."""
    if view_mode is ViewMode.READ and found.policies.effects(principal, file).secure_view:
        return ViewMode.VIEW
    return view_mode


def fill_from_template(
    found: Services, principal: Principal, file: Node, template_id: ResourceId | None, view_mode: ViewMode
) -> tuple[Node, dict[str, Any]]:
    """The file to launch and the token claims naming the template (none when unused)."""
    if template_id is None or view_mode is not ViewMode.WRITE or file.size != 0:
        return file, {}
    template = found.storage.stat(template_id)
    origin = principal.origin(TEMPLATE_SOURCE, comment=f"from the template {template.name}")
    limit = found.settings.storage.max_upload_bytes or None
    _version, stream = found.storage.open_version(template_id)
    try:
        with stream:
            saved = found.storage.write_version(file.id, stream, origin, expected_version=file.version,
                                                max_bytes=limit)
    except VersionConflict:
        # Saved by someone else meanwhile: it has content now, and keeps it.
        return found.storage.stat(file.id), {}
    log.info("filled %s from the template %s (version %d)", file.id, template_id, saved.number)
    claims = {TEMPLATE_CLAIM: str(template_id), TEMPLATE_VERSION_CLAIM: saved.number}
    return found.storage.stat(file.id), claims
