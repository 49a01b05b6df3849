"""The services one Docbridge app runs with, built once by `server.bootstrap.build_services`.

Views reach them through `services()`; hosts and drivers are handed the collaborators they
use. Nothing keeps them in module globals, so two apps in one process (as in the tests)
never share state.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from flask import Flask, current_app
from sqlalchemy.engine import Engine

from core.config import Settings
from core.events import EventBus
from core.extensions import ExtensionState
from core.oidc import OidcVerifier
from core.tokens import TokenService
from registry.catalog import Catalog
from registry.external import ProviderStore
from storage.access import Access
from storage.interface import BlobStore, Storage
from storage.locks import LockBroker
from storage.metadata.groups import GroupStore
from storage.metadata.links import LinkStore
from storage.metadata.shares import ShareStore
from storage.metadata.users import UserStore
from storage.policies import Policies

EXTENSION_KEY = "docbridge"


@dataclass(frozen=True, slots=True)
class HealthReport:
    healthy: bool
    detail: str = ""


@dataclass(slots=True)
class Services:
    settings: Settings
    engine: Engine
    blobs: BlobStore
    storage: Storage
    users: UserStore
    links: LinkStore
    locks: LockBroker
    tokens: TokenService
    events: EventBus
    access: Access
    shares: ShareStore
    groups: GroupStore
    secret: bytes
    catalog: Catalog
    providers: ProviderStore
    policies: Policies
    oidc: OidcVerifier | None = None
    extension_states: list[ExtensionState] = field(default_factory=list)
    # name -> check; shown in /readyz details. A failing check here does not make the
    # instance unready (a peer being down is not our readiness), it is reported.
    health_checks: dict[str, Callable[[], HealthReport]] = field(default_factory=dict)


def services() -> Services:
    return services_of(current_app)


def services_of(app: Flask) -> Services:
    found: Services = app.extensions[EXTENSION_KEY]
    return found
