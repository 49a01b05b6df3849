"""Typed, frozen settings, validated once at start-up.

Layers, lowest first: the dataclass defaults, the YAML file named by ``DOCBRIDGE_CONFIG``,
``DOCBRIDGE_*`` environment variables, then the overrides a test passes to ``create_app``.
A nested key is reached from the environment with a double underscore:
``DOCBRIDGE_ONLYOFFICE__JWT_SECRET`` sets ``onlyoffice.jwt_secret``. Values of list or
mapping keys are parsed as YAML when they come from the environment.

Every error names where the value came from, the dotted key and the reason, and stops the
start: request code never meets a bad setting.
"""

from __future__ import annotations

import collections.abc
import dataclasses
import enum
import os
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import yaml

from core.passwords import DEFAULT_METHOD, method_error
from core.policy import Rule, RuleError, make_rule

ENV_PREFIX = "DOCBRIDGE_"
# Read by gunicorn.conf.py and the Makefile, not by the application.
PROCESS_ENV_KEYS = frozenset({"CONFIG", "HOST", "PORT", "WORKERS", "THREADS", "ACCESS_LOG", "FORWARDED_ALLOW_IPS"})


class ConfigError(Exception):
    def __init__(self, source: str, key: str, reason: str) -> None:
        super().__init__(f"{source}: {key}: {reason}")
        self.source = source
        self.key = key
        self.reason = reason


@dataclass(frozen=True, slots=True)
class OidcSettings:
    issuer: str = ""
    audience: str = ""
    jwks_url: str = ""
    algorithms: tuple[str, ...] = ("RS256",)
    username_claim: str = "preferred_username"
    client_id: str = ""
    auto_create_users: bool = True
    # The claim that lists a user's groups; synced at each login. "" to ignore groups.
    groups_claim: str = "groups"

    @property
    def enabled(self) -> bool:
        return bool(self.issuer)


@dataclass(frozen=True, slots=True)
class MimetypeSettings:
    mime_type: str
    extension: str = ""
    name: str = ""
    description: str = ""
    icon: str = ""
    default_app: str = ""
    allow_creation: bool = False


@dataclass(frozen=True, slots=True)
class RegistrySettings:
    # None keeps the built-in list; an admin's list replaces it whole.
    mimetypes: tuple[MimetypeSettings, ...] | None = None
    provider_secret: str = ""
    max_provider_ttl_seconds: int = 600
    launch_timeout_seconds: float = 10.0
    # Origins (scheme://host:port) external providers may register and be called on although
    # they are loopback or link-local addresses: providers run next to Docbridge.
    provider_origins: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class OnlyofficeSettings:
    name: str = "OnlyOffice"
    document_server_url: str = ""
    document_server_internal_url: str = ""
    docbridge_url_for_document_server: str = ""
    jwt: bool = True
    jwt_secret: str = ""
    jwt_header: str = "Authorization"
    jwt_leeway_seconds: int = 60
    max_download_bytes: int = 104_857_600
    forcesave: bool = True
    # Lossy-edit formats (odt, ods, odp, rtf, txt, csv, …) to edit in place; the others open
    # read-only with "convert and edit".
    lossy_edit: tuple[str, ...] = ()
    verify_tls: bool = True
    timeout_seconds: float = 120.0
    icon: str = ""
    priority: int = 0
    # How long an editing session's lock lasts without news of its editors; the editor
    # page renews it every quarter of this while it is open.
    session_lock_seconds: int = 900

    @property
    def enabled(self) -> bool:
        return bool(self.document_server_url)


@dataclass(frozen=True, slots=True)
class WopiAppSettings:
    name: str
    discovery_url: str
    icon: str = ""
    refresh_seconds: int = 3600
    priority: int = 0
    # Which CheckFileInfo properties the client gets beyond the validator's schema
    # (wopi/profiles.py); "auto" reads it from the client's discovery.
    profile: Literal["auto", "collabora", "microsoft", "onlyoffice", "validator"] = "auto"


@dataclass(frozen=True, slots=True)
class WopiSettings:
    apps: tuple[WopiAppSettings, ...] = ()
    proof_keys: Literal["required", "if-published", "off"] = "if-published"
    lock_seconds: int = 1800
    # A PutFile carrying the lock its app and user released (or let expire) less than this
    # long ago is still accepted: clients race their last save against Unlock.
    unlock_grace_seconds: float = 10.0
    verify_tls: bool = True
    timeout_seconds: float = 10.0


@dataclass(frozen=True, slots=True)
class StorageSettings:
    backend: str = "local"
    webdav_url: str = ""
    webdav_username: str = ""
    webdav_password: str = ""
    max_upload_bytes: int = 0
    orphan_grace_seconds: int = 3600
    # For the data-safety tests only: "exit-after-blob" kills the process between the blob
    # rename and the metadata commit.
    fault_injection: Literal["", "exit-after-blob"] = ""


@dataclass(frozen=True, slots=True)
class SharingSettings:
    # Whether the share dialog's search shows e-mail addresses.
    show_email: bool = False


@dataclass(frozen=True, slots=True)
class AppAccessSettings:
    """Who may use an app (``apps.<app name>``). Empty lists: everybody."""

    # Members of these groups may open files with the app; nobody else sees it.
    groups: tuple[str, ...] = ()
    # Members of these groups may edit with it; the others open it read-only.
    edit_groups: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class PolicySettings:
    """One secure-view or watermark rule (``policies[]``); see core/policy.py and
    docs/policies.md. Conditions left out match everyone."""

    name: str
    groups: tuple[str, ...] = ()
    share_roles: tuple[str, ...] = ()
    links: Literal["any", "password", "no_download"] | None = None
    folders: tuple[str, ...] = ()
    secure_view: bool = False
    watermark: str = ""


@dataclass(frozen=True, slots=True)
class ExtensionSettings:
    required: tuple[str, ...] = ()
    disabled: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Settings:
    public_url: str = "http://127.0.0.1:8080"
    data_dir: Path = Path("data")
    database_url: str = ""
    secret_key: str = ""
    storage_id: str = "docbridge"
    admin_user: str = "admin"
    admin_password: str = ""
    basic_auth: bool = True
    password_hashing: str = DEFAULT_METHOD
    access_token_ttl_seconds: int = 36_000
    session_cookie_secure: bool = False
    # Extra origins the web UI may frame and post launch forms to (apps of external providers).
    web_app_origins: tuple[str, ...] = ()
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    oidc: OidcSettings = field(default_factory=OidcSettings)
    app_registry: RegistrySettings = field(default_factory=RegistrySettings)
    onlyoffice: OnlyofficeSettings = field(default_factory=OnlyofficeSettings)
    wopi: WopiSettings = field(default_factory=WopiSettings)
    storage: StorageSettings = field(default_factory=StorageSettings)
    extensions: ExtensionSettings = field(default_factory=ExtensionSettings)
    sharing: SharingSettings = field(default_factory=SharingSettings)
    # app name (as /app/list shows it) -> who may use and edit with it
    apps: Mapping[str, AppAccessSettings] = field(default_factory=dict)
    # Secure view and watermark rules, in the order they apply (before the admins' own).
    policies: tuple[PolicySettings, ...] = ()

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'metadata.sqlite3').resolve()}"

    @property
    def public_base(self) -> str:
        return self.public_url.rstrip("/")


# --- loading ---------------------------------------------------------------------------


def load_settings(
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """Build the settings from all layers; raise ConfigError naming file, key and reason."""
    environ = os.environ if environ is None else environ
    layers: list[tuple[str, Mapping[str, Any]]] = []
    config_path = environ.get(ENV_PREFIX + "CONFIG")
    if config_path:
        layers.append((config_path, _read_yaml(config_path)))
    env_values = _environment_layer(environ)
    if env_values:
        layers.append(("environment", env_values))
    if overrides:
        layers.append(("overrides", overrides))
    merged: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for source, layer in layers:
        _merge(merged, sources, layer, source, "")
    settings: Settings = _build(Settings, merged, sources, "")
    return settings


def _read_yaml(path: str) -> Mapping[str, Any]:
    try:
        with open(path, encoding="utf-8") as handle:
            data = yaml.safe_load(handle)
    except OSError as error:
        raise ConfigError(path, "-", f"cannot read the file: {error.strerror}") from error
    except yaml.YAMLError as error:
        raise ConfigError(path, "-", f"not valid YAML: {error}") from error
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(path, "-", "the top level must be a mapping of keys")
    return data


def _environment_layer(environ: Mapping[str, str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name, raw in environ.items():
        if not name.startswith(ENV_PREFIX):
            continue
        suffix = name[len(ENV_PREFIX) :]
        if suffix in PROCESS_ENV_KEYS:
            continue
        path = [part.lower() for part in suffix.split("__")]
        target = values
        for part in path[:-1]:
            target = target.setdefault(part, {})
            if not isinstance(target, dict):
                raise ConfigError("environment", name, "conflicts with another variable")
        target[path[-1]] = _EnvText(raw)
    return values


class _EnvText(str):
    """A value from the environment: still text, to be cast by the field's type."""


def _merge(
    merged: dict[str, Any], sources: dict[str, str], layer: Mapping[str, Any], source: str, prefix: str
) -> None:
    for key, value in layer.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, Mapping) and isinstance(merged.get(key), dict):
            _merge(merged[key], sources, value, source, dotted + ".")
            continue
        if isinstance(value, Mapping):
            merged[key] = {}
            _merge(merged[key], sources, value, source, dotted + ".")
            continue
        merged[key] = value
        sources[dotted] = source


def _build(cls: type, raw: Mapping[str, Any], sources: Mapping[str, str], prefix: str) -> Any:
    hints = typing.get_type_hints(cls)
    fields = {item.name: item for item in dataclasses.fields(cls)}
    for key in raw:
        if key not in fields:
            raise ConfigError(_source_of(sources, prefix + str(key)), prefix + str(key), "unknown key")
    values: dict[str, Any] = {}
    for name, item in fields.items():
        dotted = prefix + name
        if name in raw:
            values[name] = _cast(hints[name], raw[name], sources, dotted)
            check = _CHECKS.get(dotted)
            if check is not None:
                check(values[name], sources, dotted)
        elif item.default is dataclasses.MISSING and item.default_factory is dataclasses.MISSING:
            raise ConfigError(_source_of(sources, prefix.rstrip(".")), dotted, "required key is missing")
    return cls(**values)


def _source_of(sources: Mapping[str, str], dotted: str) -> str:
    while dotted:
        if dotted in sources:
            return sources[dotted]
        listed = dotted.split("[", 1)[0]  # an entry of a top-level list: the list's source
        if listed in sources:
            return sources[listed]
        for key, source in sources.items():
            if key.startswith(dotted + ".") or key.startswith(dotted + "["):
                return source
        dotted = dotted.rpartition(".")[0]
    return "settings"


def _cast(hint: Any, value: Any, sources: Mapping[str, str], dotted: str) -> Any:
    source = _source_of(sources, dotted)
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if isinstance(value, _EnvText) and (origin in (tuple, list) or dataclasses.is_dataclass(hint)):
        parsed = _yaml_value(value, source, dotted)
        # A plain "a,b" from the environment is a list of words, not one word.
        value = _EnvText(parsed) if isinstance(parsed, str) else parsed
    if origin in (types.UnionType, typing.Union):
        if value is None or (isinstance(value, _EnvText) and value == "" and type(None) in args):
            if type(None) in args:
                return None
        inner = [arg for arg in args if arg is not type(None)]
        return _cast(inner[0], value, sources, dotted)
    if origin is Literal:
        if value not in args:
            allowed = ", ".join(repr(arg) for arg in args)
            raise ConfigError(source, dotted, f"must be one of {allowed}, not {value!r}")
        return str(value)
    if origin is tuple:
        if isinstance(value, str) and not isinstance(value, _EnvText):
            raise ConfigError(source, dotted, "must be a list")
        if isinstance(value, _EnvText):
            value = [part.strip() for part in value.split(",") if part.strip()]
        if not isinstance(value, (list, tuple)):
            raise ConfigError(source, dotted, "must be a list")
        inner_hint = args[0]
        return tuple(
            _cast(inner_hint, item, sources, f"{dotted}[{index}]") for index, item in enumerate(value)
        )
    if origin in (dict, Mapping, collections.abc.Mapping):
        if not isinstance(value, Mapping):
            raise ConfigError(source, dotted, "must be a mapping")
        key_hint, value_hint = args
        return types.MappingProxyType({
            _cast(key_hint, key, sources, dotted): _cast(value_hint, item, sources, f"{dotted}.{key}")
            for key, item in value.items()
        })
    if dataclasses.is_dataclass(hint):
        if not isinstance(value, Mapping):
            raise ConfigError(source, dotted, "must be a mapping of keys")
        return _build(typing.cast(type, hint), value, sources, dotted + ".")
    if hint is bool:
        return _cast_bool(value, source, dotted)
    if hint in (int, float):
        if isinstance(value, bool):
            raise ConfigError(source, dotted, f"must be a number, not {value!r}")
        try:
            number = hint(value)
        except (TypeError, ValueError):
            raise ConfigError(source, dotted, f"must be a number, not {value!r}") from None
        if number < 0:
            raise ConfigError(source, dotted, "must not be negative")
        return number
    if hint is str:
        if not isinstance(value, (str, int, float)) or isinstance(value, bool):
            raise ConfigError(source, dotted, f"must be text, not {type(value).__name__}")
        return str(value)
    if hint is Path:
        if not isinstance(value, str) or not value:
            raise ConfigError(source, dotted, "must be a path")
        return Path(value)
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        try:
            return hint(value)
        except ValueError:
            raise ConfigError(source, dotted, f"unknown value {value!r}") from None
    raise ConfigError(source, dotted, f"unsupported setting type {hint!r}")


def _cast_bool(value: Any, source: str, dotted: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise ConfigError(source, dotted, f"must be true or false, not {value!r}")


def is_origin(text: str) -> bool:
    """``http(s)://host[:port]``, optionally with a final ``/``: no path, query or credentials."""
    try:
        parts = urlsplit(text.strip())
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        return False
    return (
        parts.scheme.lower() in ("http", "https")
        and bool(parts.hostname)
        and parts.username is None
        and parts.password is None
        and parts.path in ("", "/")
        and not parts.query
        and not parts.fragment
    )


def _check_origins(value: tuple[str, ...], sources: Mapping[str, str], dotted: str) -> None:
    for index, origin in enumerate(value):
        key = f"{dotted}[{index}]"
        if not is_origin(origin):
            raise ConfigError(
                _source_of(sources, key), key, f"{origin!r} is not an origin: http(s)://host[:port], nothing after it"
            )


def _check_policies(value: tuple[PolicySettings, ...], sources: Mapping[str, str], dotted: str) -> None:
    """Each rule as `core.policy.make_rule` checks it, and names unique."""
    seen: set[str] = set()
    for index, entry in enumerate(value):
        key = f"{dotted}[{index}]"
        try:
            rule = rule_from_settings(entry)
        except RuleError as error:
            raise ConfigError(_source_of(sources, dotted), f"{key}.{error.key}", error.reason) from None
        if rule.name in seen:
            raise ConfigError(_source_of(sources, dotted), f"{key}.name", f"another rule is named {rule.name!r}")
        seen.add(rule.name)


def rule_from_settings(entry: PolicySettings, index: int = 0) -> Rule:
    """The rule a ``policies[]`` entry describes (read-only: it lives in the settings)."""
    return make_rule(
        name=entry.name, rule_id=f"settings:{index}", groups=entry.groups, share_roles=entry.share_roles,
        links=entry.links, folders=entry.folders, secure_view=entry.secure_view, watermark=entry.watermark,
        read_only=True,
    )


def _check_password_hashing(value: str, sources: Mapping[str, str], dotted: str) -> None:
    reason = method_error(value)
    if reason is not None:
        raise ConfigError(_source_of(sources, dotted), dotted, reason)


# Checks of single keys beyond their type, run as the key is read.
_CHECKS: dict[str, Callable[[Any, Mapping[str, str], str], None]] = {
    "password_hashing": _check_password_hashing,
    "app_registry.provider_origins": _check_origins,
    "policies": _check_policies,
}


def _yaml_value(value: str, source: str, dotted: str) -> Any:
    try:
        return yaml.safe_load(value)
    except yaml.YAMLError as error:
        raise ConfigError(source, dotted, f"not valid YAML: {error}") from error
