"""The app driver for one WOPI client: what `/app/open` answers for a file opened in it.

The browser posts the access token to the action's URL (``urlsrc`` with our placeholders
filled and ``WOPISrc`` appended). ``edit`` opens for write (``editnew`` when the file is
new and empty), ``view`` for read and view; a client without the preferred action gets the
other one, and the token still decides what the user may do.
"""

from __future__ import annotations

from collections.abc import Callable

from core.errors import UpstreamError
from core.ids import ResourceId
from registry.providers import AppProvider, Launch, LaunchRequest
from wopi.client import DiscoveryClient
from wopi.discovery import fill_urlsrc, placeholder_values


class WopiDriver:
    def __init__(self, client: DiscoveryClient, wopi_src: Callable[[ResourceId], str]) -> None:
        self.client = client
        self.wopi_src = wopi_src

    def launch(self, request: LaunchRequest) -> Launch:
        discovery = self.client.current()
        if discovery is None and self.client.refresh():
            discovery = self.client.current()
        if discovery is None:
            raise UpstreamError(f"the WOPI client {self.client.name} cannot be reached")
        node = request.file
        action = discovery.action_for(request.view_mode, node.extension, node.mimetype, new_file=node.size == 0)
        if action is None:
            raise UpstreamError(f"{self.client.name} has no action for {node.mimetype}")
        app_url = fill_urlsrc(action.urlsrc, placeholder_values(request.lang), self.wopi_src(node.id))
        return Launch(
            app_url=app_url,
            method="POST",
            form_parameters={
                "access_token": request.access_token,
                "access_token_ttl": str(request.access_token_expires_at_ms),
            },
        )


def provider_for(client: DiscoveryClient) -> AppProvider | None:
    """What the registry lists for this WOPI client, from its current discovery."""
    discovery = client.current()
    if discovery is None:
        return None
    app = client.app
    return AppProvider(
        name=app.name,
        mimetypes=discovery.mimetypes(),
        icon=app.icon,
        description=f"{app.name} (WOPI)",
        product_name=app.name,
        capability="WOPI",
        priority=app.priority,
    )
