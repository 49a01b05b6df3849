"""Extensions: app drivers, storage backends and event listeners, built-in or third-party.

Each extension is an object (usually a module) with a `MANIFEST` and a
``register(context)`` function. Built-in ones are handed to the loader by ``app.py``;
third-party ones are found through the ``docbridge.extensions`` entry-point group.

The loader disables, with a reason that ``flask extensions list`` shows, an extension that is
switched off in the settings, that requires a missing or disabled extension, that requires a
version outside the range it names, or that sits in a cycle of ``requires``/``after``/``before``.
The rest are registered in dependency order (ties broken by id). An extension named in
``extensions.required`` that ends up disabled stops the start with its reason.

An extension with tables of its own ships their Alembic revisions in a folder its manifest
names (`Manifest.migrations`); the metadata store applies the folders of the enabled
extensions with its own at start (see `migration_folders`).
"""

from __future__ import annotations

import enum
import heapq
import logging
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

if TYPE_CHECKING:
    from core.config import Settings

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "docbridge.extensions"
CORE_ID = "docbridge"
CORE_VERSION = "0.1.0"


class ExtensionKind(enum.StrEnum):
    APP_DRIVER = "app-driver"
    STORAGE = "storage"
    LISTENER = "event-listener"


@dataclass(frozen=True, slots=True)
class Manifest:
    """What an extension declares about itself, in the spirit of ownCloud's ``info.xml``.

    `migrations` names the folder of the extension's Alembic revisions, relative to the
    folder of the module that holds the manifest (``"migrations"`` in ``onlyoffice/extension.py``
    is ``onlyoffice/migrations/``); empty when the extension has no tables. The revisions
    form the extension's own branch: the first carries a branch label (the extension's id)
    and ``depends_on`` the core revision whose tables it needs (``"0001"`` at least), so
    disabling or removing the extension never leaves core without its head. While the
    extension is enabled, its revisions are applied at start with core's.
    """

    id: str
    name: str
    version: str
    licence: str
    kind: ExtensionKind
    description: str = ""
    # extension id -> version range, e.g. {"docbridge": ">=0.1,<1"}
    requires: Mapping[str, str] = field(default_factory=dict)
    after: tuple[str, ...] = ()
    before: tuple[str, ...] = ()
    migrations: str = ""


@dataclass(slots=True)
class StorageContext:
    """What a storage extension gets: the settings, and where to offer its blob store
    (``backend name -> factory``). Storage extensions register before the services exist."""

    settings: Settings
    blob_store_factories: dict[str, Callable[[Settings], Any]] = field(default_factory=dict)


class Extension(Protocol):
    """An extension module: its manifest and how it wires itself in. Storage extensions
    are handed a `StorageContext`; the others the app's own context (``server.extensions``)."""

    MANIFEST: Manifest

    def register(self, context: Any) -> None: ...


class ExtensionError(Exception):
    pass


@dataclass(frozen=True, slots=True)
class ExtensionState:
    manifest: Manifest
    enabled: bool
    reason: str
    source: str  # "built-in" or the entry point's distribution


@dataclass(slots=True)
class LoadPlan:
    ordered: list[Extension]
    states: list[ExtensionState]


def discover_entry_points() -> list[tuple[Extension, str]]:
    found: list[tuple[Extension, str]] = []
    for entry_point in importlib_metadata.entry_points(group=ENTRY_POINT_GROUP):
        extension = entry_point.load()
        distribution = entry_point.dist.name if entry_point.dist else entry_point.value
        found.append((extension, distribution))
    return found


def migration_folders(enabled: Iterable[Extension]) -> list[Path]:
    """The migration folders the manifests of `enabled` name, resolved beside each
    extension's module. A named folder that is not there stops the start: the extension
    would run without its tables."""
    folders: list[Path] = []
    for extension in enabled:
        manifest = extension.MANIFEST
        if not manifest.migrations:
            continue
        module_file = getattr(extension, "__file__", None) or getattr(
            sys.modules.get(type(extension).__module__), "__file__", None
        )
        if module_file is None:
            raise ExtensionError(f"extension {manifest.id!r} names migrations but its module has no file to find them beside")
        folder = Path(module_file).resolve().parent / manifest.migrations
        if not folder.is_dir():
            raise ExtensionError(f"extension {manifest.id!r}: its migrations folder {folder} does not exist")
        folders.append(folder)
    return folders


def plan_extensions(
    builtin: Iterable[Extension],
    third_party: Iterable[tuple[Extension, str]],
    *,
    disabled_ids: Iterable[str] = (),
    required_ids: Iterable[str] = (),
) -> LoadPlan:
    """Decide which extensions load and in which order. Pure: no registering happens here."""
    candidates: dict[str, tuple[Extension, str]] = {}
    reasons: dict[str, str] = {}
    sources: dict[str, str] = {}
    manifests: dict[str, Manifest] = {}
    for extension, source in [(item, "built-in") for item in builtin] + list(third_party):
        manifest = extension.MANIFEST
        if manifest.id in candidates or manifest.id == CORE_ID:
            key = f"{manifest.id}@{source}"
            manifests[key] = manifest
            sources[key] = source
            reasons[key] = f"another extension already has the id {manifest.id!r}"
            continue
        candidates[manifest.id] = (extension, source)
        manifests[manifest.id] = manifest
        sources[manifest.id] = source
    for ext_id in disabled_ids:
        if ext_id in candidates:
            reasons[ext_id] = "disabled in the settings (extensions.disabled)"

    def enabled() -> list[str]:
        return [ext_id for ext_id in candidates if ext_id not in reasons]

    changed = True
    while changed:
        changed = False
        for ext_id in enabled():
            problem = _dependency_problem(manifests[ext_id], set(enabled()), manifests)
            if problem:
                reasons[ext_id] = problem
                changed = True
        if not changed:
            cycle = _find_cycle(enabled(), manifests)
            if cycle:
                described = " → ".join(cycle + [cycle[0]])
                for ext_id in cycle:
                    reasons[ext_id] = f"in a dependency cycle: {described}"
                changed = True

    order = _topological_order(enabled(), manifests)
    states = [
        ExtensionState(manifests[key], key not in reasons, reasons.get(key, ""), sources[key])
        for key in manifests
    ]
    for ext_id in required_ids:
        if ext_id not in candidates:
            raise ExtensionError(f"extension {ext_id!r} is required by the settings but is not installed")
        if ext_id in reasons:
            raise ExtensionError(f"extension {ext_id!r} is required by the settings but is disabled: {reasons[ext_id]}")
    return LoadPlan([candidates[ext_id][0] for ext_id in order], states)


def _dependency_problem(manifest: Manifest, enabled: set[str], manifests: Mapping[str, Manifest]) -> str:
    for dependency, spec_text in manifest.requires.items():
        if dependency == CORE_ID:
            found_version = CORE_VERSION
        elif dependency not in manifests or "@" in dependency:
            return f"requires {dependency!r}, which is not installed"
        elif dependency not in enabled:
            return f"requires {dependency!r}, which is disabled"
        else:
            found_version = manifests[dependency].version
        try:
            spec = SpecifierSet(spec_text or "")
            if Version(found_version) not in spec:
                return f"requires {dependency!r} {spec_text}, but {found_version} is installed"
        except (InvalidSpecifier, InvalidVersion) as error:
            return f"cannot read the version requirement on {dependency!r}: {error}"
    return ""


def _edges(ids: Iterable[str], manifests: Mapping[str, Manifest]) -> dict[str, set[str]]:
    """first -> {those that must come after it}, among `ids` only."""
    present = set(ids)
    edges: dict[str, set[str]] = {ext_id: set() for ext_id in present}
    for ext_id in present:
        manifest = manifests[ext_id]
        for earlier in list(manifest.requires) + list(manifest.after):
            if earlier in present:
                edges[earlier].add(ext_id)
        for later in manifest.before:
            if later in present:
                edges[ext_id].add(later)
    return edges


def _find_cycle(ids: list[str], manifests: Mapping[str, Manifest]) -> list[str]:
    edges = _edges(ids, manifests)
    visiting: list[str] = []
    done: set[str] = set()

    def visit(node: str) -> list[str]:
        if node in done:
            return []
        if node in visiting:
            return visiting[visiting.index(node) :]
        visiting.append(node)
        for following in sorted(edges[node]):
            cycle = visit(following)
            if cycle:
                return cycle
        visiting.pop()
        done.add(node)
        return []

    for start in sorted(edges):
        cycle = visit(start)
        if cycle:
            return cycle
    return []


def _topological_order(ids: list[str], manifests: Mapping[str, Manifest]) -> list[str]:
    edges = _edges(ids, manifests)
    incoming = {ext_id: 0 for ext_id in edges}
    for targets in edges.values():
        for target in targets:
            incoming[target] += 1
    ready = [ext_id for ext_id, count in incoming.items() if count == 0]
    heapq.heapify(ready)
    order: list[str] = []
    while ready:
        current = heapq.heappop(ready)
        order.append(current)
        for target in edges[current]:
            incoming[target] -= 1
            if incoming[target] == 0:
                heapq.heappush(ready, target)
    return order
