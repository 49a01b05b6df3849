"""The layering rules of docs/architecture.md, held by reading every module's imports.

Layers, from the ground up: ``core`` (what every part shares) → ``storage`` (bytes and
metadata) → ``server`` (the composition root and request identity) → the features
(``registry``, ``wopi``, ``onlyoffice``, ``api``, ``web``, ``commands``, ``audit``) →
``app.py``. A module imports only from its own layer or below, with one allowance: the
app registry's catalog (the registry modules that import neither ``server`` nor Flask)
sits below ``server``, which builds it.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOT_SOURCE = {"tests", "bench", "scripts", ".venv", "docs", "templates"}
FEATURES = {"registry", "wopi", "onlyoffice", "api", "web", "commands", "audit"}
WEB_FRAMEWORK = {"flask", "werkzeug"}
# Protocol rules: pure functions over plain values (no request, no disk, no network).
PURE_RULES = {
    "core/policy.py",
    "onlyoffice/callbacks.py",
    "onlyoffice/config_builder.py",
    "onlyoffice/formats.py",
    "onlyoffice/keys.py",
    "registry/catalog.py",
    "registry/rules.py",
    "storage/lock_rules.py",
    "wopi/checkfileinfo.py",
    "wopi/cool.py",
    "wopi/locks.py",
    "wopi/relative.py",
    "wopi/utf7.py",
    "wopi/proofkeys.py",
    "wopi/profiles.py",
}
IO_LIBRARIES = WEB_FRAMEWORK | {"requests", "sqlalchemy", "socket", "urllib3"}


def source_files() -> Iterator[Path]:
    for path in sorted(ROOT.rglob("*.py")):
        relative = path.relative_to(ROOT)
        if relative.parts[0] in NOT_SOURCE or "versions" in relative.parts:
            continue
        yield relative


def imported_modules(relative: Path) -> set[str]:
    """Every module `relative` imports, absolute, including imports inside functions and
    under TYPE_CHECKING (a dependency is a dependency)."""
    tree = ast.parse((ROOT / relative).read_text(), filename=str(relative))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def top(module: str) -> str:
    return module.split(".")[0]


def package_of(relative: Path) -> str:
    return relative.parts[0].removesuffix(".py")


IMPORTS = {relative: imported_modules(relative) for relative in source_files()}
PROJECT_PACKAGES = {package_of(relative) for relative in IMPORTS}


def project_imports(relative: Path) -> set[str]:
    return {module for module in IMPORTS[relative] if top(module) in PROJECT_PACKAGES}


def registry_catalog_modules() -> set[str]:
    """The registry modules the composition root may build on: those that import neither
    server nor the web framework."""
    found = set()
    for relative, modules in IMPORTS.items():
        if package_of(relative) == "registry" and not any(top(m) in {"server"} | WEB_FRAMEWORK for m in modules):
            parts = relative.with_suffix("").parts
            found.add(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return found


def modules_of(package: str) -> list[Path]:
    return [relative for relative in IMPORTS if package_of(relative) == package]


def test_the_layers_are_all_there() -> None:
    assert {"core", "storage", "server", "app"} | FEATURES <= PROJECT_PACKAGES
    assert len(IMPORTS) > 80


@pytest.mark.parametrize("relative", modules_of("core"), ids=str)
def test_core_imports_nothing_above_it_and_no_web_framework(relative: Path) -> None:
    wrong = {m for m in IMPORTS[relative] if top(m) in (PROJECT_PACKAGES - {"core"}) | WEB_FRAMEWORK}
    assert not wrong, f"{relative} imports {sorted(wrong)}"


@pytest.mark.parametrize("relative", modules_of("storage"), ids=str)
def test_storage_imports_only_core_and_itself(relative: Path) -> None:
    wrong = {m for m in project_imports(relative) if top(m) not in {"core", "storage"}}
    assert not wrong, f"{relative} imports {sorted(wrong)}"


@pytest.mark.parametrize("relative", modules_of("server"), ids=str)
def test_server_builds_on_storage_and_the_registry_catalog_only(relative: Path) -> None:
    allowed_registry = registry_catalog_modules()
    wrong = {
        m
        for m in project_imports(relative)
        if top(m) not in {"core", "storage", "server"}
        and not (top(m) == "registry" and (m in allowed_registry or m.rsplit(".", 1)[0] in allowed_registry))
    }
    assert not wrong, f"{relative} imports {sorted(wrong)}"


@pytest.mark.parametrize("relative", [r for r in IMPORTS if package_of(r) != "app"], ids=str)
def test_only_app_py_knows_the_app(relative: Path) -> None:
    assert not {m for m in IMPORTS[relative] if top(m) == "app"}


@pytest.mark.parametrize(("one", "other"), [("wopi", "onlyoffice"), ("onlyoffice", "wopi")])
def test_the_editor_drivers_never_import_each_other(one: str, other: str) -> None:
    for relative in modules_of(one):
        assert not {m for m in IMPORTS[relative] if top(m) == other}, f"{relative} imports {other}"


@pytest.mark.parametrize("relative", [Path(name) for name in sorted(PURE_RULES)], ids=str)
def test_protocol_rules_do_no_io(relative: Path) -> None:
    wrong = {m for m in IMPORTS[relative] if top(m) in IO_LIBRARIES | {"server"}}
    assert not wrong, f"{relative} imports {sorted(wrong)}"


def test_features_other_than_the_registry_stay_out_of_the_lower_layers() -> None:
    below = [relative for relative in IMPORTS if package_of(relative) in {"core", "storage", "server"}]
    for relative in below:
        wrong = {m for m in project_imports(relative) if top(m) in FEATURES - {"registry"}}
        assert not wrong, f"{relative} imports {sorted(wrong)}"
