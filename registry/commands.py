"""``flask --app app registry …``: what the app registry knows, for admins."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from server.services import services_of

registry_group = AppGroup("registry", help="The app registry: providers and mimetypes.")


@registry_group.command("providers")
def providers_command() -> None:
    """List the live app providers: built-in drivers, then external registrations."""
    found = services_of(current_app)
    catalog = found.catalog
    for registration in catalog.registrations():
        if registration.builtin:
            provider = registration.provider
            click.echo(f"{provider.name}\tbuilt-in\tpriority {provider.priority}\t{len(provider.mimetypes)} mimetypes")
    for stored in found.providers.live_registrations(catalog.now()):
        provider = stored.registration.provider
        click.echo(
            f"{provider.name}\texternal\tpriority {provider.priority}\t{len(provider.mimetypes)} mimetypes"
            f"\t{stored.registration.launch_url}\texpires {stored.expires_at.isoformat(timespec='seconds')}"
        )


@registry_group.command("mimetypes")
def mimetypes_command() -> None:
    """List what /app/list shows: each mimetype, its default app and its apps."""
    for entry in services_of(current_app).catalog.list_mimetypes():
        apps = ", ".join(provider.name for provider in entry.app_providers)
        click.echo(f"{entry.mime_type}\t{entry.ext or '-'}\tdefault {entry.default_application}\t{apps}")
