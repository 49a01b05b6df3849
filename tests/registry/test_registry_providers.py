"""External providers over HTTP: register, list, open through the provider's launch call,
renew by heartbeat, expire, deregister, survive a restart, agree across instances."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from core.ids import parse_resource_id
from core.tokens import ViewMode
from registry.providers import AppProvider
from server.services import services_of
from tests.conftest import TestUser, basic_auth, upload
from tests.registry.helpers import ODT, RecordingDriver, assert_error
from tests.registry.provider import StandInProvider, stand_in_provider
from tests.support.net import free_port

SECRET = "registration-secret"  # noqa: S105
HEADERS = {"X-Docbridge-Provider-Secret": SECRET}
DRAWIO = "application/x-drawio"


@pytest.fixture
def provider() -> Iterator[StandInProvider]:
    with stand_in_provider(secret=SECRET) as running:
        yield running


@pytest.fixture
def gone_url() -> str:
    """Where no provider answers (a free loopback port)."""
    return f"http://127.0.0.1:{free_port()}"


@pytest.fixture
def registry_settings(provider: StandInProvider, gone_url: str) -> dict[str, Any]:
    # The stand-ins run on loopback, next to Docbridge: the admin lists their origins.
    return {
        "app_registry": {
            "provider_secret": SECRET,
            "max_provider_ttl_seconds": 300,
            "provider_origins": [provider.url, gone_url],
        }
    }


@pytest.fixture
def app(make_app: Callable[..., Flask], registry_settings: dict[str, Any], database_url_for_app: str) -> Flask:
    extra = {"database_url": database_url_for_app} if database_url_for_app else {}
    return make_app(**registry_settings, **extra)


def registration(provider: StandInProvider, **changes: Any) -> dict[str, Any]:
    return {
        "name": "Draw",
        "mimetypes": [DRAWIO, ODT],
        "launch_url": f"{provider.url}/launch",
        "icon": "https://draw.example.test/icon.svg",
        "product_name": "Draw",
        "ttl_seconds": 60,
        **changes,
    }


def register(client: FlaskClient, body: dict[str, Any], headers: dict[str, str] = HEADERS) -> Any:
    return client.post("/api/v1/app-providers", json=body, headers=headers)


def listed(client: FlaskClient) -> dict[str, list[str]]:
    return {
        entry["mime_type"]: [p["name"] for p in entry["app_providers"]]
        for entry in client.get("/app/list").get_json()["mime-types"]
    }


def test_register_list_and_open(app: Flask, client: FlaskClient, alice: TestUser, provider: StandInProvider) -> None:
    response = register(client, registration(provider))
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert body["name"] == "Draw" and body["ttl_seconds"] == 60 and body["mimetypes"] == [DRAWIO, ODT]
    assert listed(client) == {ODT: ["Draw"], DRAWIO: ["Draw"]}
    text = client.get("/app/list").get_data(as_text=True)
    assert provider.url not in text and "127.0.0.1" not in text  # never an internal address

    file_id = upload(client, alice, alice.home_id, "plan.odt", b"odt")
    opened = client.post(
        "/app/open", query_string={"file_id": file_id, "view_mode": "read", "lang": "de"}, headers=alice.auth
    )
    assert opened.status_code == 200, opened.get_data(as_text=True)
    launch = opened.get_json()
    assert launch["method"] == "POST"
    assert launch["app_url"] == f"{provider.url}/editor?file={file_id.replace('$', '%24').replace('!', '%21')}"
    token = launch["form_parameters"]["access_token"]
    grant = services_of(app).tokens.verify(token, audience="app:Draw", file_id=parse_resource_id(file_id))
    assert grant.view_mode is ViewMode.READ and grant.user_id == alice.id
    [call] = provider.launches
    assert call["access_token"] == token and call["view_mode"] == "read" and call["lang"] == "de"
    assert call["file"]["name"] == "plan.odt" and call["user"] == {"id": alice.id, "name": "alice"}
    assert call["access_token_ttl"] == launch["form_parameters"]["access_token_ttl"]


def test_get_style_provider(client: FlaskClient, alice: TestUser, provider: StandInProvider) -> None:
    register(client, registration(provider, launch_url=f"{provider.url}/launch-get"))
    file_id = upload(client, alice, alice.home_id, "plan.odt", b"odt")
    launch = client.post("/app/open", query_string={"file_id": file_id}, headers=alice.auth).get_json()
    assert launch["method"] == "GET" and launch["app_url"] == f"{provider.url}/view"
    assert launch["headers"]["Authorization"].startswith("Bearer ")


@pytest.mark.parametrize("path", ["/status/500", "/status/503", "/redirect", "/not-json", "/bad-shape", "/huge"])
def test_failing_provider(client: FlaskClient, alice: TestUser, provider: StandInProvider, path: str) -> None:
    register(client, registration(provider, launch_url=f"{provider.url}{path}"))
    file_id = upload(client, alice, alice.home_id, "plan.odt", b"odt")
    for route in ("/app/open", "/app/open-with-web"):
        assert_error(
            client.post(route, query_string={"file_id": file_id, "app_name": "Draw"}, headers=alice.auth),
            500,
            "SERVER_ERROR",
            "Error contacting the requested application, please use a different one or try again later",
        )


def test_unreachable_provider(client: FlaskClient, alice: TestUser, provider: StandInProvider, gone_url: str) -> None:
    assert register(client, registration(provider, launch_url=f"{gone_url}/launch")).status_code == 200
    file_id = upload(client, alice, alice.home_id, "plan.odt", b"odt")
    assert_error(
        client.post("/app/open", query_string={"file_id": file_id}, headers=alice.auth),
        500,
        "SERVER_ERROR",
        "Error contacting the requested application, please use a different one or try again later",
    )


def test_a_redirecting_provider_is_not_followed(client: FlaskClient, alice: TestUser, provider: StandInProvider) -> None:
    # /redirect answers 307 to /launch, which records every launch it answers.
    assert register(client, registration(provider, launch_url=f"{provider.url}/redirect")).status_code == 200
    file_id = upload(client, alice, alice.home_id, "plan.odt", b"odt")
    assert_error(
        client.post("/app/open", query_string={"file_id": file_id, "app_name": "Draw"}, headers=alice.auth),
        500,
        "SERVER_ERROR",
        "Error contacting the requested application, please use a different one or try again later",
    )
    assert provider.launches == []


# Not the stand-ins' origins: nothing answers there, and nothing has to.
FENCED_LAUNCH_URLS = [
    "http://127.0.0.1:9/launch",
    "http://localhost:9/launch",
    "http://[::1]:9/launch",
    "http://169.254.169.254/latest/launch",
    "http://0.0.0.0:9/launch",
]


@pytest.mark.parametrize("launch_url", FENCED_LAUNCH_URLS)
def test_loopback_and_link_local_launch_urls_are_refused_unless_listed(
    client: FlaskClient, provider: StandInProvider, launch_url: str
) -> None:
    response = register(client, registration(provider, launch_url=launch_url))
    assert response.status_code == 400, response.get_data(as_text=True)
    body = response.get_json()
    assert body["code"] == "INVALID_PARAMETER"
    assert body["message"].startswith("launch_url is refused: ")
    assert "address, which is not allowed" in body["message"] or "resolves to" in body["message"]
    assert "app_registry.provider_origins" in body["message"]
    assert listed(client) == {}


@pytest.mark.parametrize("launch_url", FENCED_LAUNCH_URLS)
def test_a_listed_origin_may_be_registered_on_loopback_or_link_local(
    make_app: Callable[..., Flask], provider: StandInProvider, launch_url: str
) -> None:
    origin = "/".join(launch_url.split("/")[:3])  # scheme://host:port
    client = make_app(app_registry={"provider_secret": SECRET, "provider_origins": [origin + "/"]}).test_client()
    response = register(client, registration(provider, launch_url=launch_url))
    assert response.status_code == 200, response.get_data(as_text=True)
    assert listed(client) == {DRAWIO: ["Draw"], ODT: ["Draw"]}


def test_an_origin_no_longer_listed_is_not_called(
    make_app: Callable[..., Flask], registry_settings: dict[str, Any], provider: StandInProvider
) -> None:
    """The fence is asked at every launch, not only at registration."""
    first = make_app(**registry_settings)
    assert register(first.test_client(), registration(provider)).status_code == 200
    created = services_of(first).users.create("gina", "secret")
    gina = TestUser(created.id, created.name, "secret", str(created.home_id), basic_auth("gina", "secret"))
    client = make_app(app_registry={"provider_secret": SECRET}).test_client()  # the admin took the origin out
    file_id = upload(client, gina, gina.home_id, "plan.odt", b"odt")
    assert_error(
        client.post("/app/open", query_string={"file_id": file_id, "app_name": "Draw"}, headers=gina.auth),
        500,
        "SERVER_ERROR",
        "Error contacting the requested application, please use a different one or try again later",
    )
    assert provider.launches == []


@pytest.mark.parametrize(
    ("headers", "status", "code"),
    [
        ({}, 401, "UNAUTHENTICATED"),
        ({"X-Docbridge-Provider-Secret": "wrong"}, 401, "UNAUTHENTICATED"),
        ({"X-Docbridge-Provider-Secret": SECRET + "x"}, 401, "UNAUTHENTICATED"),
        ({"Authorization": "Basic YWRtaW46YWRtaW4tc2VjcmV0"}, 401, "UNAUTHENTICATED"),  # an admin is not a provider
    ],
)
def test_registration_needs_the_secret(
    client: FlaskClient, provider: StandInProvider, headers: dict[str, str], status: int, code: str
) -> None:
    for response in (
        register(client, registration(provider), headers),
        client.post("/api/v1/app-providers/Draw/heartbeat", headers=headers),
        client.delete("/api/v1/app-providers/Draw", headers=headers),
    ):
        assert response.status_code == status and response.get_json()["code"] == code
    assert listed(client) == {}


def test_registration_disabled_without_a_secret(make_app: Callable[..., Flask], provider: StandInProvider) -> None:
    client = make_app().test_client()
    response = register(client, registration(provider), {"X-Docbridge-Provider-Secret": ""})
    assert_error(
        response, 403, "PERMISSION_DENIED", "provider registration is disabled: app_registry.provider_secret is not set"
    )


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (None, "the registration must be a JSON object"),
        ({"name": "Draw"}, "mimetypes must be a list of mimetypes"),
        ({"mimetypes": [ODT], "launch_url": "http://x.test/", "name": ""}, "missing name"),
        (
            {"name": "D", "mimetypes": ["application/octet-stream"], "launch_url": "http://x.test/"},
            "mimetypes must name at least one mimetype other than application/octet-stream",
        ),
    ],
)
def test_bad_registration(client: FlaskClient, body: Any, message: str) -> None:
    response = (
        client.post("/api/v1/app-providers", json=body, headers=HEADERS)
        if body
        else client.post("/api/v1/app-providers", data="not json", headers=HEADERS)
    )
    assert_error(response, 400, "INVALID_PARAMETER", message)


def test_built_in_names_are_taken(app: Flask, client: FlaskClient, provider: StandInProvider) -> None:
    services_of(app).catalog.register(AppProvider("OnlyOffice", (ODT,)), RecordingDriver())
    response = register(client, registration(provider, name="OnlyOffice"))
    assert_error(response, 403, "PERMISSION_DENIED", "the name 'OnlyOffice' belongs to a built-in app")


def test_ttl_is_capped(client: FlaskClient, provider: StandInProvider) -> None:
    assert register(client, registration(provider, ttl_seconds=86_400)).get_json()["ttl_seconds"] == 300


def test_heartbeat_renews(client: FlaskClient, provider: StandInProvider) -> None:
    first = register(client, registration(provider, ttl_seconds=30)).get_json()
    renewed = client.post("/api/v1/app-providers/Draw/heartbeat", json={"ttl_seconds": 200}, headers=HEADERS)
    assert renewed.status_code == 200
    assert renewed.get_json()["expires_at"] > first["expires_at"]
    assert renewed.get_json()["registered_at"] == first["registered_at"]
    capped = client.post("/api/v1/app-providers/Draw/heartbeat", json={"ttl_seconds": 10_000}, headers=HEADERS)
    assert capped.status_code == 200
    assert_error(
        client.post("/api/v1/app-providers/Draw/heartbeat", json={"ttl_seconds": 0}, headers=HEADERS),
        400,
        "INVALID_PARAMETER",
        "ttl_seconds must be a whole number of seconds, at least 1",
    )
    assert_error(
        client.post("/api/v1/app-providers/Nobody/heartbeat", headers=HEADERS),
        404,
        "RESOURCE_NOT_FOUND",
        "no live registration named 'Nobody': register again",
    )


def test_re_registering_keeps_the_place_and_replaces_the_mimetypes(
    client: FlaskClient, provider: StandInProvider
) -> None:
    register(client, registration(provider, name="Alpha", mimetypes=["application/x-alpha"]))
    register(client, registration(provider, name="Beta", mimetypes=["application/x-beta"]))
    register(client, registration(provider, name="Alpha", mimetypes=["application/x-alpha", "application/x-gamma"]))
    assert list(listed(client)) == ["application/x-alpha", "application/x-gamma", "application/x-beta"]


def test_a_provider_that_stops_renewing_leaves(client: FlaskClient, alice: TestUser, provider: StandInProvider) -> None:
    register(client, registration(provider, ttl_seconds=1))
    register(client, registration(provider, name="Steady", ttl_seconds=300))
    assert listed(client) == {DRAWIO: ["Draw", "Steady"], ODT: ["Draw", "Steady"]}
    file_id = upload(client, alice, alice.home_id, "plan.odt", b"odt")
    time.sleep(1.2)  # let the one-second registration run out
    assert listed(client) == {DRAWIO: ["Steady"], ODT: ["Steady"]}
    assert_error(
        client.post("/app/open", query_string={"file_id": file_id, "app_name": "Draw"}, headers=alice.auth),
        404,
        "RESOURCE_NOT_FOUND",
        "error: not found: app 'Draw' not found",
    )
    heartbeat = client.post("/api/v1/app-providers/Draw/heartbeat", headers=HEADERS)
    assert heartbeat.status_code == 404  # too late: it must register again
    again = register(client, registration(provider)).get_json()
    assert listed(client)[ODT] == ["Draw", "Steady"]
    assert again["registered_at"] > "1970"


def test_deregister(client: FlaskClient, provider: StandInProvider) -> None:
    register(client, registration(provider))
    assert client.delete("/api/v1/app-providers/Draw", headers=HEADERS).status_code == 204
    assert listed(client) == {}
    assert_error(
        client.delete("/api/v1/app-providers/Draw", headers=HEADERS),
        404,
        "RESOURCE_NOT_FOUND",
        "no registration named 'Draw'",
    )


def test_restart_loses_no_registration(
    make_app: Callable[..., Flask], registry_settings: dict[str, Any], provider: StandInProvider
) -> None:
    first = make_app(**registry_settings)
    register(first.test_client(), registration(provider))
    user = services_of(first).users.create("erin", "secret")
    client_one = first.test_client()
    from tests.conftest import basic_auth

    auth = basic_auth("erin", "secret")
    file_id = client_one.put(f"/api/v1/containers/{user.home_id}/files/plan.odt", data=b"odt", headers=auth).get_json()[
        "file_id"
    ]

    restarted = make_app(**registry_settings)  # same data directory and database
    client_two = restarted.test_client()
    assert listed(client_two) == {DRAWIO: ["Draw"], ODT: ["Draw"]}
    opened = client_two.post("/app/open", query_string={"file_id": file_id}, headers=auth)
    assert opened.status_code == 200
    assert len(provider.launches) == 1
    # The renewal reaches the restarted instance too.
    assert client_two.post("/api/v1/app-providers/Draw/heartbeat", headers=HEADERS).status_code == 200


def test_yaml_default_app_may_name_a_registered_external_provider(
    make_app: Callable[..., Flask], registry_settings: dict[str, Any], provider: StandInProvider
) -> None:
    register(make_app(**registry_settings).test_client(), registration(provider))
    settings = {
        "app_registry": {
            **registry_settings["app_registry"],
            "mimetypes": [{"mime_type": ODT, "extension": "odt", "default_app": "Draw"}],
        }
    }
    app = make_app(**settings)
    services_of(app).catalog.register(AppProvider("Viewer", (ODT,), priority=10), RecordingDriver())
    client = app.test_client()
    [entry] = [e for e in client.get("/app/list").get_json()["mime-types"] if e["mime_type"] == ODT]
    assert entry["default_application"] == "Draw"
    assert [p["name"] for p in entry["app_providers"]] == ["Viewer", "Draw"]
    user = services_of(app).users.create("frank", "secret")
    from tests.conftest import basic_auth

    auth = basic_auth("frank", "secret")
    file_id = client.put(f"/api/v1/containers/{user.home_id}/files/a.odt", data=b"x", headers=auth).get_json()[
        "file_id"
    ]
    assert client.post("/app/open", query_string={"file_id": file_id}, headers=auth).status_code == 200
    assert len(provider.launches) == 1  # the default, not the higher-priority Viewer


class TestSeveralInstances:
    """Two instances on one database (SQLite and PostgreSQL) see the same providers."""

    @pytest.fixture(params=["sqlite", "postgresql"])
    def database(self, request: pytest.FixtureRequest) -> str:
        if request.param == "sqlite":
            return ""
        url: str = request.getfixturevalue("pg_url")
        return url

    def test_instances_agree(
        self,
        make_app: Callable[..., Flask],
        registry_settings: dict[str, Any],
        provider: StandInProvider,
        database: str,
    ) -> None:
        extra = {"database_url": database} if database else {}
        one = make_app(**registry_settings, **extra).test_client()
        two = make_app(**registry_settings, **extra).test_client()
        register(one, registration(provider))
        register(two, registration(provider, name="Other", mimetypes=[ODT]))
        assert listed(one) == listed(two) == {DRAWIO: ["Draw"], ODT: ["Draw", "Other"]}
        register(one, registration(provider, name="Other", mimetypes=[ODT]))  # renewal from the other instance
        assert two.delete("/api/v1/app-providers/Draw", headers=HEADERS).status_code == 204
        assert listed(one) == {ODT: ["Other"]}


def test_admin_commands_list_providers_and_mimetypes(
    app: Flask, client: FlaskClient, provider: StandInProvider
) -> None:
    services_of(app).catalog.register(AppProvider("OnlyOffice", (ODT,), priority=2), RecordingDriver())
    register(client, registration(provider))
    runner = app.test_cli_runner()
    providers = runner.invoke(args=["registry", "providers"])
    assert providers.exit_code == 0
    lines = providers.output.splitlines()
    assert lines[0].startswith("OnlyOffice\tbuilt-in\tpriority 2\t1 mimetypes")
    assert lines[1].startswith(f"Draw\texternal\tpriority 0\t2 mimetypes\t{provider.url}/launch\texpires ")
    mimetypes = runner.invoke(args=["registry", "mimetypes"])
    assert mimetypes.exit_code == 0
    assert f"{ODT}\todt\tdefault OnlyOffice\tOnlyOffice, Draw" in mimetypes.output.splitlines()
