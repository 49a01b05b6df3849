"""The ONLYOFFICE Docs extension: settings checks at start, the driver's services, its
blueprints, the ``flask onlyoffice`` commands, and its provider in the app registry."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging

import click
import requests
from flask import Flask, current_app
from flask.cli import AppGroup

from core.config import Settings
from core.errors import DocbridgeError, StorageUnavailable
from core.events import FileDeleted
from core.extensions import ExtensionError, ExtensionKind, Manifest
from core.fetch import Fetcher, FetchPolicy
from core.ids import parse_resource_id
from onlyoffice import views
from onlyoffice.check import run_check
from onlyoffice.driver import OnlyofficeDriver, provider_for
from onlyoffice.ds_tokens import DsTokens
from onlyoffice.service import OnlyofficeService
from onlyoffice.store import OnlyofficeStore
from server.extensions import ExtensionContext
from server.services import HealthReport, Services

MANIFEST = Manifest(
    id="onlyoffice",
    name="ONLYOFFICE Docs driver",
    version="1.0.0",
    licence="AGPL-3.0-or-later",
    kind=ExtensionKind.APP_DRIVER,
    description="Opens office files in ONLYOFFICE Docs: signed editor configs, save callbacks, versions, conversion.",
    requires={"docbridge": ">=0.1"},
    migrations="migrations",
)

log = logging.getLogger(__name__)
MIN_SECRET_BYTES = 32


def check_settings(settings: Settings) -> None:
    """Refuse to start without a DS secret unless ``jwt: off``; warn (every start) when off."""
    options = settings.onlyoffice
    if options.jwt and not options.jwt_secret:
        raise ExtensionError(
            "onlyoffice.jwt_secret is required: set it to the Document Server's JWT secret "
            "(JWT_SECRET in its Docker image, services.CoAuthoring.secret in local.json), "
            "or set onlyoffice.jwt: off to run without signed requests (not recommended)")
    if not options.jwt:
        log.warning("onlyoffice.jwt is off: anyone who reaches the Document Server can open and change "
                    "documents, and callbacks are not signed. Set onlyoffice.jwt_secret and enable JWT.")
    elif len(options.jwt_secret.encode()) < MIN_SECRET_BYTES:
        log.warning("onlyoffice.jwt_secret is shorter than %d bytes; use a long random secret", MIN_SECRET_BYTES)


def build_service(settings: Settings, services: Services) -> OnlyofficeService:
    options = settings.onlyoffice
    tokens = DsTokens(secret=options.jwt_secret, enabled=options.jwt, leeway_seconds=options.jwt_leeway_seconds,
                      header_name=options.jwt_header)
    session = requests.Session()
    session.trust_env = False  # proxies from the environment would bypass the fence's view of the peer
    origins = tuple(filter(None, (options.document_server_url, options.document_server_internal_url)))
    fetcher = Fetcher(session, FetchPolicy(allowed_origins=origins, max_bytes=options.max_download_bytes,
                                           timeout_seconds=options.timeout_seconds, verify_tls=options.verify_tls))
    salt = hmac.new(services.secret, b"onlyoffice-document-keys", hashlib.sha256).digest()
    store = OnlyofficeStore(services.engine, services.storage, salt, settings.data_dir / "onlyoffice" / "changes")
    return OnlyofficeService(settings, storage=services.storage, access=services.access, tokens=services.tokens,
                             users=services.users, links=services.links, store=store, ds_tokens=tokens,
                             http=fetcher, locks=services.locks, events=services.events,
                             lossy_edit=tuple(ext.lower().lstrip(".") for ext in options.lossy_edit),
                             policies=services.policies)


def register(context: ExtensionContext) -> None:
    settings = context.settings
    if not settings.onlyoffice.enabled:
        log.info("ONLYOFFICE driver not configured (onlyoffice.document_server_url is empty)")
        return
    check_settings(settings)
    services: Services = context.services
    service = build_service(settings, services)
    _adopt_legacy_changes(service)
    views.init_app(context.app, service)
    context.app.cli.add_command(_cli)
    services.events.subscribe(FileDeleted, lambda event: service.store.forget_file(str(event.file_id)))
    services.health_checks["onlyoffice"] = lambda: _health(service)
    services.catalog.register(provider_for(settings.onlyoffice), OnlyofficeDriver(settings.public_base))


def _adopt_legacy_changes(service: OnlyofficeService) -> None:
    """Move changes.zip files of earlier releases into the blob store (see the migration
    oo02). A blob store that is briefly unreachable must not keep Docbridge from starting:
    the files stay where they are, are served from there, and the next start moves them."""
    try:
        service.store.adopt_legacy_changes()
    except StorageUnavailable as error:
        log.warning("onlyoffice: changes.zip files of earlier releases not moved yet: %s", error.message)


def _health(service: OnlyofficeService) -> HealthReport:
    try:
        healthy = service.client.healthcheck()
    except DocbridgeError as error:
        return HealthReport(False, error.message)
    return HealthReport(healthy, "" if healthy else "the Document Server reports a bad health status")


_cli = AppGroup("onlyoffice", help="ONLYOFFICE Docs driver.")


def _service(app: Flask) -> OnlyofficeService:
    found = app.extensions.get(views.EXTENSION_KEY)
    if found is None:
        raise click.ClickException("the ONLYOFFICE driver is not configured (onlyoffice.document_server_url)")
    return found  # type: ignore[no-any-return]


@_cli.command("check")
def check_command() -> None:
    """Run the settings check: healthcheck, version, conversion, download."""
    report = run_check(_service(current_app))
    for step in report.steps:
        click.echo(f"{'ok  ' if step.ok else 'FAIL'} {step.name}: {step.message}")
    if not report.ok:
        raise SystemExit(1)
    click.echo("ONLYOFFICE settings are correct")


@_cli.command("command")
@click.argument("command", type=click.Choice(["forcesave", "info", "drop"]))
@click.argument("file_id")
def command_command(command: str, file_id: str) -> None:
    """Send forcesave, info or drop for the editing session of FILE_ID."""
    service = _service(current_app)
    try:
        result = service.command(command, parse_resource_id(file_id))
    except DocbridgeError as error:
        raise click.ClickException(error.message) from None
    click.echo(json.dumps(result, indent=2, sort_keys=True))
