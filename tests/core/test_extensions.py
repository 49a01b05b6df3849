"""Extension loading: order, dependencies with version ranges, cycles, reasons, required."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

from core.extensions import ExtensionError, ExtensionKind, Manifest, migration_folders, plan_extensions


@dataclass
class FakeExtension:
    MANIFEST: Manifest
    registered: list[str] = field(default_factory=list)

    def register(self, context: Any) -> None:
        self.registered.append(self.MANIFEST.id)


def ext(ext_id: str, version: str = "1.0.0", **options: Any) -> FakeExtension:
    return FakeExtension(Manifest(id=ext_id, name=ext_id, version=version, licence="MIT", kind=ExtensionKind.LISTENER, **options))


def states(plan: Any) -> dict[str, str]:
    return {
        (state.manifest.id if state.source == "built-in" else f"{state.manifest.id}@{state.source}"): (
            "enabled" if state.enabled else state.reason
        )
        for state in plan.states
    }


def test_orders_by_requires_after_and_before_then_id() -> None:
    plan = plan_extensions(
        [ext("c", requires={"a": ">=1"}), ext("b"), ext("a", after=("b",)), ext("d", before=("b",))], []
    )
    assert [item.MANIFEST.id for item in plan.ordered] == ["d", "b", "a", "c"]


def test_missing_dependency_disables_with_reason_and_cascades() -> None:
    plan = plan_extensions([ext("a", requires={"ghost": ">=1"}), ext("b", requires={"a": ""})], [])
    assert plan.ordered == []
    assert states(plan) == {"a": "requires 'ghost', which is not installed", "b": "requires 'a', which is disabled"}


def test_version_out_of_range_is_disabled() -> None:
    plan = plan_extensions([ext("a", version="2.1.0"), ext("b", requires={"a": ">=1,<2"})], [])
    assert states(plan)["b"] == "requires 'a' >=1,<2, but 2.1.0 is installed"
    assert states(plan)["a"] == "enabled"


def test_core_version_is_checked() -> None:
    plan = plan_extensions([ext("a", requires={"docbridge": ">=99"})], [])
    assert "requires 'docbridge' >=99" in states(plan)["a"]


def test_cycle_disables_its_members_only() -> None:
    plan = plan_extensions([ext("a", after=("b",)), ext("b", after=("a",)), ext("c")], [])
    assert [item.MANIFEST.id for item in plan.ordered] == ["c"]
    assert states(plan)["a"].startswith("in a dependency cycle: a → b → a")


def test_disabled_in_settings_and_duplicate_ids() -> None:
    plan = plan_extensions([ext("a"), ext("b")], [(ext("a"), "some-dist")], disabled_ids=["b"])
    reasons = states(plan)
    assert reasons["b"] == "disabled in the settings (extensions.disabled)"
    assert reasons["a@some-dist"] == "another extension already has the id 'a'"


def test_required_extension_that_is_disabled_stops_the_start() -> None:
    with pytest.raises(ExtensionError, match="'b' is required by the settings but is disabled: requires 'ghost'"):
        plan_extensions([ext("b", requires={"ghost": ""})], [], required_ids=["b"])
    with pytest.raises(ExtensionError, match="not installed"):
        plan_extensions([], [], required_ids=["nothing"])


def run_cli(app: Any, *args: str) -> Result:
    return app.test_cli_runner().invoke(args=list(args))


def test_extensions_list_shows_builtins_in_order(app: Any) -> None:
    result = run_cli(app, "extensions", "list")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert any(line.startswith("storage-local\t1.0.0\tstorage\tbuilt-in\tenabled") for line in lines)
    assert any(line.startswith("audit-log\t") for line in lines)


def test_app_refuses_to_start_when_a_required_extension_is_disabled(make_app: Any) -> None:
    with pytest.raises(ExtensionError, match="'audit-log' is required by the settings but is disabled"):
        make_app(extensions={"required": ["audit-log"], "disabled": ["audit-log"]})


def test_disabled_extension_is_listed_with_its_reason(make_app: Any) -> None:
    app = make_app(extensions={"disabled": ["audit-log"]})
    result = run_cli(app, "extensions", "list")
    assert "audit-log" in result.output
    assert "disabled: disabled in the settings (extensions.disabled)" in result.output


def test_migration_folders_are_found_beside_the_module_that_holds_the_manifest() -> None:
    import onlyoffice.extension
    import wopi.extension

    root = Path(__file__).resolve().parents[2]
    found = migration_folders([onlyoffice.extension, ext("no-tables"), wopi.extension])  # type: ignore[list-item]
    assert found == [root / "onlyoffice" / "migrations", root / "wopi" / "migrations"]


def test_a_missing_migrations_folder_stops_the_start() -> None:
    with pytest.raises(ExtensionError, match="'broken': its migrations folder .*no-such-folder does not exist"):
        migration_folders([ext("broken", migrations="no-such-folder")])
