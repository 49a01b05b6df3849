"""CheckFileInfo profiles (wopi/profiles.py): which client gets which properties, picked
from the discovery of the app the token was issued for or by the admin; Collabora's flags,
watermark and TemplateSource over HTTP; the validator's and Microsoft's schema only; and
GetFile under secure view for a signed request."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient

from core.tokens import ViewMode
from server.services import services_of
from tests.conftest import ADMIN_PASSWORD, TestUser, basic_auth, upload
from tests.wopi.conftest import PUBLIC_URL, WopiCaller
from tests.wopi.wopi_client import WopiClientStandIn, serve
from wopi.checkfileinfo import SCHEMA_PROPERTIES
from wopi.discovery import Action, Discovery, parse_discovery
from wopi.profiles import EXTRA_PROPERTIES, Profile, ProfileInput, apply_profile, choose_profile, detect_profile

BASE = {"BaseFileName": "a.docx", "OwnerId": "o", "Size": 1, "UserId": "u", "Version": "1",
        "UserCanNotWriteRelative": False}
COLLABORA_FLAGS = ("DisablePrint", "DisableExport", "DisableCopy", "HideExportOption", "HidePrintOption")


def discovery_of(shape: str) -> Discovery:
    return parse_discovery(WopiClientStandIn(shape=shape, base_url="https://office.example").discovery_xml().encode())


def test_the_profile_comes_from_the_discovery_or_the_admin() -> None:
    assert detect_profile(discovery_of("collabora")) is Profile.COLLABORA
    assert detect_profile(discovery_of("microsoft")) is Profile.MICROSOFT
    onlyoffice = Discovery((Action("Word", "edit", "docx", "https://docs.example/hosting/wopi/word/edit?"),))
    assert detect_profile(onlyoffice) is Profile.ONLYOFFICE
    legacy = Discovery((Action("writer", "edit", "odt", "https://lool.example/loleaflet/abc/loleaflet.html?"),))
    assert detect_profile(legacy) is Profile.COLLABORA
    assert detect_profile(None) is Profile.VALIDATOR
    assert choose_profile("auto", discovery_of("collabora")) is Profile.COLLABORA
    assert choose_profile("validator", discovery_of("collabora")) is Profile.VALIDATOR
    assert choose_profile("onlyoffice", None) is Profile.ONLYOFFICE


@pytest.mark.parametrize("profile", list(Profile))
@pytest.mark.parametrize("given", [
    ProfileInput(ViewMode.WRITE),
    ProfileInput(ViewMode.VIEW),
    ProfileInput(ViewMode.WRITE, secure_view=True, watermark="Bob", template_source="https://d/t",
                 user_extra_info={"mail": "bob@example.org"}),
])
def test_each_profile_sends_only_what_its_client_reads(profile: Profile, given: ProfileInput) -> None:
    info = apply_profile(profile, BASE, given)
    assert set(info) <= SCHEMA_PROPERTIES | EXTRA_PROPERTIES[profile]
    restricted = given.secure_view or given.view_mode is ViewMode.VIEW
    assert info.get("DisablePrint", False) is restricted
    assert info["UserCanNotWriteRelative"] is given.secure_view
    if profile in (Profile.MICROSOFT, Profile.VALIDATOR):
        assert set(info) <= SCHEMA_PROPERTIES
        assert info.get("CopyPasteRestrictions", "") == ("BlockAll" if restricted else "")
        assert info.get("DisableTranslation", False) is given.secure_view
    if profile is Profile.ONLYOFFICE:
        assert info.get("HidePrintOption", False) is restricted
        assert info.get("CopyPasteRestrictions", "") == ("BlockAll" if restricted else "")
    if profile is Profile.COLLABORA:
        assert all(info.get(flag, False) is restricted for flag in COLLABORA_FLAGS)
        assert info.get("WatermarkText", "") == given.watermark
        assert info.get("TemplateSource", "") == given.template_source
        assert info.get("UserExtraInfo", {}) == dict(given.user_extra_info)
        assert "CopyPasteRestrictions" not in info


# --- over HTTP --------------------------------------------------------------------------------


def site(make_app: Callable[..., Flask], cool: WopiClientStandIn, **app: Any) -> tuple[FlaskClient, TestUser]:
    flask_app = make_app(public_url=PUBLIC_URL, sharing={"show_email": True},
                         wopi={"apps": [{"name": "Collabora", "discovery_url": cool.discovery_url, **app}]})
    made = services_of(flask_app).users.create("bob", "secret", display_name="Bob Baker", email="bob@example.org")
    return flask_app.test_client(), TestUser(made.id, "bob", "secret", str(made.home_id), basic_auth("bob", "secret"))


def launch(client: FlaskClient, cool: WopiClientStandIn, user: TestUser, file_id: str, **params: str) -> WopiCaller:
    answer = client.post("/app/open", data={"file_id": file_id, "app_name": "Collabora", **params}, headers=user.auth)
    assert answer.status_code == 200, answer.get_json()
    wopi_src = parse_qs(urlsplit(answer.get_json()["app_url"]).query)["WOPISrc"][0]
    return WopiCaller(client, cool, answer.get_json()["form_parameters"]["access_token"],
                      unquote(wopi_src.rsplit("/", 1)[1]))


def secure_everything(client: FlaskClient) -> None:
    made = client.post("/api/v1/admin/policies", json={
        "name": "everything", "secure_view": True, "watermark": "{user_display_name} <{email}>",
    }, headers=basic_auth("admin", ADMIN_PASSWORD))
    assert made.status_code == 201, made.get_json()


def test_collabora_gets_its_flags_and_the_watermark(make_app: Callable[..., Flask]) -> None:
    with serve(WopiClientStandIn(shape="collabora")) as cool:
        client, bob = site(make_app, cool)
        file_id = upload(client, bob, bob.home_id, "plan.docx", b"PK plan")
        plain = launch(client, cool, bob, file_id).check_file_info().get_json()
        assert not any(flag in plain for flag in (*COLLABORA_FLAGS, "WatermarkText"))
        assert plain["UserExtraInfo"] == {"mail": "bob@example.org"}

        secure_everything(client)  # the owner too: a rule without conditions matches everyone
        caller = launch(client, cool, bob, file_id)
        info = caller.check_file_info().get_json()
        assert all(info[flag] is True for flag in COLLABORA_FLAGS)
        assert info["UserCanNotWriteRelative"] is True and info["UserCanWrite"] is True
        assert info["WatermarkText"] == "Bob Baker <bob@example.org>"
        # The client's own, signed GetFile still gets the bytes; "save as" does not.
        assert caller.get_file().data == b"PK plan"
        refused = caller.post("PUT_RELATIVE", {"X-WOPI-SuggestedTarget": ".pdf", "X-WOPI-Size": "3"}, b"PDF")
        assert refused.status_code == 501
        assert caller.put_file(b"PK plan, edited", lock=None).status_code == 409  # unlocked: WOPI's rule
        assert caller.lock("cool-1").status_code == 200
        assert caller.put_file(b"PK plan, edited", lock="cool-1").status_code == 200  # editing goes on


def test_with_the_validator_profile_a_collabora_gets_the_schema_only(make_app: Callable[..., Flask]) -> None:
    with serve(WopiClientStandIn(shape="collabora")) as cool:
        client, bob = site(make_app, cool, profile="validator")
        secure_everything(client)
        file_id = upload(client, bob, bob.home_id, "plan.docx", b"PK plan")
        info = launch(client, cool, bob, file_id).check_file_info().get_json()
        assert set(info) <= SCHEMA_PROPERTIES
        assert info["DisablePrint"] is True and info["CopyPasteRestrictions"] == "BlockAll"


def test_collabora_makes_the_document_from_its_template(make_app: Callable[..., Flask]) -> None:
    with serve(WopiClientStandIn(shape="collabora")) as cool:
        client, bob = site(make_app, cool)
        template = upload(client, bob, bob.home_id, "letter.ott", b"PK letter template")
        empty = upload(client, bob, bob.home_id, "letter.odt", b"")
        caller = launch(client, cool, bob, empty, template_id=template)
        # Filled at /app/open, for every client; Collabora also gets the template's URL.
        assert client.get(f"/api/v1/files/{quote(empty)}/content", headers=bob.auth).data == b"PK letter template"
        source = caller.check_file_info().get_json()["TemplateSource"]
        parts = urlsplit(source)
        assert source.startswith(f"{PUBLIC_URL}/wopi/templates/")
        fetched = client.get(f"{parts.path}?{parts.query}")
        assert fetched.status_code == 200 and fetched.data == b"PK letter template"
        # That token opens the template only: not as a WOPI file, not another file.
        token = parse_qs(parts.query)["access_token"][0]
        assert client.get(f"/wopi/files/{quote(template)}", query_string={"access_token": token}).status_code == 401
        assert client.get(f"/wopi/templates/{quote(empty)}", query_string={"access_token": token}).status_code == 401
        # Once saved, the document is no longer the template's copy.
        assert caller.lock("cool-1").status_code == 200
        assert caller.put_file(b"PK letter, written", lock="cool-1").status_code == 200
        assert "TemplateSource" not in caller.check_file_info().get_json()
