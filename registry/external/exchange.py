"""The launch exchange with an external provider (pure): what Docbridge POSTs to the
``launch_url`` and how the answer becomes a `Launch` (documented in docs/app-registry.md)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from core.errors import UpstreamError
from registry.external.registration import is_http_url
from registry.providers import Launch, LaunchRequest


def launch_request_body(request: LaunchRequest, app_name: str, public_base: str) -> dict[str, Any]:
    """What Docbridge POSTs to a provider's `launch_url` (documented in docs/app-registry.md)."""
    file = request.file
    body: dict[str, Any] = {
        "app_name": app_name,
        "file": {
            "id": str(file.id),
            "name": file.name,
            "mimetype": file.mimetype,
            "size": file.size,
            "version": file.version,
        },
        "user": {"id": request.user_id, "name": request.user_display_name},
        "view_mode": request.view_mode.value,
        "access_token": request.access_token,
        "access_token_ttl": str(request.access_token_expires_at_ms),
        "lang": request.lang,
        "wopi_src": f"{public_base}/wopi/files/{quote(str(file.id), safe='')}",
    }
    if request.template_id is not None:
        body["template_id"] = str(request.template_id)
    if request.link_id:
        body["public_link"] = True
    return body


def parse_launch_answer(data: Any, request: LaunchRequest) -> Launch:
    """Read the provider's answer; UpstreamError when it is not the documented shape.

    A POST answer without `form_parameters` gets the access token and its expiry, which is
    what a WOPI-style app expects in the form.
    """
    if not isinstance(data, Mapping):
        raise UpstreamError("the provider's launch answer is not a JSON object")
    app_url = data.get("app_url")
    if not isinstance(app_url, str) or not is_http_url(app_url):
        raise UpstreamError("the provider's launch answer has no http(s) app_url")
    method = data.get("method", "POST")
    if method not in ("POST", "GET"):
        raise UpstreamError("the provider's launch answer has a method other than POST or GET")
    form = _string_map(data.get("form_parameters"), "form_parameters")
    headers = _string_map(data.get("headers"), "headers")
    if method == "POST" and "form_parameters" not in data:
        form = {
            "access_token": request.access_token,
            "access_token_ttl": str(request.access_token_expires_at_ms),
        }
    return Launch(app_url=app_url, method=method, form_parameters=form, headers=headers)


def _string_map(value: Any, key: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, Mapping) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise UpstreamError(f"the provider's launch answer has {key} that are not text")
    return dict(value)
