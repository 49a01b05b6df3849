"""The provider interface every app driver implements, built-in or external.

A driver registers an `AppProvider` (what `/app/list` shows) together with itself with the
`Catalog`. When `/app/open` picks that app, the registry checks access, settles the view
mode, issues the access token (audience ``app:<provider name>``) and calls
`AppDriver.launch`, which only has to say where the browser goes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal, Protocol

from core.ids import ResourceId
from core.tokens import ViewMode
from storage.types import Node, ShareRole


@dataclass(frozen=True, slots=True)
class AppProvider:
    name: str
    mimetypes: tuple[str, ...]
    icon: str = ""
    description: str = ""
    product_name: str = ""
    capability: str = ""
    priority: int = 0
    # template mimetype -> the extension a new file from it gets (oCIS `target_ext`)
    target_ext: Mapping[str, str] = field(default_factory=dict)
    # Whether the app's editor enforces the roles between viewer and editor (comment,
    # review, fill forms); apps that do not open those roles read-only.
    enforces_limited_roles: bool = False


@dataclass(frozen=True, slots=True)
class LaunchRequest:
    file: Node
    user_id: str
    user_display_name: str
    view_mode: ViewMode
    access_token: str
    access_token_expires_at_ms: int
    lang: str = ""
    template_id: ResourceId | None = None
    link_id: str | None = None
    # What the user may do in the editor when `view_mode` is write (a share's role).
    role: ShareRole = ShareRole.EDITOR


@dataclass(frozen=True, slots=True)
class Launch:
    app_url: str
    method: Literal["POST", "GET"] = "POST"
    form_parameters: Mapping[str, str] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)


class AppDriver(Protocol):
    def launch(self, request: LaunchRequest) -> Launch:
        """Where the browser goes to open `request.file`. Raise UpstreamError when the app
        cannot be reached; the registry turns that into the contract's 500."""
        ...


# Access-token claims /app/open adds when it filled an empty file from ``template_id``: the
# template's id and the version made from it (Collabora's ``TemplateSource`` reads them).
TEMPLATE_CLAIM = "template"
TEMPLATE_VERSION_CLAIM = "template_version"


def audience_for(app_name: str) -> str:
    return f"app:{app_name}"
