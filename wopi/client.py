"""Discovery clients: one per configured WOPI client (``wopi.apps``).

Each fetches its client's discovery, keeps the last good one, and refreshes it every
``refresh_seconds`` (in a background thread started by the request that finds it due, so
no request waits for a WOPI client) and, at most once a minute, when a proof check fails.
A client that cannot be reached keeps serving its last good discovery and reports itself
unhealthy (``/readyz`` details, ``flask wopi status``).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import requests

from core.config import WopiAppSettings
from core.errors import DocbridgeError
from core.fetch import Fetcher, FetchPolicy, origins_of
from core.files import write_atomically
from registry.providers import audience_for
from wopi.discovery import Discovery, DiscoveryError, parse_discovery

log = logging.getLogger(__name__)

MAX_DISCOVERY_BYTES = 5 * 1024 * 1024
PROOF_REFETCH_INTERVAL_SECONDS = 60.0
FAILING_RETRY_SECONDS = 60.0


@dataclass(frozen=True, slots=True)
class DiscoveryStatus:
    name: str
    url: str
    healthy: bool
    detail: str
    mimetypes: int
    proof_keys: bool
    age_seconds: float | None  # since the last good fetch


class DiscoveryClient:
    """The discovery of one WOPI client. Thread-safe."""

    def __init__(
        self,
        app: WopiAppSettings,
        session_factory: Callable[[], requests.Session] = requests.Session,
        *,
        timeout_seconds: float,
        verify_tls: bool,
        on_change: Callable[[DiscoveryClient], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
        cache_path: Path | None = None,
    ) -> None:
        self.app = app
        # Only the configured discovery URL's origin may be fetched: no redirects, a size cap.
        self._policy = FetchPolicy(origins_of([app.discovery_url]), MAX_DISCOVERY_BYTES, timeout_seconds, verify_tls)
        # A session per fetch: gunicorn forks workers after the first fetch, and pooled
        # connections must not be shared between processes.
        self._session_factory = session_factory
        self.on_change = on_change  # called after a fetch that changed the mimetypes
        self._clock = clock
        self._lock = threading.Lock()
        self._discovery: Discovery | None = None
        self._fetched_at: float | None = None
        self._attempted_at: float | None = None
        self._proof_refetch_at: float | None = None
        self._error = "not fetched yet"
        self._refreshing = False
        self._cache_path = cache_path

    @property
    def name(self) -> str:
        return self.app.name

    @property
    def audience(self) -> str:
        return audience_for(self.app.name)

    def current(self) -> Discovery | None:
        with self._lock:
            return self._discovery

    def load_cache(self) -> bool:
        """Use the discovery saved by the last good fetch (e.g. after a restart while the
        WOPI client is down). The client stays unhealthy until a fetch succeeds."""
        if self._cache_path is None or not self._cache_path.is_file():
            return False
        try:
            discovery = parse_discovery(self._cache_path.read_bytes())
        except (OSError, DiscoveryError) as error:
            log.warning("WOPI app %s: cached discovery unusable: %s", self.name, error)
            return False
        with self._lock:
            if self._discovery is not None:
                return True
            self._discovery = discovery
        if self.on_change is not None:
            self.on_change(self)
        return True

    def _save_cache(self, document: bytes) -> None:
        if self._cache_path is None:
            return
        try:
            write_atomically(self._cache_path, [document])
        except OSError as error:
            log.warning("WOPI app %s: cannot cache discovery: %s", self.name, error)

    def _fetch(self) -> Discovery:
        try:
            with self._session_factory() as session:
                response = Fetcher(session, self._policy).request("GET", self.app.discovery_url)
        except DocbridgeError as error:
            raise DiscoveryError(error.message) from error
        if response.status_code != 200:
            raise DiscoveryError(f"{self.app.discovery_url} answered HTTP {response.status_code}")
        discovery = parse_discovery(response.content)
        self._save_cache(response.content)
        return discovery

    def refresh(self) -> bool:
        """Fetch discovery now. On failure keep the last good one; return success."""
        started = self._clock()
        try:
            discovery = self._fetch()
        except DiscoveryError as error:
            with self._lock:
                self._attempted_at = started
                self._error = str(error)
                self._refreshing = False
            log.warning("WOPI app %s: discovery failed, keeping the last good one: %s", self.name, error)
            return False
        with self._lock:
            changed = self._discovery is None or self._discovery.mimetypes() != discovery.mimetypes()
            self._discovery = discovery
            self._fetched_at = self._attempted_at = started
            self._error = ""
            self._refreshing = False
        if changed and self.on_change is not None:
            self.on_change(self)
        return True

    def is_due(self) -> bool:
        """Every ``refresh_seconds``; within a minute while the client is failing."""
        with self._lock:
            last = self._attempted_at
            failing = bool(self._error)
        interval = min(self.app.refresh_seconds, FAILING_RETRY_SECONDS) if failing else self.app.refresh_seconds
        return last is None or self._clock() - last >= interval

    def refresh_in_background_if_due(self) -> None:
        """Start a refresh thread when one is due and none is running; never blocks."""
        if not self.is_due():
            return
        with self._lock:
            if self._refreshing:
                return
            self._refreshing = True
        threading.Thread(target=self.refresh, name=f"wopi-discovery-{self.name}", daemon=True).start()

    def refresh_after_proof_failure(self) -> bool:
        """Re-read discovery once because a proof did not verify (the client may have
        rotated its keys). Rate-limited so forged requests cannot make us hammer the client."""
        now = self._clock()
        with self._lock:
            if self._proof_refetch_at is not None and now - self._proof_refetch_at < PROOF_REFETCH_INTERVAL_SECONDS:
                return False
            self._proof_refetch_at = now
        return self.refresh()

    def status(self) -> DiscoveryStatus:
        with self._lock:
            discovery = self._discovery
            age = None if self._fetched_at is None else self._clock() - self._fetched_at
            error = self._error
        return DiscoveryStatus(
            name=self.name,
            url=self.app.discovery_url,
            healthy=not error,
            detail=error or "ok",
            mimetypes=len(discovery.mimetypes()) if discovery else 0,
            proof_keys=bool(discovery and discovery.proof_keys),
            age_seconds=age,
        )


class WopiClients:
    """Every configured WOPI client's discovery, by app name and by token audience."""

    def __init__(self, clients: list[DiscoveryClient]) -> None:
        self._clients = {client.name: client for client in clients}
        self._by_audience = {client.audience: client for client in clients}

    def __iter__(self) -> Iterator[DiscoveryClient]:
        return iter(self._clients.values())

    def get(self, name: str) -> DiscoveryClient | None:
        return self._clients.get(name)

    def for_audience(self, audience: str) -> DiscoveryClient | None:
        return self._by_audience.get(audience)

    def audiences(self) -> list[str]:
        return list(self._by_audience)

    def refresh_due(self) -> None:
        for client in self._clients.values():
            client.refresh_in_background_if_due()
