"""Proof keys over HTTP: the WOPI validator's ProofKeys cases, key rotation, the policy."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask

from server.services import services_of
from tests.conftest import TestUser, basic_auth, upload
from tests.wopi.conftest import WopiCaller, issue_token, wopi_settings
from tests.wopi.wopi_client import WopiClientStandIn, new_key, serve

Maker = Callable[..., WopiCaller]
STRANGER = new_key()


@pytest.mark.parametrize(
    ("options", "status"),
    [
        ({}, 200),  # ProofKeyCurrentValid
        ({"garble_current": True, "garble_old": True}, 500),  # ProofKeyCurrentOldGarbage
        ({"garble_old": True}, 200),  # ProofKeyCurrentValidOldGarbage
        ({"when": datetime(2015, 8, 17, tzinfo=UTC)}, 500),  # WopiTimestampOlderThan20Min
        ({"garble_current": True}, 500),  # ProofKeyCurrentGarbageValidOldFromOldKey
        ({"current": STRANGER, "old": STRANGER}, 500),
    ],
)
def test_validator_proof_cases(make_caller: Maker, alice: TestUser, options: dict, status: int) -> None:  # type: ignore[type-arg]
    caller = make_caller(alice, "p.wopitest", b"x")
    caller.proof_options = options
    assert caller.check_file_info().status_code == status
    assert caller.get_file().status_code == status


def test_client_ahead_and_behind(make_caller: Maker, alice: TestUser, stand_in: WopiClientStandIn) -> None:
    caller = make_caller(alice, "p.wopitest", b"x")
    # WacAheadOfHost: signs with a key we know as "old"
    caller.proof_options = {"current": stand_in.old_key, "old": STRANGER}
    assert caller.check_file_info().status_code == 200
    # WacBehindHost: X-WOPI-ProofOld is signed with our current key
    caller.proof_options = {"current": STRANGER, "old": stand_in.current_key}
    assert caller.check_file_info().status_code == 200


def test_missing_proof_headers_are_refused_when_keys_are_published(make_caller: Maker, alice: TestUser) -> None:
    caller = make_caller(alice, "p.wopitest", b"x")
    caller.sign = False
    assert caller.check_file_info().status_code == 500


def test_proofs_are_checked_before_changes(make_caller: Maker, alice: TestUser) -> None:
    caller = make_caller(alice, "p.wopitest", b"original")
    caller.proof_options = {"garble_current": True, "garble_old": True}
    assert caller.lock("L").status_code == 500
    caller.proof_options = {}
    assert caller.post("GET_LOCK").headers["X-WOPI-Lock"] == ""


def test_rotation_refetches_discovery_once(make_caller: Maker, alice: TestUser, stand_in: WopiClientStandIn) -> None:
    caller = make_caller(alice, "p.wopitest", b"x")
    before = stand_in.discovery_requests
    stand_in.rotate()
    stand_in.rotate()  # both keys are now unknown to Docbridge
    assert caller.check_file_info().status_code == 200
    assert stand_in.discovery_requests == before + 1
    # a forged request right after does not make Docbridge fetch discovery again
    caller.proof_options = {"current": STRANGER, "old": STRANGER}
    assert caller.check_file_info().status_code == 500
    assert stand_in.discovery_requests == before + 1


def _caller_for(app: Flask, stand_in: WopiClientStandIn, name: str) -> WopiCaller:
    client = app.test_client()
    user = services_of(app).users.create(name, "secret")
    test_user = TestUser(user.id, name, "secret", str(user.home_id), basic_auth(name, "secret"))
    file_id = upload(client, test_user, test_user.home_id, "x.wopitest", b"x")
    return WopiCaller(client, stand_in, issue_token(app, test_user, file_id), file_id)


def test_policy_off_ignores_proofs(make_app: Callable[..., Flask], stand_in: WopiClientStandIn) -> None:
    caller = _caller_for(make_app(**wopi_settings(stand_in, proof_keys="off")), stand_in, "erin")
    caller.proof_options = {"garble_current": True, "garble_old": True}
    assert caller.check_file_info().status_code == 200


@pytest.mark.parametrize(("policy", "status"), [("required", 500), ("if-published", 200)])
def test_client_without_proof_keys(make_app: Callable[..., Flask], policy: str, status: int) -> None:
    with serve(WopiClientStandIn(publish_proof_keys=False)) as plain:
        caller = _caller_for(make_app(**wopi_settings(plain, proof_keys=policy)), plain, "frank")
        caller.sign = False
        assert caller.check_file_info().status_code == status


def test_stale_timestamp_within_window(make_caller: Maker, alice: TestUser) -> None:
    caller = make_caller(alice, "p.wopitest", b"x")
    caller.proof_options = {"when": datetime.now(UTC) - timedelta(minutes=19)}
    assert caller.check_file_info().status_code == 200
    caller.proof_options = {"when": datetime.now(UTC) - timedelta(minutes=21)}
    assert caller.check_file_info().status_code == 500


def test_collabora_shaped_keys(make_app: Callable[..., Flask]) -> None:
    with serve(WopiClientStandIn(shape="collabora")) as cool:
        caller = _caller_for(make_app(**wopi_settings(cool)), cool, "gina")
        assert caller.check_file_info().status_code == 200
        caller.proof_options = {"garble_current": True, "garble_old": True}
        assert caller.check_file_info().status_code == 500
