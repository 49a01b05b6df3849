"""The secure-view and watermark rules (core/policy.py), from tables: what matches whom, how
effects combine, the placeholders, and the checks a rule passes before it is used."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from core.config import ConfigError, load_settings
from core.policy import (
    NO_DOWNLOAD_LINK,
    SHARE_ROLE_NAMES,
    NodeFacts,
    PrincipalFacts,
    Rule,
    RuleError,
    effects_for,
    make_rule,
    render_watermark,
)
from storage.types import ShareRole

TODAY = date(2026, 3, 14)
FOLDER = "docbridge$space!projects"
FILE = NodeFacts("docbridge$space!report", "Report.docx", frozenset({"docbridge$space!space", FOLDER}))
ELSEWHERE = NodeFacts("docbridge$space!other", "Other.docx", frozenset({"docbridge$space!space"}))

OWNER = PrincipalFacts("u-owner", "Olive Owner", "olive@example.org", frozenset({"contractors"}))
VIEWER = PrincipalFacts("u-vic", "Vic Viewer", "vic@example.org", frozenset({"staff"}), share_role="viewer")
CONTRACTOR = PrincipalFacts("u-cat", "Cat Contractor", "", frozenset({"contractors"}), share_role="editor")
LINK = PrincipalFacts("public-l1", "Guest", via_link=True)
PASSWORD_LINK = PrincipalFacts("public-l2", "Guest", via_link=True, link_has_password=True)
NO_DOWNLOAD = PrincipalFacts("public-l3", "Guest", via_link=True, link_no_download=True)


def rule(**given: Any) -> Rule:
    return make_rule(name=given.pop("name", "r"), **{"secure_view": True, **given})


@pytest.mark.parametrize(
    ("conditions", "principal", "node", "matches"),
    [
        ({}, OWNER, FILE, True),  # no conditions: everyone
        ({"groups": ["contractors"]}, CONTRACTOR, FILE, True),
        ({"groups": ["contractors"]}, OWNER, FILE, True),  # group rules reach owners too
        ({"groups": ["contractors"]}, VIEWER, FILE, False),
        ({"groups": ["contractors"]}, LINK, FILE, False),  # link visitors are in no group
        ({"folders": [FOLDER]}, OWNER, FILE, True),  # folder rules reach owners too
        ({"folders": [FOLDER]}, VIEWER, ELSEWHERE, False),
        ({"folders": [FILE.file_id]}, VIEWER, FILE, True),  # a listed node itself
        ({"share_roles": ["viewer"]}, VIEWER, FILE, True),
        ({"share_roles": ["viewer"]}, CONTRACTOR, FILE, False),
        ({"share_roles": ["viewer", "editor"]}, OWNER, FILE, False),  # owners hold no share
        ({"share_roles": ["viewer"]}, LINK, FILE, False),  # nor do link visitors
        ({"links": "any"}, LINK, FILE, True),
        ({"links": "any"}, VIEWER, FILE, False),
        ({"links": "password"}, PASSWORD_LINK, FILE, True),
        ({"links": "password"}, LINK, FILE, False),
        ({"links": "no_download"}, NO_DOWNLOAD, FILE, True),
        ({"links": "no_download"}, PASSWORD_LINK, FILE, False),
        # every condition given must match
        ({"groups": ["contractors"], "folders": [FOLDER]}, CONTRACTOR, FILE, True),
        ({"groups": ["contractors"], "folders": [FOLDER]}, CONTRACTOR, ELSEWHERE, False),
        ({"groups": ["contractors"], "share_roles": ["viewer"]}, CONTRACTOR, FILE, False),
        ({"folders": [FOLDER], "links": "any"}, LINK, FILE, True),
    ],
)
def test_what_a_rule_matches(conditions: dict[str, Any], principal: PrincipalFacts, node: NodeFacts,
                             matches: bool) -> None:
    assert rule(**conditions).matches(principal, node) is matches
    assert effects_for(principal, node, [rule(**conditions)], today=TODAY).secure_view is matches


def test_effects_combine_secure_view_from_any_and_the_first_watermark() -> None:
    rules = [
        make_rule(name="mark contractors", groups=["contractors"], watermark="Confidential · {user_display_name}"),
        make_rule(name="project secure", folders=[FOLDER], secure_view=True, watermark="second, never shown"),
        make_rule(name="viewers", share_roles=["viewer"], watermark="{email}"),
    ]
    effects = effects_for(CONTRACTOR, FILE, rules, today=TODAY)
    assert effects.secure_view is True
    assert effects.watermark == "Confidential · Cat Contractor"
    assert effects.matched == ("mark contractors", "project secure")
    assert effects_for(VIEWER, FILE, rules, today=TODAY).watermark == "second, never shown"
    elsewhere = effects_for(VIEWER, ELSEWHERE, rules, today=TODAY)
    assert (elsewhere.secure_view, elsewhere.watermark) == (False, "vic@example.org")
    assert effects_for(OWNER, ELSEWHERE, rules[1:], today=TODAY) == effects_for(OWNER, ELSEWHERE, [], today=TODAY)


def test_a_no_download_link_is_secure_view_by_itself() -> None:
    effects = effects_for(NO_DOWNLOAD, FILE, [], today=TODAY)
    assert effects.secure_view is True and effects.matched == (NO_DOWNLOAD_LINK,) and effects.watermark == ""
    assert effects_for(LINK, FILE, [], today=TODAY).secure_view is False


def test_placeholders() -> None:
    text = render_watermark("{user_display_name} <{email}> {user_id} {date} {file_name}", VIEWER, FILE, TODAY)
    assert text == "Vic Viewer <vic@example.org> u-vic 2026-03-14 Report.docx"
    # an empty value leaves no double space; a visitor without a name shows the user id
    assert render_watermark("{email} {user_id}", CONTRACTOR, FILE, TODAY) == "u-cat"
    assert render_watermark("{user_display_name}", PrincipalFacts("public-x"), FILE, TODAY) == "public-x"


@pytest.mark.parametrize(
    ("given", "key"),
    [
        ({"name": " "}, "name"),
        ({"secure_view": False}, "secure_view"),  # no effect at all
        ({"share_roles": ["viewer", "boss"]}, "share_roles[1]"),
        ({"links": "sometimes"}, "links"),
        ({"links": "any", "share_roles": ["viewer"]}, "links"),  # never both
        ({"folders": ["not-an-id"]}, "folders[0]"),
        ({"groups": [""]}, "groups[0]"),
        ({"watermark": "{user} on {date}"}, "watermark"),
        ({"watermark": "x" * 600}, "watermark"),
    ],
)
def test_rules_that_cannot_be_used(given: dict[str, Any], key: str) -> None:
    with pytest.raises(RuleError) as raised:
        make_rule(**{"name": "r", "secure_view": True, **given})
    assert raised.value.key == key


def test_the_share_roles_a_rule_may_name_are_the_share_roles() -> None:
    assert SHARE_ROLE_NAMES == tuple(role.value for role in ShareRole)


def test_settings_rules_are_checked_at_start_naming_the_entry() -> None:
    settings = load_settings(environ={}, overrides={"policies": [
        {"name": "contractors", "groups": ["contractors"], "secure_view": True, "watermark": "{user_id}"},
        {"name": "links", "links": "password", "watermark": "{date}"},
    ]})
    assert [entry.name for entry in settings.policies] == ["contractors", "links"]
    for bad, key, reason in [
        ({"name": "x", "secure_view": True, "share_roles": ["boss"]}, "policies[1].share_roles[0]", "not a share role"),
        ({"name": "x", "watermark": "{who}"}, "policies[1].watermark", "unknown placeholder {who}"),
        ({"name": "ok", "secure_view": True}, "policies[1].name", "another rule is named 'ok'"),
        ({"name": "x", "links": "all", "secure_view": True}, "policies[1].links", "must be one of"),
        ({"name": "x", "secure_view": True, "color": "red"}, "policies[1].color", "unknown key"),
    ]:
        with pytest.raises(ConfigError) as raised:
            load_settings(environ={}, overrides={"policies": [{"name": "ok", "secure_view": True}, bad]})
        assert raised.value.key == key and reason in raised.value.reason, raised.value
        assert raised.value.source == "overrides"


def test_a_wopi_apps_profile_is_checked_at_start() -> None:
    app = {"name": "Collabora", "discovery_url": "http://cool:9980/hosting/discovery"}
    settings = load_settings(environ={}, overrides={"wopi": {"apps": [{**app, "profile": "collabora"}]}})
    assert settings.wopi.apps[0].profile == "collabora"
    assert load_settings(environ={}, overrides={"wopi": {"apps": [app]}}).wopi.apps[0].profile == "auto"
    with pytest.raises(ConfigError) as raised:
        load_settings(environ={}, overrides={"wopi": {"apps": [{**app, "profile": "libreoffice"}]}})
    assert raised.value.key == "wopi.apps[0].profile"
