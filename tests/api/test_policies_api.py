"""`/api/v1/admin/policies`: admins list the settings file's rules (read-only) and their
own, add, change and remove theirs; everybody else is refused. Links take `no_download`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import ADMIN_PASSWORD, TestUser, basic_auth, upload

ADMIN = basic_auth("admin", ADMIN_PASSWORD)
URL = "/api/v1/admin/policies"
SETTINGS_RULE = {"name": "contractors", "groups": ["contractors"], "secure_view": True, "watermark": "{user_id}"}


@pytest.fixture
def app(make_app: Callable[..., Flask], database_url: str) -> Flask:
    return make_app(database_url=database_url, policies=[SETTINGS_RULE])


def test_admins_manage_the_rules(client: FlaskClient) -> None:
    [settings_rule] = client.get(URL, headers=ADMIN).get_json()["policies"]
    assert settings_rule == {
        "id": "settings:0", "name": "contractors", "groups": ["contractors"], "share_roles": [], "links": None,
        "folders": [], "secure_view": True, "watermark": "{user_id}", "read_only": True, "source": "settings",
    }
    made = client.post(URL, json={"name": "public links", "links": "any", "watermark": "{date} · {file_name}"},
                       headers=ADMIN)
    assert made.status_code == 201
    rule = made.get_json()
    assert rule["id"] and rule["source"] == "admin" and rule["read_only"] is False and rule["secure_view"] is False
    second = client.post(URL, json={"name": "viewers", "share_roles": ["viewer", "commenter"], "secure_view": True},
                         headers=ADMIN).get_json()
    # In the order they apply: the settings file's, then the admins', oldest first.
    listed = client.get(URL, headers=ADMIN).get_json()["policies"]
    assert [item["name"] for item in listed] == ["contractors", "public links", "viewers"]
    assert listed[2]["share_roles"] == ["commenter", "viewer"]

    changed = client.patch(f"{URL}/{rule['id']}", json={"secure_view": True, "links": "password"}, headers=ADMIN)
    assert changed.status_code == 200
    assert changed.get_json() | {"updated": True} == {**rule, "secure_view": True, "links": "password", "updated": True}
    assert client.get(f"{URL}/{rule['id']}", headers=ADMIN).get_json()["links"] == "password"
    assert client.get(f"{URL}/settings:0", headers=ADMIN).get_json()["name"] == "contractors"

    assert client.delete(f"{URL}/{second['id']}", headers=ADMIN).status_code == 204
    assert client.delete(f"{URL}/{second['id']}", headers=ADMIN).status_code == 404
    assert [item["name"] for item in client.get(URL, headers=ADMIN).get_json()["policies"]] == [
        "contractors", "public links"]


@pytest.mark.parametrize(("body", "message"), [
    ({"name": "x"}, "secure_view: the rule has no effect: give secure_view: true or a watermark"),
    ({"name": "x", "secure_view": "yes"}, "secure_view must be true or false"),
    ({"name": "x", "secure_view": True, "groups": "staff"}, "groups must be a list of strings"),
    ({"name": "x", "secure_view": True, "share_roles": ["owner"]}, "share_roles[0]: 'owner' is not a share role"),
    ({"name": "x", "secure_view": True, "links": "any", "share_roles": ["viewer"]}, "links: a rule cannot ask"),
    ({"name": "x", "watermark": "{name}"}, "watermark: unknown placeholder {name}"),
    ({"name": "x", "secure_view": True, "folders": ["home"]}, "folders[0]: 'home' is not a resource id"),
    ({"name": "x", "secure_view": True, "colour": "red"}, "unknown field 'colour'"),
])
def test_a_rule_is_checked_before_it_is_stored(client: FlaskClient, body: dict[str, Any], message: str) -> None:
    refused = client.post(URL, json=body, headers=ADMIN)
    assert refused.status_code == 400 and refused.get_json()["code"] == "INVALID_PARAMETER"
    assert refused.get_json()["message"].startswith(message), refused.get_json()
    assert len(client.get(URL, headers=ADMIN).get_json()["policies"]) == 1


def test_names_are_unique_and_settings_rules_are_read_only(client: FlaskClient) -> None:
    taken = client.post(URL, json={**SETTINGS_RULE}, headers=ADMIN)
    assert taken.status_code == 403 and taken.get_json()["code"] == "RESOURCE_ALREADY_EXISTS"
    made = client.post(URL, json={"name": "mine", "secure_view": True}, headers=ADMIN).get_json()
    assert client.post(URL, json={"name": "mine", "secure_view": True}, headers=ADMIN).status_code == 403
    assert client.patch(f"{URL}/{made['id']}", json={"name": "contractors"}, headers=ADMIN).status_code == 403
    for method in (client.patch, client.delete):
        refused = method(f"{URL}/settings:0", json={"secure_view": False}, headers=ADMIN)
        assert refused.status_code == 403
        assert refused.get_json()["message"] == "this policy is set in the settings file: change it there"
    assert client.get(f"{URL}/nope", headers=ADMIN).status_code == 404


def test_only_admins(client: FlaskClient, alice: TestUser) -> None:
    for answer in (client.get(URL, headers=alice.auth),
                   client.post(URL, json={"name": "x", "secure_view": True}, headers=alice.auth)):
        assert answer.status_code == 403 and answer.get_json() == {"code": "PERMISSION_DENIED",
                                                                   "message": "this needs an admin"}
    assert client.get(URL).status_code == 401


def test_links_take_no_download(client: FlaskClient, alice: TestUser) -> None:
    file_id = upload(client, alice, alice.home_id, "a.docx", b"PK")
    made = client.post(f"/api/v1/files/{file_id}/links", json={"role": "viewer", "no_download": True},
                       headers=alice.auth)
    assert made.status_code == 201 and made.get_json()["no_download"] is True
    plain = client.post(f"/api/v1/files/{file_id}/links", json={"role": "editor"}, headers=alice.auth).get_json()
    assert plain["no_download"] is False
    listed = client.get(f"/api/v1/files/{file_id}/links", headers=alice.auth).get_json()["links"]
    assert [link["no_download"] for link in listed] == [True, False]
    bad = client.post(f"/api/v1/files/{file_id}/links", json={"role": "viewer", "no_download": "yes"},
                      headers=alice.auth)
    assert bad.status_code == 400 and bad.get_json()["message"] == "no_download must be true or false"
    visitor = {"Public-Token": made.get_json()["token"]}
    assert client.get(f"/api/v1/files/{file_id}", headers=visitor).get_json()["can_download"] is False
    assert client.get(f"/api/v1/files/{file_id}/content", headers=visitor).status_code == 403
    assert client.get(f"/api/v1/files/{file_id}/content", headers={"Public-Token": plain["token"]}).data == b"PK"
