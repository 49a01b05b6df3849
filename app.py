"""Docbridge's entry point: ``create_app`` builds one configured application.

gunicorn runs ``app:create_app()``; the Flask CLI finds it with ``flask --app app``.
Settings are loaded and validated, built-in and installed extensions are planned, the
metadata store is migrated (core, the registry, and every enabled extension's own branch),
the extensions are registered in order (storage backends first, since the services stand
on one), and the blueprints are registered. No routes live here and nothing is kept in globals.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any

from flask import Flask

import api.views
import audit.extension
import commands
import core.extensions as extensions
import onlyoffice.extension
import registry.views
import storage.local.extension
import storage.webdav.extension
import web.health
import web.views
import wopi.extension
from core.config import load_settings
from core.errors import StorageUnavailable
from server.bootstrap import build_services, ensure_admin, instance_secret, migration_locations, prepare_data_dir
from server.extensions import ExtensionContext
from server.request import CompleteBodyRequest
from server.services import EXTENSION_KEY, Services
from storage.metadata.database import close_read_scope, open_read_scope

BUILTIN_EXTENSIONS: tuple[extensions.Extension, ...] = (
    storage.local.extension,  # type: ignore[list-item]
    storage.webdav.extension,  # type: ignore[list-item]
    audit.extension,  # type: ignore[list-item]
    wopi.extension,  # type: ignore[list-item]
    onlyoffice.extension,  # type: ignore[list-item]
)


def create_app(overrides: dict[str, Any] | None = None) -> Flask:
    settings = load_settings(overrides=overrides)
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    prepare_data_dir(settings)
    secret = instance_secret(settings)

    app = Flask(__name__, template_folder="templates", static_folder="web/static")
    app.request_class = CompleteBodyRequest
    app.secret_key = hashlib.sha256(b"docbridge-session:" + secret).hexdigest()
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.session_cookie_secure,
        MAX_CONTENT_LENGTH=None,
    )

    plan = extensions.plan_extensions(
        BUILTIN_EXTENSIONS,
        extensions.discover_entry_points(),
        disabled_ids=settings.extensions.disabled,
        required_ids=settings.extensions.required,
    )
    storage_context = extensions.StorageContext(settings)
    storage_phase = [ext for ext in plan.ordered if ext.MANIFEST.kind is extensions.ExtensionKind.STORAGE]
    for extension in storage_phase:
        extension.register(storage_context)

    found = build_services(
        settings, secret, storage_context.blob_store_factories, plan.states, migration_locations(plan.ordered)
    )
    app.extensions[EXTENSION_KEY] = found
    _share_reads_per_request(app)
    ensure_admin(found.users, settings)
    _sweep_orphans(found)
    registry.views.init_app(app)

    context = ExtensionContext(app, settings, found)
    for extension in plan.ordered:
        if extension not in storage_phase:
            extension.register(context)
    found.catalog.validate_defaults()

    api.views.init_app(app)
    web.health.init_app(app)
    web.views.init_app(app)
    commands.init_app(app)
    return app


def _share_reads_per_request(app: Flask) -> None:
    """Each request reads the metadata through one connection and transaction
    (`storage.metadata.database.read_scope`)."""

    def open_scope() -> None:
        open_read_scope()

    def close_scope(_error: BaseException | None) -> None:
        close_read_scope()

    app.before_request(open_scope)
    app.teardown_request(close_scope)


def _sweep_orphans(found: Services) -> None:
    """Clean up after saves that died mid-way; a blob store that is briefly unreachable must
    not keep Docbridge from starting (the next start or `flask storage gc` sweeps again)."""
    try:
        found.storage.sweep_orphans(found.settings.storage.orphan_grace_seconds)
    except StorageUnavailable as error:
        logging.getLogger(__name__).warning("skipped the orphan-blob sweep: %s", error.message)
