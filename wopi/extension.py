"""The WOPI extension: the host endpoints, one app provider per configured WOPI client,
their discovery health in ``/readyz``, and the ``flask wopi`` commands."""

from __future__ import annotations

import functools
import hashlib
import io
import logging

import click
from flask import Flask
from flask.cli import AppGroup

from core.errors import DocbridgeError, NotFound
from core.extensions import ExtensionKind, Manifest
from core.tokens import ViewMode
from registry.providers import audience_for
from server.extensions import ExtensionContext
from server.services import HealthReport, Services, services_of
from storage.access import principal_for_user
from wopi import views
from wopi.client import DiscoveryClient, WopiClients
from wopi.driver import WopiDriver, provider_for
from wopi.host import SAVE_SOURCE, VALIDATOR_AUDIENCE, WopiHost
from wopi.store import UserInfoStore

MANIFEST = Manifest(
    id="wopi",
    name="WOPI host and driver",
    version="1.0.0",
    licence="AGPL-3.0-or-later",
    kind=ExtensionKind.APP_DRIVER,
    description="Serves files to WOPI clients (Collabora Online, Microsoft 365 for the web) and opens them from the app registry.",
    requires={"docbridge": ">=0.1"},
    migrations="migrations",
)

log = logging.getLogger(__name__)
TEST_FILE_NAME = "test.wopitest"


def _register_provider(services: Services, runtime: views.WopiRuntime, client: DiscoveryClient) -> None:
    provider = provider_for(client)
    if provider is not None:
        services.catalog.register(provider, WopiDriver(client, runtime.host.wopi_src))


def build_runtime(services: Services) -> views.WopiRuntime:
    settings = services.settings
    cache_dir = settings.data_dir / "wopi"
    clients = [
        DiscoveryClient(
            app_settings,
            timeout_seconds=settings.wopi.timeout_seconds,
            verify_tls=settings.wopi.verify_tls,
            cache_path=cache_dir / f"discovery-{hashlib.sha256(app_settings.name.encode()).hexdigest()[:16]}.xml",
        )
        for app_settings in settings.wopi.apps
    ]
    wopi_clients = WopiClients(clients)
    host = WopiHost(
        settings,
        storage=services.storage,
        access=services.access,
        tokens=services.tokens,
        users=services.users,
        links=services.links,
        locks=services.locks,
        clients=wopi_clients,
        user_info=UserInfoStore(services.engine),
        external_apps=services.catalog.external_names,
        policies=services.policies,
    )
    runtime = views.WopiRuntime(host, wopi_clients)

    def changed(client: DiscoveryClient) -> None:
        # A discovery refresh with other mimetypes re-registers the provider.
        _register_provider(services, runtime, client)

    for client in clients:
        if not client.refresh():
            client.load_cache()
        _register_provider(services, runtime, client)
        client.on_change = changed
    return runtime


def _health(client: DiscoveryClient) -> HealthReport:
    status = client.status()
    return HealthReport(status.healthy, status.detail)


def register(context: ExtensionContext) -> None:
    app = context.app
    services: Services = context.services
    runtime = build_runtime(services)
    app.extensions[views.RUNTIME_KEY] = runtime
    app.register_blueprint(views.blueprint)
    for client in runtime.clients:
        services.health_checks[f"wopi:{client.name}"] = functools.partial(_health, client)
    app.before_request(runtime.clients.refresh_due)

    app.cli.add_command(wopi_group)


# --- flask wopi ... ---------------------------------------------------------------------

wopi_group = AppGroup("wopi", help="WOPI clients and the WOPI validator.")


def _app_services() -> tuple[Flask, Services]:
    from flask import current_app

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    return app, services_of(app)


@wopi_group.command("status")
def status_command() -> None:
    """Show each WOPI client's discovery: reachable, mimetypes, proof keys."""
    app, _ = _app_services()
    runtime: views.WopiRuntime = app.extensions[views.RUNTIME_KEY]
    any_unhealthy = False
    for client in runtime.clients:
        client.refresh()
        status = client.status()
        any_unhealthy |= not status.healthy
        age = "never" if status.age_seconds is None else f"{status.age_seconds:.0f}s ago"
        click.echo(
            f"{status.name}: {'healthy' if status.healthy else 'UNHEALTHY'} ({status.detail}); "
            f"{status.mimetypes} mimetypes; proof keys {'published' if status.proof_keys else 'not published'}; "
            f"last good discovery {age}; {status.url}"
        )
    if not any(True for _ in runtime.clients):
        click.echo("no WOPI clients configured (wopi.apps)")
    if any_unhealthy:
        raise SystemExit(1)


@wopi_group.command("test-file")
@click.argument("user")
@click.option("--app", "app_name", default="", help="Issue the token for this configured WOPI app (its proof keys apply).")
def test_file_command(user: str, app_name: str) -> None:
    """Create test.wopitest in USER's home and print its WOPISrc and an access token,
    for Microsoft's WOPI validator."""
    app, found = _app_services()
    runtime: views.WopiRuntime = app.extensions[views.RUNTIME_KEY]
    if app_name and runtime.clients.get(app_name) is None:
        raise click.ClickException(f"no WOPI app named {app_name!r} in wopi.apps")
    try:
        owner = found.users.by_name(user)
        node = found.storage.find_child(owner.home_id, TEST_FILE_NAME)
        if node is None:
            node = found.storage.create_file(
                owner.home_id, TEST_FILE_NAME, io.BytesIO(b""), principal_for_user(owner).origin(SAVE_SOURCE)
            )
    except (NotFound, DocbridgeError) as error:
        raise click.ClickException(error.message) from error
    issued = found.tokens.issue(
        file_id=node.id,
        user_id=owner.id,
        view_mode=ViewMode.WRITE,
        audience=audience_for(app_name) if app_name else VALIDATOR_AUDIENCE,
        claims={"name": owner.display_name},
    )
    wopi_src = runtime.host.wopi_src(node.id)
    click.echo(f"WOPISrc: {wopi_src}")
    click.echo(f"access_token: {issued.token}")
    click.echo(f"access_token_ttl: {issued.expires_at_ms}")
    click.echo(f'validator: Microsoft.Office.WopiValidator -w "{wopi_src}" -t "{issued.token}" -l {issued.expires_at_ms}')
    policy = found.settings.wopi.proof_keys
    if not app_name and policy == "required":
        click.echo("note: wopi.proof_keys is 'required' and no --app names whose keys apply: every request will get 500")
    elif not app_name and policy != "off":
        # ProofKeys has no prerequisite but the test file, so the validator always runs it.
        click.echo(
            "note: without --app no proof keys are checked, so the validator's ProofKeys cases that expect 500 fail;"
            " run with --app <a WOPI app whose discovery_url serves the validator's discovery.xml>"
        )
