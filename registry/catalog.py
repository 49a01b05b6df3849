"""The catalog of app providers and the mimetypes they serve.

Two kinds of provider meet here. Built-in drivers (ONLYOFFICE, the WOPI apps) call
`Catalog.register` at start-up, and again whenever what they serve changes (a WOPI client's
discovery refresh): a later registration under the same name replaces the earlier one.
External providers register over HTTP; their registrations live in the metadata store
(`registry.external.ProviderStore`) so that they survive restarts and every Docbridge
instance sharing the database sees the same set, and one that stops renewing drops out.

What `/app/list` shows and which app `/app/open` picks are pure functions of the admin's
mimetype list and the live providers (`build_listing`, `resolve_app`); the `Catalog` only
gathers their inputs.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from core.config import ConfigError, MimetypeSettings
from core.errors import NotFound
from core.filetypes import OCTET_STREAM, mimetypes_of
from registry.providers import AppDriver, AppProvider

log = logging.getLogger(__name__)

# type "/" subtype, RFC 6838 restricted-name characters, no parameters.
_MIMETYPE = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$")
_EXTENSION = re.compile(r"^[a-z0-9][a-z0-9_+-]{0,15}$")
# Never offered for opening: an app registered for it would be offered for every unknown file.
NEVER_REGISTERED = frozenset({OCTET_STREAM, "httpd/unix-directory"})


def _listed(extension: str, name: str, description: str, *, allow_creation: bool = False) -> MimetypeSettings:
    return MimetypeSettings(mimetypes_of(extension)[0], extension, name, description, allow_creation=allow_creation)


# The built-in list, in the spirit of oCIS's defaults; an admin's list replaces it whole.
DEFAULT_MIMETYPES: tuple[MimetypeSettings, ...] = (
    _listed("pdf", "PDF", "PDF document"),
    _listed("odt", "OpenDocument", "OpenDocument text document", allow_creation=True),
    _listed("ods", "OpenSpreadsheet", "OpenDocument spreadsheet document", allow_creation=True),
    _listed("odp", "OpenPresentation", "OpenDocument presentation document", allow_creation=True),
    _listed("docx", "Microsoft Word", "Microsoft Word document", allow_creation=True),
    _listed("xlsx", "Microsoft Excel", "Microsoft Excel document", allow_creation=True),
    _listed("pptx", "Microsoft PowerPoint", "Microsoft PowerPoint document", allow_creation=True),
    _listed("doc", "Microsoft Word 97-2003", "Microsoft Word 97-2003 document"),
    _listed("xls", "Microsoft Excel 97-2003", "Microsoft Excel 97-2003 document"),
    _listed("ppt", "Microsoft PowerPoint 97-2003", "Microsoft PowerPoint 97-2003 document"),
    _listed("csv", "CSV", "Comma-separated values"),
    _listed("ipynb", "Jupyter Notebook", "Jupyter Notebook"),
    _listed("md", "Markdown file", "Markdown file", allow_creation=True),
    _listed("txt", "Text file", "Plain text file", allow_creation=True),
)


@dataclass(frozen=True, slots=True)
class Registration:
    """A live provider: what `/app/list` shows, who launches it, and when it registered."""

    provider: AppProvider
    driver: AppDriver
    builtin: bool


@dataclass(frozen=True, slots=True)
class ListedProvider:
    name: str
    icon: str = ""
    description: str = ""
    product_name: str = ""
    capability: str = ""
    target_ext: str = ""

    def to_json(self) -> dict[str, str]:
        return _omit_empty(
            {
                "name": self.name,
                "icon": self.icon,
                "description": self.description,
                "product_name": self.product_name,
                "capability": self.capability,
                "target_ext": self.target_ext,
            }
        )


@dataclass(frozen=True, slots=True)
class ListedMimetype:
    mime_type: str
    app_providers: tuple[ListedProvider, ...]
    default_application: str
    ext: str = ""
    name: str = ""
    description: str = ""
    icon: str = ""
    allow_creation: bool = False

    def to_json(self) -> dict[str, Any]:
        """The oCIS MimeTypeInfo shape: empty and false fields are left out."""
        body: dict[str, Any] = _omit_empty(
            {
                "mime_type": self.mime_type,
                "ext": self.ext,
                "name": self.name,
                "description": self.description,
                "icon": self.icon,
                "default_application": self.default_application,
            }
        )
        if self.allow_creation:
            body["allow_creation"] = True
        body["app_providers"] = [provider.to_json() for provider in self.app_providers]
        return body


def _omit_empty(values: Mapping[str, str]) -> dict[str, str]:
    return {key: value for key, value in values.items() if value}


# --- pure rules --------------------------------------------------------------------------


def provider_order(provider: AppProvider) -> tuple[int, str]:
    """Higher priority first, then name (case-sensitive, as names are compared exactly)."""
    return (-provider.priority, provider.name)


def serving(mimetype: str, providers: Iterable[AppProvider]) -> list[AppProvider]:
    """The providers that serve exactly `mimetype`, best first."""
    return sorted((p for p in providers if mimetype in p.mimetypes), key=provider_order)


def resolve_app(
    mimetype: str,
    app_name: str,
    providers: Sequence[AppProvider],
    default_app: str = "",
) -> AppProvider:
    """Pick the app that opens a file of `mimetype`.

    The named app when `app_name` is given (exact, case-sensitive), else the mimetype's
    configured `default_app` when it is live and serves the mimetype, else the first by
    priority then name. NotFound carries the contract's messages.
    """
    candidates = serving(mimetype, providers)
    if app_name:
        for provider in candidates:
            if provider.name == app_name:
                return provider
        raise NotFound(f"error: not found: app '{app_name}' not found")
    if not candidates:
        raise NotFound("no app providers found")
    for provider in candidates:
        if default_app and provider.name == default_app:
            return provider
    return candidates[0]


def build_listing(
    configured: Sequence[MimetypeSettings],
    providers: Sequence[AppProvider],
) -> list[ListedMimetype]:
    """The `/app/list` entries.

    `providers` are in registration order. Mimetypes come in the admin's order, then those
    that providers declared and the list lacks, in registration order. A mimetype no live
    provider serves is left out, so `default_application` always names one of the entry's
    providers.
    """
    order: list[str] = []
    settings_of: dict[str, MimetypeSettings] = {}
    for entry in configured:
        if entry.mime_type not in settings_of:
            settings_of[entry.mime_type] = entry
            order.append(entry.mime_type)
    for provider in providers:
        for mimetype in provider.mimetypes:
            if mimetype not in settings_of and mimetype not in order:
                order.append(mimetype)
    listing: list[ListedMimetype] = []
    for mimetype in order:
        candidates = serving(mimetype, providers)
        if not candidates:
            continue
        entry = settings_of.get(mimetype) or MimetypeSettings(mimetype)
        default = resolve_app(mimetype, "", candidates, entry.default_app)
        listing.append(
            ListedMimetype(
                mime_type=mimetype,
                ext=entry.extension,
                name=entry.name,
                description=entry.description,
                icon=entry.icon,
                allow_creation=entry.allow_creation,
                default_application=default.name,
                app_providers=tuple(
                    ListedProvider(
                        name=p.name,
                        icon=p.icon,
                        description=p.description,
                        product_name=p.product_name,
                        capability=p.capability,
                        target_ext=p.target_ext.get(mimetype, ""),
                    )
                    for p in candidates
                ),
            )
        )
    return listing


def cleaned_mimetypes(mimetypes: Iterable[str]) -> tuple[str, ...]:
    """Lower-cased, de-duplicated, in order, without the types never offered for opening."""
    seen: list[str] = []
    for mimetype in mimetypes:
        value = mimetype.strip().lower()
        if value and value not in NEVER_REGISTERED and value not in seen:
            seen.append(value)
    return tuple(seen)


def is_mimetype(text: str) -> bool:
    return bool(_MIMETYPE.match(text))


def check_mimetype_settings(entries: Sequence[MimetypeSettings], source: str) -> None:
    """Reject a malformed `app_registry.mimetypes` list with the entry that is wrong.

    (Unknown keys and wrong value types are already refused by `core.config`.)
    """
    seen: set[str] = set()
    for index, entry in enumerate(entries):
        key = f"app_registry.mimetypes[{index}]"
        if not is_mimetype(entry.mime_type):
            raise ConfigError(source, f"{key}.mime_type", f"{entry.mime_type!r} is not a mimetype (type/subtype)")
        if entry.mime_type in NEVER_REGISTERED:
            raise ConfigError(source, f"{key}.mime_type", f"{entry.mime_type} cannot be offered for opening")
        if entry.mime_type in seen:
            raise ConfigError(source, f"{key}.mime_type", f"{entry.mime_type} is listed twice")
        seen.add(entry.mime_type)
        if entry.extension and not _EXTENSION.match(entry.extension):
            raise ConfigError(
                source, f"{key}.extension", f"{entry.extension!r} must be a lower-case extension without the dot"
            )
        if entry.allow_creation and not entry.extension:
            raise ConfigError(source, f"{key}.extension", "allow_creation needs an extension for the new file")


def check_default_apps(entries: Sequence[MimetypeSettings], providers: Sequence[AppProvider], source: str) -> None:
    """Every `default_app` must name a provider that serves that entry's mimetype."""
    for index, entry in enumerate(entries):
        if not entry.default_app:
            continue
        if any(p.name == entry.default_app for p in serving(entry.mime_type, providers)):
            continue
        known = sorted({p.name for p in providers})
        raise ConfigError(
            source,
            f"app_registry.mimetypes[{index}].default_app",
            f"no provider named {entry.default_app!r} serves {entry.mime_type} "
            f"(registered apps: {', '.join(known) or 'none'})",
        )


# --- the catalog -------------------------------------------------------------------------


class ExternalProviders(Protocol):
    """What the catalog needs from the store of external registrations."""

    def live(self, now: datetime) -> list[Registration]:
        """Registrations not expired at `now`, in first-registration order."""
        ...


class Catalog:
    """Providers and mimetypes, built-in and external. Safe to share between threads."""

    def __init__(
        self,
        mimetypes: Sequence[MimetypeSettings] | None,
        *,
        external: ExternalProviders | None = None,
        settings_source: str = "settings",
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self._configured = tuple(DEFAULT_MIMETYPES if mimetypes is None else mimetypes)
        self._source = settings_source
        check_mimetype_settings(self._configured, settings_source)
        self._external = external
        self._clock = clock or (lambda: datetime.now(UTC))
        self._lock = threading.Lock()
        # name -> registration; dicts keep insertion order, which is registration order.
        self._builtin: dict[str, Registration] = {}

    def now(self) -> datetime:
        return self._clock()

    @property
    def configured_mimetypes(self) -> tuple[MimetypeSettings, ...]:
        return self._configured

    def register(self, provider: AppProvider, driver: AppDriver) -> None:
        """Add a built-in provider, or replace the one of the same name (keeping its place)."""
        if not provider.name:
            raise ValueError("an app provider needs a name")
        mimetypes = cleaned_mimetypes(provider.mimetypes)
        dropped = set(provider.mimetypes) - set(mimetypes)
        if dropped & NEVER_REGISTERED:
            log.info("app %s: not registered for %s", provider.name, ", ".join(sorted(dropped & NEVER_REGISTERED)))
        cleaned = _replace_mimetypes(provider, mimetypes)
        with self._lock:
            self._builtin[provider.name] = Registration(cleaned, driver, builtin=True)

    def builtin_names(self) -> frozenset[str]:
        with self._lock:
            return frozenset(self._builtin)

    def registrations(self) -> list[Registration]:
        """Live providers in registration order: built-in ones, then external ones."""
        with self._lock:
            found = list(self._builtin.values())
        if self._external is not None:
            taken = {r.provider.name for r in found}
            found.extend(r for r in self._external.live(self._clock()) if r.provider.name not in taken)
        return found

    def external_names(self) -> list[str]:
        """Names of the live providers that registered over HTTP."""
        return [r.provider.name for r in self.registrations() if not r.builtin]

    def list_mimetypes(self, usable: Callable[[str], bool] = lambda _name: True) -> list[ListedMimetype]:
        """The `/app/list` entries, of the apps `usable` lets the caller use."""
        return build_listing(self._configured, [r.provider for r in self.registrations() if usable(r.provider.name)])

    def default_app_for(self, mimetype: str) -> str:
        for entry in self._configured:
            if entry.mime_type == mimetype:
                return entry.default_app
        return ""

    def resolve(self, mimetype: str, app_name: str = "", usable: Callable[[str], bool] = lambda _name: True) -> Registration:
        """The registration that opens `mimetype` (see `resolve_app`) among the apps `usable`
        lets the caller use; NotFound otherwise, for an app the caller may not use too."""
        registrations = [r for r in self.registrations() if usable(r.provider.name)]
        chosen = resolve_app(mimetype, app_name, [r.provider for r in registrations], self.default_app_for(mimetype))
        for registration in registrations:
            if registration.provider is chosen:
                return registration
        raise NotFound("no app providers found")  # pragma: no cover - chosen comes from the list

    def validate_defaults(self) -> None:
        """Start-up check, once every extension has registered: raise ConfigError for a
        `default_app` that no live provider serves."""
        check_default_apps(self._configured, [r.provider for r in self.registrations()], self._source)


def _replace_mimetypes(provider: AppProvider, mimetypes: tuple[str, ...]) -> AppProvider:
    if mimetypes == provider.mimetypes:
        return provider
    return AppProvider(
        name=provider.name,
        mimetypes=mimetypes,
        icon=provider.icon,
        description=provider.description,
        product_name=provider.product_name,
        capability=provider.capability,
        priority=provider.priority,
        target_ext=provider.target_ext,
        enforces_limited_roles=provider.enforces_limited_roles,
    )
