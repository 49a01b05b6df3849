"""The composition root's start-up work: the data directory, the instance secret, the
services an app runs with, and the first admin account.

`build_services` is the one place the collaborators are made and wired: the metadata
engine (migrated: core's revisions, the registry's and each enabled extension's, see
`migration_locations`), the blob store an enabled storage extension provides, the storage
service and the stores over it, tokens, OIDC, and the app registry's catalog. Everything
above receives them from here; nothing builds its own.
"""

from __future__ import annotations

import hashlib
import logging
import os
import secrets
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path

import requests

from core.config import Settings, rule_from_settings
from core.errors import ServerError
from core.events import EventBus
from core.extensions import Extension, ExtensionState, migration_folders
from core.oidc import OidcVerifier
from core.tokens import TokenService
from registry.catalog import Catalog
from registry.external import LaunchClient, ProviderStore
from registry.tables import MIGRATIONS as REGISTRY_MIGRATIONS
from server.services import Services
from storage.access import Access
from storage.interface import BlobStore
from storage.locks import LockBroker
from storage.metadata.database import make_engine
from storage.metadata.groups import GroupStore
from storage.metadata.links import LinkStore
from storage.metadata.locks import LockStore
from storage.metadata.migrate import upgrade_to_head
from storage.metadata.passwords import PasswordHasher
from storage.metadata.policies import PolicyStore
from storage.metadata.shares import ShareStore
from storage.metadata.users import UserStore
from storage.policies import Policies
from storage.service import StorageService

log = logging.getLogger(__name__)
SECRET_FILE = "secret.key"  # noqa: S105 - a file name, not a secret


def prepare_data_dir(settings: Settings) -> Path:
    data_dir = settings.data_dir.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    os.chmod(data_dir, 0o700)
    return data_dir


def instance_secret(settings: Settings) -> bytes:
    """The configured secret, else one generated once and kept in the data directory, so
    tokens stay valid across restarts and every worker signs with the same key."""
    if settings.secret_key:
        return settings.secret_key.encode("utf-8")
    path = settings.data_dir.resolve() / SECRET_FILE
    if not path.exists():
        candidate = path.with_name(f"{SECRET_FILE}.{os.getpid()}.tmp")
        descriptor = os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_urlsafe(48))
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(candidate, path)  # fails if another process won the race: use theirs
        except FileExistsError:
            pass
        finally:
            candidate.unlink()
    return path.read_text(encoding="utf-8").strip().encode("utf-8")


def ensure_admin(users: UserStore, settings: Settings) -> None:
    """On first start (no users yet) create the admin; print a generated password once."""
    if users.count():
        return
    password = settings.admin_password
    generated = not password
    if generated:
        password = secrets.token_urlsafe(12)
    users.create(settings.admin_user, password, is_admin=True, display_name="Administrator")
    if generated:
        print(
            f"\nDocbridge created the admin user {settings.admin_user!r} with the password:\n\n"
            f"    {password}\n\nIt is shown only this once. Change it with "
            f"`flask --app app user password {settings.admin_user}`.\n",
            file=sys.stderr,
            flush=True,
        )
    log.info("created the admin user %r", settings.admin_user)


def migration_locations(enabled: Iterable[Extension]) -> list[Path]:
    """The revision folders the metadata store applies besides core's: the app registry's
    (part of the core app, so named here) and those the manifests of `enabled` name."""
    return [REGISTRY_MIGRATIONS, *migration_folders(enabled)]


def build_services(
    settings: Settings,
    secret: bytes,
    blob_store_factories: Mapping[str, Callable[[Settings], BlobStore]],
    extension_states: list[ExtensionState],
    migrations: Sequence[Path],
) -> Services:
    """`migrations` are the folders from `migration_locations`."""
    factory = blob_store_factories.get(settings.storage.backend)
    if factory is None:
        known = ", ".join(sorted(blob_store_factories)) or "none"
        raise ServerError(
            f"storage.backend {settings.storage.backend!r} is not provided by any enabled extension (available: {known})"
        )
    engine = make_engine(settings.effective_database_url)
    upgrade_to_head(engine, migrations)
    events = EventBus()
    blobs = factory(settings)
    storage = StorageService(engine, blobs, settings.storage_id, events, fault_injection=settings.storage.fault_injection)
    providers = ProviderStore(engine, _launch_client(settings))
    shares = ShareStore(engine, settings.storage_id)
    groups = GroupStore(engine)
    passwords = PasswordHasher(settings.password_hashing)
    users = UserStore(engine, storage, passwords)
    access = Access(storage, shares, groups)
    settings_rules = [rule_from_settings(entry, index) for index, entry in enumerate(settings.policies)]
    policies = Policies(settings_rules, PolicyStore(engine), storage=storage, access=access, groups=groups,
                        users=users, events=events)
    return Services(
        settings=settings,
        engine=engine,
        blobs=blobs,
        storage=storage,
        users=users,
        links=LinkStore(engine, settings.storage_id, passwords),
        locks=LockBroker(LockStore(engine, events, settings.storage_id)),
        tokens=TokenService(hashlib.sha256(b"docbridge-access:" + secret).digest(), settings.access_token_ttl_seconds),
        events=events,
        access=access,
        shares=shares,
        groups=groups,
        secret=secret,
        catalog=Catalog(settings.app_registry.mimetypes, external=providers, settings_source=_mimetypes_source()),
        providers=providers,
        policies=policies,
        oidc=OidcVerifier(settings.oidc) if settings.oidc.enabled else None,
        extension_states=extension_states,
    )


def _launch_client(settings: Settings) -> LaunchClient:
    session = requests.Session()
    session.trust_env = False  # providers are called directly, never through an environment proxy
    return LaunchClient(
        session=session,
        secret=settings.app_registry.provider_secret,
        timeout_seconds=settings.app_registry.launch_timeout_seconds,
        public_base=settings.public_base,
        trusted_origins=settings.app_registry.provider_origins,
    )


def _mimetypes_source() -> str:
    """Where the mimetype list came from, to name it in a start-up error."""
    if os.environ.get("DOCBRIDGE_APP_REGISTRY__MIMETYPES"):
        return "environment"
    return os.environ.get("DOCBRIDGE_CONFIG") or "settings"
