"""The one outbound request of an external provider: the launch call."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

import requests

from core.errors import UpstreamError
from registry.external.exchange import launch_request_body, parse_launch_answer
from registry.external.registration import SECRET_HEADER, ExternalRegistration
from registry.providers import Launch, LaunchRequest

log = logging.getLogger(__name__)

MAX_LAUNCH_ANSWER_BYTES = 65_536


@dataclass(frozen=True, slots=True)
class LaunchClient:
    """How Docbridge calls providers: one session, the shared secret, a timeout."""

    session: requests.Session
    secret: str
    timeout_seconds: float
    public_base: str  # Docbridge as providers reach it, for the WOPISrc they read and save through


class ExternalDriver:
    """The AppDriver of one external registration."""

    def __init__(self, registration: ExternalRegistration, client: LaunchClient) -> None:
        self._registration = registration
        self._client = client

    def launch(self, request: LaunchRequest) -> Launch:
        """Ask the provider where the browser goes. Any failure (unreachable, timeout,
        redirect, non-2xx, oversized or malformed answer) is an UpstreamError."""
        body = launch_request_body(request, self._registration.provider.name, self._client.public_base)
        url = self._registration.launch_url
        try:
            with self._client.session.post(
                url,
                json=body,
                headers={SECRET_HEADER: self._client.secret, "Accept": "application/json"},
                timeout=self._client.timeout_seconds,
                allow_redirects=False,
                stream=True,
            ) as response:
                if response.status_code != 200:
                    raise UpstreamError(f"the provider answered HTTP {response.status_code}")
                raw = response.raw.read(MAX_LAUNCH_ANSWER_BYTES + 1, decode_content=True)
        except requests.RequestException as error:
            log.warning("app %s: launch call failed: %s", self._registration.provider.name, type(error).__name__)
            raise UpstreamError("the provider cannot be reached") from error
        if len(raw) > MAX_LAUNCH_ANSWER_BYTES:
            raise UpstreamError("the provider's launch answer is too large")
        try:
            data = json.loads(raw)
        except ValueError:
            raise UpstreamError("the provider's launch answer is not JSON") from None
        return parse_launch_answer(data, request)
