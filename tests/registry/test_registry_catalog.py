"""The catalog's rules from tables: listing order, app resolution, mimetype settings."""

from __future__ import annotations

import pytest

from core.config import ConfigError, MimetypeSettings
from core.errors import NotFound
from registry.catalog import (
    DEFAULT_MIMETYPES,
    Catalog,
    build_listing,
    check_default_apps,
    check_mimetype_settings,
    cleaned_mimetypes,
    resolve_app,
)
from registry.providers import AppProvider
from tests.registry.helpers import RecordingDriver

ODT, PDF, TXT = "application/vnd.oasis.opendocument.text", "application/pdf", "text/plain"

COLLABORA = AppProvider("Collabora", (ODT, TXT), priority=0)
ONLYOFFICE = AppProvider("OnlyOffice", (ODT,), priority=0)
VIEWER = AppProvider("Viewer", (ODT, PDF), priority=5)
LOW = AppProvider("Aardvark", (ODT,), priority=-1)


@pytest.mark.parametrize(
    ("providers", "app_name", "default_app", "expected"),
    [
        ((COLLABORA, ONLYOFFICE), "OnlyOffice", "", "OnlyOffice"),  # the named app
        ((COLLABORA, ONLYOFFICE), "", "OnlyOffice", "OnlyOffice"),  # else the default
        ((COLLABORA, ONLYOFFICE), "", "", "Collabora"),  # else priority, then name
        ((ONLYOFFICE, COLLABORA), "", "", "Collabora"),  # registration order does not matter
        ((COLLABORA, VIEWER), "", "", "Viewer"),  # higher priority first
        ((LOW, COLLABORA), "", "", "Collabora"),  # negative priority last
        ((COLLABORA, VIEWER), "", "Gone", "Viewer"),  # a default that is not live is skipped
        ((COLLABORA, VIEWER), "", "Collabora", "Collabora"),  # default beats priority
        ((COLLABORA, VIEWER), "", "", "Viewer"),
    ],
)
def test_resolve_app(providers: tuple[AppProvider, ...], app_name: str, default_app: str, expected: str) -> None:
    assert resolve_app(ODT, app_name, providers, default_app).name == expected


@pytest.mark.parametrize(
    ("mimetype", "app_name", "message"),
    [
        (ODT, "collabora", "error: not found: app 'collabora' not found"),  # names match exactly
        (PDF, "Collabora", "error: not found: app 'Collabora' not found"),  # app exists, not for pdf
        ("image/png", "", "no app providers found"),
        ("application/vnd.oasis.opendocument", "", "no app providers found"),  # no prefix matching
    ],
)
def test_resolve_app_not_found(mimetype: str, app_name: str, message: str) -> None:
    with pytest.raises(NotFound) as raised:
        resolve_app(mimetype, app_name, (COLLABORA, ONLYOFFICE, VIEWER))
    assert raised.value.message == message


def test_listing_order_and_shape() -> None:
    configured = (
        MimetypeSettings(PDF, "pdf", "PDF"),
        MimetypeSettings("image/png", "png", "PNG"),  # nobody serves it: left out
        MimetypeSettings(ODT, "odt", "OpenDocument", "text", "https://icons/odt.png", "Collabora", True),
    )
    declared = AppProvider("Draw", ("image/svg+xml", "application/x-drawio"))
    listing = build_listing(configured, (COLLABORA, declared, VIEWER, ONLYOFFICE))
    assert [entry.mime_type for entry in listing] == [PDF, ODT, TXT, "image/svg+xml", "application/x-drawio"]
    odt = listing[1].to_json()
    assert odt == {
        "mime_type": ODT,
        "ext": "odt",
        "name": "OpenDocument",
        "description": "text",
        "icon": "https://icons/odt.png",
        "allow_creation": True,
        "default_application": "Collabora",
        "app_providers": [{"name": "Viewer"}, {"name": "Collabora"}, {"name": "OnlyOffice"}],
    }
    # A mimetype only providers declared: bare entry, default = first by priority then name.
    assert listing[2].to_json() == {
        "mime_type": TXT,
        "default_application": "Collabora",
        "app_providers": [{"name": "Collabora"}],
    }
    assert "allow_creation" not in listing[0].to_json()


def test_default_application_is_always_a_provider_of_the_entry() -> None:
    # ocis#6141: a default naming an app that does not serve the mimetype must not be listed.
    configured = (MimetypeSettings(PDF, "pdf", default_app="Collabora"),)
    listing = build_listing(configured, (COLLABORA, VIEWER))
    assert listing[0].default_application == "Viewer"
    assert [p.name for p in listing[0].app_providers] == ["Viewer"]


def test_provider_fields_and_target_ext() -> None:
    template = "application/vnd.oasis.opendocument.text-template"
    provider = AppProvider(
        "Office",
        (template,),
        icon="https://i",
        description="d",
        product_name="P",
        capability="EDITOR",
        target_ext={template: "odt"},
    )
    [entry] = build_listing((), (provider,))
    assert entry.app_providers[0].to_json() == {
        "name": "Office",
        "icon": "https://i",
        "description": "d",
        "product_name": "P",
        "capability": "EDITOR",
        "target_ext": "odt",
    }


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ((ODT, "application/octet-stream", "Text/Plain", ODT), (ODT, TXT)),
        (("httpd/unix-directory",), ()),
        ((" image/png ",), ("image/png",)),
    ],
)
def test_cleaned_mimetypes(given: tuple[str, ...], expected: tuple[str, ...]) -> None:
    assert cleaned_mimetypes(given) == expected


@pytest.mark.parametrize(
    ("entries", "key", "reason"),
    [
        ((MimetypeSettings("not a mimetype"),), "app_registry.mimetypes[0].mime_type", "is not a mimetype"),
        ((MimetypeSettings(PDF), MimetypeSettings("pdf")), "app_registry.mimetypes[1].mime_type", "is not a mimetype"),
        ((MimetypeSettings("application/octet-stream"),), "app_registry.mimetypes[0].mime_type", "cannot be offered"),
        ((MimetypeSettings(PDF), MimetypeSettings(PDF)), "app_registry.mimetypes[1].mime_type", "listed twice"),
        ((MimetypeSettings(PDF, ".pdf"),), "app_registry.mimetypes[0].extension", "without the dot"),
        ((MimetypeSettings(PDF, allow_creation=True),), "app_registry.mimetypes[0].extension", "needs an extension"),
    ],
)
def test_malformed_mimetype_settings(entries: tuple[MimetypeSettings, ...], key: str, reason: str) -> None:
    with pytest.raises(ConfigError) as raised:
        check_mimetype_settings(entries, "/etc/docbridge.yaml")
    assert raised.value.source == "/etc/docbridge.yaml"
    assert raised.value.key == key
    assert reason in raised.value.reason


def test_built_in_list_is_valid_and_offers_creation_of_office_types() -> None:
    check_mimetype_settings(DEFAULT_MIMETYPES, "built-in")
    creatable = {entry.extension for entry in DEFAULT_MIMETYPES if entry.allow_creation}
    assert creatable == {"docx", "xlsx", "pptx", "odt", "ods", "odp", "txt", "md"}


def test_default_app_must_serve_its_mimetype() -> None:
    entries = (MimetypeSettings(ODT, default_app="Collabora"), MimetypeSettings(PDF, default_app="Collabora"))
    with pytest.raises(ConfigError) as raised:
        check_default_apps(entries, (COLLABORA, VIEWER), "docbridge.yaml")
    assert raised.value.key == "app_registry.mimetypes[1].default_app"
    assert "no provider named 'Collabora' serves application/pdf" in raised.value.reason
    check_default_apps(entries[:1], (COLLABORA,), "docbridge.yaml")


def test_register_replaces_by_name_and_keeps_the_place() -> None:
    catalog = Catalog(())
    first, second = RecordingDriver(), RecordingDriver()
    catalog.register(AppProvider("Wopi", (ODT,)), first)
    catalog.register(AppProvider("Other", (PDF,)), first)
    catalog.register(AppProvider("Wopi", (TXT, "application/octet-stream")), second)  # discovery refreshed
    registrations = catalog.registrations()
    assert [r.provider.name for r in registrations] == ["Wopi", "Other"]
    assert registrations[0].provider.mimetypes == (TXT,)
    assert registrations[0].driver is second
    assert [entry.mime_type for entry in catalog.list_mimetypes()] == [TXT, PDF]
    with pytest.raises(NotFound):
        catalog.resolve(ODT)


def test_catalog_default_list_and_validate_defaults() -> None:
    catalog = Catalog(None)
    assert catalog.configured_mimetypes == DEFAULT_MIMETYPES
    assert catalog.list_mimetypes() == []  # nothing registered: nothing listed
    configured = Catalog((MimetypeSettings(ODT, default_app="OnlyOffice"),), settings_source="a.yaml")
    with pytest.raises(ConfigError) as raised:
        configured.validate_defaults()
    assert (raised.value.source, raised.value.key) == ("a.yaml", "app_registry.mimetypes[0].default_app")
    configured.register(ONLYOFFICE, RecordingDriver())
    configured.validate_defaults()
    assert configured.resolve(ODT).provider.name == "OnlyOffice"
