"""WOPI clients and teams: only the editor role writes (WOPI has no comment-only or
review-only mode, so those roles open read-only), colleagues get tokens for the same
WOPISrc and the lock rules hold between them, and a revoked share ends a token at its next use."""

from __future__ import annotations

from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from flask.testing import FlaskClient

from tests.conftest import TestUser, upload
from tests.wopi.conftest import APP_NAME, WopiCaller
from tests.wopi.wopi_client import WopiClientStandIn


def launch(client: FlaskClient, stand_in: WopiClientStandIn, user: TestUser, file_id: str) -> tuple[str, WopiCaller]:
    """Open through the registry as the web UI does; the action and a caller for the WOPISrc."""
    answer = client.post("/app/open", data={"file_id": file_id, "app_name": APP_NAME}, headers=user.auth)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    url = urlsplit(answer.get_json()["app_url"])
    wopi_src = parse_qs(url.query)["WOPISrc"][0]
    caller = WopiCaller(client, stand_in, answer.get_json()["form_parameters"]["access_token"],
                        unquote(wopi_src.rsplit("/", 1)[1]))
    return url.path.rsplit("/", 1)[1], caller


def shared(client: FlaskClient, owner: TestUser, recipient: TestUser, role: str) -> tuple[str, str]:
    file_id = upload(client, owner, owner.home_id, "memo.docx", b"PK memo")
    made = client.post(f"/api/v1/files/{file_id}/shares", json={"user": recipient.name, "role": role}, headers=owner.auth)
    assert made.status_code == 201
    return file_id, str(made.get_json()["id"])


@pytest.mark.parametrize(("role", "action", "writes"), [
    ("editor", "edit.aspx", True),
    ("reviewer", "view.aspx", False),
    ("commenter", "view.aspx", False),
    ("form_filler", "view.aspx", False),
    ("viewer", "view.aspx", False),
])
def test_only_editors_write_through_wopi(client: FlaskClient, stand_in: WopiClientStandIn, alice: TestUser,
                                         bob: TestUser, role: str, action: str, writes: bool) -> None:
    file_id, _ = shared(client, alice, bob, role)
    opened, caller = launch(client, stand_in, bob, file_id)
    assert opened == action
    info = caller.check_file_info().get_json()
    assert info["UserCanWrite"] is writes and info["ReadOnly"] is (not writes)
    assert info["UserId"] == bob.id
    assert caller.get_file().data == b"PK memo"
    locked = caller.lock("bob-session")
    assert locked.status_code == (200 if writes else 401)


def test_colleagues_share_the_wopisrc_and_the_lock(client: FlaskClient, stand_in: WopiClientStandIn, alice: TestUser,
                                                   bob: TestUser) -> None:
    file_id, _ = shared(client, alice, bob, "editor")
    _, alices = launch(client, stand_in, alice, file_id)
    _, bobs = launch(client, stand_in, bob, file_id)
    assert alices.file_id == bobs.file_id and alices.token != bobs.token
    assert alices.lock("collabora-doc-1").status_code == 200
    # Co-editors of one WOPI session present the session's lock; anyone else is refused.
    assert bobs.lock("collabora-doc-1").status_code == 200
    refused = bobs.put_file(b"PK bob", lock="another-session")
    assert refused.status_code == 409 and refused.headers["X-WOPI-Lock"] == "collabora-doc-1"
    saved = bobs.put_file(b"PK bob's save", lock="collabora-doc-1")
    assert saved.status_code == 200
    versions = client.get(f"/api/v1/files/{file_id}/versions", headers=alice.auth).get_json()["versions"]
    assert versions[0]["author_id"] == bob.id and versions[0]["author"] == "bob"


def test_a_revoked_share_ends_the_token_at_its_next_use(client: FlaskClient, stand_in: WopiClientStandIn,
                                                        alice: TestUser, bob: TestUser) -> None:
    file_id, share_id = shared(client, alice, bob, "editor")
    _, caller = launch(client, stand_in, bob, file_id)
    assert caller.check_file_info().status_code == 200
    narrowed = client.patch(f"/api/v1/files/{file_id}/shares/{share_id}", json={"role": "viewer"}, headers=alice.auth)
    assert narrowed.status_code == 200
    assert caller.check_file_info().get_json()["UserCanWrite"] is False
    assert caller.put_file(b"PK no", lock="x").status_code == 401
    assert client.delete(f"/api/v1/files/{file_id}/shares/{share_id}", headers=alice.auth).status_code == 204
    assert caller.check_file_info().status_code == 401
    assert caller.get_file().status_code == 401
