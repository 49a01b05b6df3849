"""Start-up errors for the admin's `app_registry.mimetypes`: malformed entries, unknown keys
and default apps no provider serves stop the start, naming the file and the entry."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask

from core.config import ConfigError
from server.services import services_of

GOOD = "  - mime_type: application/pdf\n    extension: pdf\n"


def start_with_yaml(
    make_app: Callable[..., Flask], monkeypatch: pytest.MonkeyPatch, tmp_path: Path, entries: str
) -> ConfigError:
    path = tmp_path / "docbridge.yaml"
    path.write_text("app_registry:\n  mimetypes:\n" + GOOD + entries, encoding="utf-8")
    monkeypatch.setenv("DOCBRIDGE_CONFIG", str(path))
    with pytest.raises(ConfigError) as raised:
        make_app()
    assert raised.value.source == str(path)
    assert str(path) in str(raised.value)
    return raised.value


@pytest.mark.parametrize(
    ("entry", "key", "reason"),
    [
        ("  - mime_type: application/pdf\n    colour: red\n", "app_registry.mimetypes[1].colour", "unknown key"),
        ("  - extension: odt\n", "app_registry.mimetypes[1].mime_type", "required key is missing"),
        ("  - mime_type: not-a-mimetype\n", "app_registry.mimetypes[1].mime_type", "is not a mimetype"),
        ("  - mime_type: application/octet-stream\n", "app_registry.mimetypes[1].mime_type", "cannot be offered"),
        ("  - mime_type: application/pdf\n", "app_registry.mimetypes[1].mime_type", "listed twice"),
        ("  - mime_type: text/plain\n    extension: .txt\n", "app_registry.mimetypes[1].extension", "without the dot"),
        (
            "  - mime_type: text/plain\n    allow_creation: maybe\n",
            "app_registry.mimetypes[1].allow_creation",
            "true or false",
        ),
        (
            "  - mime_type: application/vnd.oasis.opendocument.text\n    extension: odt\n    default_app: Collabora\n",
            "app_registry.mimetypes[1].default_app",
            "no provider named 'Collabora' serves application/vnd.oasis.opendocument.text",
        ),
    ],
)
def test_bad_entry_stops_the_start(
    make_app: Callable[..., Flask], monkeypatch: pytest.MonkeyPatch, tmp_path: Path, entry: str, key: str, reason: str
) -> None:
    error = start_with_yaml(make_app, monkeypatch, tmp_path, entry)
    assert error.key == key
    assert reason in error.reason


def test_mimetypes_must_be_a_list(make_app: Callable[..., Flask]) -> None:
    with pytest.raises(ConfigError) as raised:
        make_app(app_registry={"mimetypes": "application/pdf"})
    assert raised.value.key == "app_registry.mimetypes"


def test_a_good_list_starts(make_app: Callable[..., Flask], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    path = tmp_path / "docbridge.yaml"
    path.write_text("app_registry:\n  mimetypes:\n" + GOOD, encoding="utf-8")
    monkeypatch.setenv("DOCBRIDGE_CONFIG", str(path))
    app = make_app()
    assert app.test_client().get("/app/list").status_code == 200


@pytest.mark.parametrize(
    "origin",
    ["127.0.0.1:8080", "http://127.0.0.1:8080/launch", "ftp://draw.internal", "http://u:p@draw.internal",
     "http://draw.internal/?x=1", "http://draw.internal:99999", "http://"],
)
def test_provider_origins_must_be_origins(
    make_app: Callable[..., Flask], monkeypatch: pytest.MonkeyPatch, tmp_path: Path, origin: str
) -> None:
    path = tmp_path / "docbridge.yaml"
    path.write_text(f"app_registry:\n  provider_origins:\n    - http://localhost:9000\n    - {origin!r}\n",
                    encoding="utf-8")
    monkeypatch.setenv("DOCBRIDGE_CONFIG", str(path))
    with pytest.raises(ConfigError) as raised:
        make_app()
    assert (raised.value.source, raised.value.key) == (str(path), "app_registry.provider_origins[1]")
    assert "is not an origin" in raised.value.reason


def test_provider_origins_from_the_environment(make_app: Callable[..., Flask], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCBRIDGE_APP_REGISTRY__PROVIDER_ORIGINS", "http://127.0.0.1:9000, https://[::1]:8443/")
    settings = services_of(make_app()).settings
    assert settings.app_registry.provider_origins == ("http://127.0.0.1:9000", "https://[::1]:8443/")
