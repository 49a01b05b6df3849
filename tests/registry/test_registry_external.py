"""External providers' registration bodies and the launch exchange, from tables, plus the
launch call against a provider served on a loopback port."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import requests

from core.errors import BadRequest, UpstreamError
from core.ids import ResourceId
from core.tokens import ViewMode
from registry.external import ExternalDriver, LaunchClient, parse_launch_answer, parse_registration
from registry.providers import LaunchRequest
from storage.types import Node, NodeKind
from tests.registry.helpers import ODT
from tests.registry.provider import StandInProvider, stand_in_provider

GOOD: dict[str, Any] = {"name": "Draw", "mimetypes": ["image/svg+xml"], "launch_url": "https://draw.test/launch"}


def test_minimal_registration() -> None:
    registration = parse_registration(GOOD, max_ttl_seconds=600)
    assert registration.provider.name == "Draw"
    assert registration.provider.mimetypes == ("image/svg+xml",)
    assert registration.ttl_seconds == 60


def test_full_registration_and_ttl_cap() -> None:
    body = {
        **GOOD,
        "mimetypes": ["image/svg+xml", "application/octet-stream", "IMAGE/SVG+XML", "application/x-drawio"],
        "icon": "https://draw.test/icon.svg",
        "description": "Diagrams",
        "product_name": "Draw",
        "capability": "EDITOR",
        "priority": 3,
        "target_ext": {"application/x-drawio-template": "drawio"},
        "ttl_seconds": 3600,
    }
    registration = parse_registration(body, max_ttl_seconds=600)
    assert registration.provider.mimetypes == ("image/svg+xml", "application/x-drawio")  # never octet-stream
    assert registration.ttl_seconds == 600
    assert registration.provider.priority == 3


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"name": ""}, "missing name"),
        ({"name": 5}, "name must be text"),
        ({"name": "a/b"}, "name must not contain '/' or start or end with spaces"),
        ({"name": " Draw"}, "name must not contain '/' or start or end with spaces"),
        ({"name": "x\x00"}, "name must not contain control characters"),
        ({"name": "x" * 65}, "name must not be longer than 64 characters"),
        ({"mimetypes": "image/png"}, "mimetypes must be a list of mimetypes"),
        ({"mimetypes": ["png"]}, "'png' is not a mimetype"),
        (
            {"mimetypes": ["application/octet-stream"]},
            "mimetypes must name at least one mimetype other than application/octet-stream",
        ),
        ({"mimetypes": []}, "mimetypes must name at least one mimetype other than application/octet-stream"),
        ({"launch_url": ""}, "missing launch_url"),
        (
            {"launch_url": "ftp://draw.test/"},
            "launch_url must be an absolute http or https URL without credentials or fragment",
        ),
        (
            {"launch_url": "https://u:p@draw.test/"},
            "launch_url must be an absolute http or https URL without credentials or fragment",
        ),
        (
            {"launch_url": "https://draw.test/#x"},
            "launch_url must be an absolute http or https URL without credentials or fragment",
        ),
        (
            {"launch_url": "/relative"},
            "launch_url must be an absolute http or https URL without credentials or fragment",
        ),
        (
            {"launch_url": "http://draw.test:99999/"},
            "launch_url must be an absolute http or https URL without credentials or fragment",
        ),
        ({"icon": "javascript:alert(1)"}, "icon must be an absolute http or https URL"),
        ({"capability": "<b>"}, "capability must be letters and underscores"),
        ({"priority": "1"}, "priority must be a whole number from -1000 to 1000"),
        ({"priority": True}, "priority must be a whole number from -1000 to 1000"),
        ({"ttl_seconds": 0}, "ttl_seconds must be a whole number of seconds, at least 1"),
        ({"ttl_seconds": 1.5}, "ttl_seconds must be a whole number of seconds, at least 1"),
        ({"target_ext": {"x": "docx"}}, "target_ext must map template mimetypes to extensions without the dot"),
        ({"address": "10.0.0.1:9000"}, "unknown key 'address'"),
    ],
)
def test_bad_registration(change: dict[str, Any], message: str) -> None:
    with pytest.raises(BadRequest) as raised:
        parse_registration({**GOOD, **change}, max_ttl_seconds=600)
    assert raised.value.message == message


def test_registration_must_be_an_object() -> None:
    with pytest.raises(BadRequest, match="JSON object"):
        parse_registration(["Draw"], max_ttl_seconds=600)


FILE = Node(
    id=ResourceId("docbridge", "space", "file"),
    kind=NodeKind.FILE,
    name="plan.odt",
    parent_id=ResourceId("docbridge", "space", "space"),
    owner_id="u1",
    mimetype=ODT,
    size=1077,
    version=3,
    sha256="0" * 64,
    created=datetime(2026, 1, 1, tzinfo=UTC),
    modified=datetime(2026, 1, 2, tzinfo=UTC),
)
REQUEST = LaunchRequest(
    file=FILE,
    user_id="u1",
    user_display_name="Alice",
    view_mode=ViewMode.READ,
    access_token="tok",
    access_token_expires_at_ms=1_800_000_000_000,
    lang="de",
)


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (
            {"app_url": "https://draw.test/edit"},
            ("https://draw.test/edit", "POST", {"access_token": "tok", "access_token_ttl": "1800000000000"}, {}),
        ),
        (
            {"app_url": "https://draw.test/edit", "method": "POST", "form_parameters": {"t": "x"}},
            ("https://draw.test/edit", "POST", {"t": "x"}, {}),
        ),
        (
            {"app_url": "https://draw.test/e?x=1", "method": "GET", "headers": {"Authorization": "Bearer tok"}},
            ("https://draw.test/e?x=1", "GET", {}, {"Authorization": "Bearer tok"}),
        ),
    ],
)
def test_launch_answer(answer: dict[str, Any], expected: tuple[Any, ...]) -> None:
    launch = parse_launch_answer(answer, REQUEST)
    assert (launch.app_url, launch.method, dict(launch.form_parameters), dict(launch.headers)) == expected


@pytest.mark.parametrize(
    "answer",
    [
        [],
        {},
        {"app_url": "javascript:alert(1)"},
        {"app_url": "https://draw.test/", "method": "PUT"},
        {"app_url": "https://draw.test/", "form_parameters": {"a": 1}},
        {"app_url": "https://draw.test/", "headers": "x"},
    ],
)
def test_bad_launch_answer(answer: Any) -> None:
    with pytest.raises(UpstreamError):
        parse_launch_answer(answer, REQUEST)


@pytest.fixture
def provider() -> Iterator[StandInProvider]:
    with stand_in_provider(secret="s3cret") as running:
        yield running


def _driver(
    provider: StandInProvider, secret: str = "s3cret", path: str = "/launch", *, listed: bool = True  # noqa: S107
) -> ExternalDriver:
    registration = parse_registration(
        {"name": "Draw", "mimetypes": [ODT], "launch_url": provider.url + path}, max_ttl_seconds=600
    )
    # The stand-in runs on loopback: called only when the admin lists its origin.
    client = LaunchClient(
        requests.Session(),
        secret,
        timeout_seconds=5,
        public_base="http://docbridge.test",
        trusted_origins=(provider.url,) if listed else (),
    )
    return ExternalDriver(registration, client)


def test_launch_call_sends_the_documented_body(provider: StandInProvider) -> None:
    launch = _driver(provider).launch(REQUEST)
    assert launch.app_url == f"{provider.url}/editor?file=docbridge%24space%21file"
    assert dict(launch.form_parameters) == {"access_token": "tok", "access_token_ttl": "1800000000000"}
    [body] = provider.launches
    assert body == {
        "app_name": "Draw",
        "file": {"id": "docbridge$space!file", "name": "plan.odt", "mimetype": ODT, "size": 1077, "version": 3},
        "user": {"id": "u1", "name": "Alice"},
        "view_mode": "read",
        "access_token": "tok",
        "access_token_ttl": "1800000000000",
        "lang": "de",
        "wopi_src": "http://docbridge.test/wopi/files/docbridge%24space%21file",
    }


@pytest.mark.parametrize("path", ["/status/500", "/status/404", "/redirect", "/not-json", "/huge", "/bad-shape"])
def test_failing_provider_is_an_upstream_error(provider: StandInProvider, path: str) -> None:
    with pytest.raises(UpstreamError):
        _driver(provider, path=path).launch(REQUEST)


def test_wrong_secret_is_refused_by_the_provider(provider: StandInProvider) -> None:
    with pytest.raises(UpstreamError, match="HTTP 401"):
        _driver(provider, secret="wrong").launch(REQUEST)


def test_unreachable_provider_is_an_upstream_error() -> None:
    with stand_in_provider(secret="s3cret") as gone:
        driver = _driver(gone)
    with pytest.raises(UpstreamError, match="cannot reach"):
        driver.launch(REQUEST)


def test_a_provider_on_loopback_is_not_called_unless_listed(provider: StandInProvider) -> None:
    with pytest.raises(UpstreamError, match="launch_url is not allowed: 127.0.0.1 is a loopback address"):
        _driver(provider, listed=False).launch(REQUEST)
    assert provider.launches == []


def test_a_redirect_is_not_followed(provider: StandInProvider) -> None:
    with pytest.raises(UpstreamError, match="redirect, which is not followed"):
        _driver(provider, path="/redirect").launch(REQUEST)
    assert provider.launches == []  # /redirect points at /launch, which records every call


@pytest.mark.parametrize(
    ("launch_url", "listed", "refused"),
    [
        ("http://127.0.0.1:9/launch", (), True),
        ("http://localhost:9/launch", (), True),
        ("http://[::1]:9/launch", (), True),
        ("http://169.254.169.254/latest/launch", (), True),
        ("http://127.0.0.1:9/launch", ("http://127.0.0.1:9",), False),
        ("http://127.0.0.1:9/launch", ("http://127.0.0.1:10",), True),  # another port is another origin
        ("http://LOCALHOST:9/launch", ("http://localhost:9/",), False),
        ("http://[::1]:9/launch", ("http://[::1]:9",), False),
        ("http://169.254.169.254/latest/launch", ("http://169.254.169.254:80",), False),
        ("http://192.0.2.10:8443/launch", (), False),  # not loopback or link-local: the fence lets it through
        ("https://draw.invalid/launch", (), False),  # does not resolve now: every launch checks again
    ],
)
def test_check_launch_url(launch_url: str, listed: tuple[str, ...], refused: bool) -> None:
    client = LaunchClient(requests.Session(), "s", timeout_seconds=1, public_base="http://d.test", trusted_origins=listed)
    if refused:
        with pytest.raises(BadRequest, match="app_registry.provider_origins"):
            client.check_launch_url(launch_url)
    else:
        client.check_launch_url(launch_url)
