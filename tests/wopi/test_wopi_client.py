"""The discovery client against a loopback WOPI client stand-in: last good discovery,
health, the outbound fence, change notification."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from core.config import WopiAppSettings
from tests.wopi.wopi_client import WopiClientStandIn, serve
from wopi.client import MAX_DISCOVERY_BYTES, DiscoveryClient


@pytest.fixture
def stand_in() -> Iterator[WopiClientStandIn]:
    with serve(WopiClientStandIn(shape="collabora")) as client:
        yield client


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def make(stand_in: WopiClientStandIn, clock: Clock, changes: list[str] | None = None) -> DiscoveryClient:
    settings = WopiAppSettings(name="Collabora", discovery_url=stand_in.discovery_url, refresh_seconds=3600)
    return DiscoveryClient(
        settings,
        timeout_seconds=5,
        verify_tls=True,
        clock=clock,
        on_change=(lambda client: changes.append(client.name)) if changes is not None else None,
    )


@pytest.mark.parametrize(
    "breakage",
    [
        {"fail": True},
        {"body_override": b"<html>not discovery</html>"},
        {"body_override": b"<wopi-discovery/>"},
        {"body_override": b"x" * (MAX_DISCOVERY_BYTES + 1)},
        {"redirect_to": "http://127.0.0.1:1/hosting/discovery"},
    ],
)
def test_keeps_last_good_discovery(stand_in: WopiClientStandIn, breakage: dict) -> None:  # type: ignore[type-arg]
    clock = Clock()
    client = make(stand_in, clock)
    assert client.refresh() is True
    good = client.current()
    assert client.status().healthy and client.status().proof_keys
    for key, value in breakage.items():
        setattr(stand_in, key, value)
    assert client.refresh() is False
    assert client.current() is good
    status = client.status()
    assert status.healthy is False and status.detail != "ok"
    assert status.mimetypes == len(good.mimetypes())  # type: ignore[union-attr]


def test_refresh_schedule(stand_in: WopiClientStandIn) -> None:
    clock = Clock()
    client = make(stand_in, clock)
    assert client.is_due()
    client.refresh()
    assert not client.is_due()
    clock.now += 3599
    assert not client.is_due()
    clock.now += 1
    assert client.is_due()
    stand_in.fail = True
    client.refresh()
    clock.now += 59
    assert not client.is_due()
    clock.now += 1
    assert client.is_due()  # a failing client is retried every minute


def test_change_notification_only_when_mimetypes_change(stand_in: WopiClientStandIn) -> None:
    changes: list[str] = []
    client = make(stand_in, Clock(), changes)
    client.refresh()
    client.refresh()
    assert changes == ["Collabora"]
    stand_in.body_override = stand_in.discovery_xml().replace("application/vnd.ms-wopi-test", "text/plain").encode()
    client.refresh()
    assert changes == ["Collabora", "Collabora"]


def test_proof_refetch_is_rate_limited(stand_in: WopiClientStandIn) -> None:
    clock = Clock()
    client = make(stand_in, clock)
    client.refresh()
    before = stand_in.discovery_requests
    assert client.refresh_after_proof_failure() is True
    assert client.refresh_after_proof_failure() is False
    clock.now += 60
    assert client.refresh_after_proof_failure() is True
    assert stand_in.discovery_requests == before + 2
