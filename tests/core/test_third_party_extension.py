"""A third-party extension installed as a distribution with a `docbridge.extensions` entry
point is found, ordered, and wired in like a built-in one."""

from __future__ import annotations

import io
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask

from server.services import services_of
from storage.types import SaveOrigin

EXTENSION_SOURCE = textwrap.dedent(
    """
    from core.events import VersionSaved
    from core.extensions import ExtensionKind, Manifest

    MANIFEST = Manifest(
        id="{ext_id}", name="Counter", version="2.0.0", licence="MIT",
        kind=ExtensionKind.LISTENER, requires={requires!r}, after=("audit-log",),
    )
    saved = []

    def register(context):
        context.services.events.subscribe(VersionSaved, saved.append)
    """
)


@pytest.fixture
def install_extension(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., str]]:
    site = tmp_path / "site"
    site.mkdir()
    monkeypatch.syspath_prepend(str(site))
    modules: list[str] = []

    def install(module: str, ext_id: str, requires: dict[str, str]) -> str:
        (site / f"{module}.py").write_text(EXTENSION_SOURCE.format(ext_id=ext_id, requires=requires))
        info = site / f"{module}-2.0.0.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {module}\nVersion: 2.0.0\n")
        (info / "entry_points.txt").write_text(f"[docbridge.extensions]\n{ext_id} = {module}\n")
        modules.append(module)
        return module

    yield install
    for module in modules:
        sys.modules.pop(module, None)


def test_entry_point_extension_is_loaded_and_listens(make_app: Callable[..., Flask], install_extension: Callable[..., str]) -> None:
    module = install_extension("docbridge_counter", "counter", {"docbridge": ">=0.1", "audit-log": ">=1"})
    app = make_app()
    output = app.test_cli_runner().invoke(args=["extensions", "list"]).output
    lines = output.splitlines()
    assert "counter\t2.0.0\tevent-listener\tdocbridge_counter\tenabled" in lines
    assert [line.split("\t")[0] for line in lines].index("counter") > [line.split("\t")[0] for line in lines].index("audit-log")
    found = services_of(app)
    user = found.users.create("gail", "pw")
    found.storage.create_file(user.home_id, "x.txt", io.BytesIO(b"x"), SaveOrigin(user.id, "gail", "upload"))
    assert len(sys.modules[module].saved) == 1


def test_entry_point_extension_with_unmet_range_is_disabled(make_app: Callable[..., Flask], install_extension: Callable[..., str]) -> None:
    install_extension("docbridge_future", "future", {"docbridge": ">=5"})
    output = make_app().test_cli_runner().invoke(args=["extensions", "list"]).output
    assert "future\t2.0.0\tevent-listener\tdocbridge_future\tdisabled: requires 'docbridge' >=5, but 0.1.0 is installed" in output
