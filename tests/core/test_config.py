"""Settings: layering, typing, and start-up errors that name the file, the key and why."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.config import ConfigError, load_settings


def write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "docbridge.yaml"
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_defaults_need_no_file() -> None:
    settings = load_settings({})
    assert settings.public_url == "http://127.0.0.1:8080"
    assert settings.data_dir == Path("data")
    assert settings.effective_database_url.endswith("/data/metadata.sqlite3")
    assert settings.wopi.proof_keys == "if-published"
    assert settings.onlyoffice.jwt is True


def test_layers_yaml_then_environment_then_overrides(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "public_url: https://files.example.org\n"
        "onlyoffice:\n  document_server_url: https://docs.example.org/\n  jwt_secret: from-file\n"
        "wopi:\n  apps:\n    - name: Collabora\n      discovery_url: http://collabora:9980/hosting/discovery\n",
    )
    environ = {"DOCBRIDGE_CONFIG": path, "DOCBRIDGE_ONLYOFFICE__JWT_SECRET": "from-env", "DOCBRIDGE_WORKERS": "4"}
    settings = load_settings(environ, overrides={"public_url": "http://override"})
    assert settings.public_url == "http://override"
    assert settings.onlyoffice.jwt_secret == "from-env"
    assert settings.onlyoffice.document_server_url == "https://docs.example.org/"
    assert settings.wopi.apps[0].name == "Collabora"
    assert settings.wopi.apps[0].refresh_seconds == 3600


def test_yaml_off_switches_jwt_off(tmp_path: Path) -> None:
    settings = load_settings({"DOCBRIDGE_CONFIG": write(tmp_path, "onlyoffice:\n  jwt: off\n")})
    assert settings.onlyoffice.jwt is False


def test_environment_casts_types() -> None:
    settings = load_settings(
        {"DOCBRIDGE_BASIC_AUTH": "false", "DOCBRIDGE_WOPI__LOCK_SECONDS": "60", "DOCBRIDGE_OIDC__ALGORITHMS": "RS256,ES256"}
    )
    assert settings.basic_auth is False
    assert settings.wopi.lock_seconds == 60
    assert settings.oidc.algorithms == ("RS256", "ES256")


@pytest.mark.parametrize(
    ("text", "key", "reason"),
    [
        ("onlyoffice:\n  jwt_secrt: x\n", "onlyoffice.jwt_secrt", "unknown key"),
        ("wopi:\n  proof_keys: sometimes\n", "wopi.proof_keys", "must be one of"),
        ("wopi:\n  lock_seconds: soon\n", "wopi.lock_seconds", "must be a number"),
        ("wopi:\n  lock_seconds: -5\n", "wopi.lock_seconds", "must not be negative"),
        ("basic_auth: maybe\n", "basic_auth", "must be true or false"),
        ("wopi:\n  apps:\n    - discovery_url: http://x\n", "wopi.apps[0].name", "required key is missing"),
        ("app_registry:\n  mimetypes:\n    - mime_type: text/plain\n      colour: red\n", "app_registry.mimetypes[0].colour", "unknown key"),
        ("password_hashing: md5\n", "password_hashing", "is not scrypt"),
        ("password_hashing: scrypt:1000:8:1\n", "password_hashing", "power of two"),
        ("password_hashing: pbkdf2:sha257:1000\n", "password_hashing", "not a hash this Python has"),
        ("- just a list\n", "-", "mapping"),
        ("public_url: [unclosed\n", "-", "not valid YAML"),
    ],
)
def test_bad_file_names_file_key_and_reason(tmp_path: Path, text: str, key: str, reason: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as raised:
        load_settings({"DOCBRIDGE_CONFIG": path})
    assert raised.value.source == path
    assert raised.value.key == key
    assert reason in raised.value.reason
    assert str(raised.value).startswith(f"{path}: {key}: ")


def test_unknown_environment_variable_is_named() -> None:
    with pytest.raises(ConfigError) as raised:
        load_settings({"DOCBRIDGE_PUBLIK_URL": "http://x"})
    assert raised.value.source == "environment"
    assert raised.value.key == "publik_url"


def test_missing_file_is_reported(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read the file"):
        load_settings({"DOCBRIDGE_CONFIG": str(tmp_path / "absent.yaml")})


def test_settings_are_frozen() -> None:
    settings = load_settings({})
    with pytest.raises(AttributeError):
        settings.public_url = "http://elsewhere"  # type: ignore[misc]
