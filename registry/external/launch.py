"""The one outbound request of an external provider: the launch call, through the fence.

Every call goes through a `core.fetch.Fetcher` whose policy allows the origin of the
provider's registered ``launch_url`` and nothing else: no redirect is followed, the answer
is read up to `MAX_LAUNCH_ANSWER_BYTES`, the timeout is ``app_registry.
launch_timeout_seconds``. The launch URL is a provider's word, not an admin's, so a host
that is (or resolves to) a loopback, link-local, multicast or unspecified address is
refused, unless an admin listed its origin in ``app_registry.provider_origins``; then it is
treated as a configured peer (the address itself, or ``localhost``, may be used). The same
check refuses such a ``launch_url`` at registration, and is made again at every launch,
since a name may resolve elsewhere later and the admin's list may change.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

import requests

from core.errors import BadRequest, OriginNotAllowed, PayloadTooLarge, UpstreamError
from core.fetch import Fetcher, FetchPolicy
from core.urls import origin_of
from registry.external.exchange import launch_request_body, parse_launch_answer
from registry.external.registration import SECRET_HEADER, ExternalRegistration
from registry.providers import Launch, LaunchRequest

log = logging.getLogger(__name__)

MAX_LAUNCH_ANSWER_BYTES = 65_536


@dataclass(frozen=True, slots=True)
class LaunchClient:
    """How Docbridge calls providers: one session, the shared secret, a timeout, and the
    origins an admin allows on loopback or link-local addresses."""

    session: requests.Session
    secret: str
    timeout_seconds: float
    public_base: str  # Docbridge as providers reach it, for the WOPISrc they read and save through
    trusted_origins: tuple[str, ...] = ()  # app_registry.provider_origins

    def fetcher_for(self, launch_url: str) -> Fetcher:
        """The fence for one provider: its launch origin only, trusted as an admin's when listed."""
        origin = origin_of(launch_url)
        trusted = bool(origin) and origin in {origin_of(listed) for listed in self.trusted_origins}
        policy = FetchPolicy(
            allowed_origins=(origin,) if origin else (),
            max_bytes=MAX_LAUNCH_ANSWER_BYTES,
            timeout_seconds=self.timeout_seconds,
            trust_literal_hosts=trusted,
        )
        return Fetcher(self.session, policy)

    def check_launch_url(self, launch_url: str) -> None:
        """Refuse a ``launch_url`` the fence would not call (BadRequest, for the registration's
        400). A name that does not resolve now is let through: every launch checks again."""
        try:
            self.fetcher_for(launch_url).check_url(launch_url)
        except OriginNotAllowed as error:
            raise BadRequest(
                f"launch_url is refused: {error.message}; a provider on a loopback or link-local address "
                f"needs its origin {origin_of(launch_url)} in app_registry.provider_origins"
            ) from None
        except UpstreamError:
            pass


class ExternalDriver:
    """The AppDriver of one external registration."""

    def __init__(self, registration: ExternalRegistration, client: LaunchClient) -> None:
        self._registration = registration
        self._client = client

    def launch(self, request: LaunchRequest) -> Launch:
        """Ask the provider where the browser goes. Any failure (refused by the fence,
        unreachable, timeout, redirect, non-2xx, oversized or malformed answer) is an
        UpstreamError."""
        name = self._registration.provider.name
        body = launch_request_body(request, name, self._client.public_base)
        url = self._registration.launch_url
        try:
            response = self._client.fetcher_for(url).request(
                "POST", url, json=body, headers={SECRET_HEADER: self._client.secret, "Accept": "application/json"}
            )
        except OriginNotAllowed as error:
            log.warning("app %s: launch call refused by the fence: %s", name, error.message)
            raise UpstreamError(f"the provider's launch_url is not allowed: {error.message}") from error
        except PayloadTooLarge as error:
            raise UpstreamError("the provider's launch answer is too large") from error
        except UpstreamError as error:
            log.warning("app %s: launch call failed: %s", name, error.message)
            raise
        if response.status_code != 200:
            raise UpstreamError(f"the provider answered HTTP {response.status_code}")
        try:
            data = json.loads(response.content)
        except ValueError:
            raise UpstreamError("the provider's launch answer is not JSON") from None
        return parse_launch_answer(data, request)
