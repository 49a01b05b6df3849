"""Every way to authenticate, driven over HTTP as clients do; bad credentials are a 401 in
the {"code", "message"} shape."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from server.services import services_of
from storage.metadata.schema import users
from tests.conftest import TestUser, basic_auth, upload
from tests.support.oidc import LocalIssuer, local_issuer


def assert_unauthenticated(response: Any) -> None:
    assert response.status_code == 401
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.get_json()["code"] == "UNAUTHENTICATED"
    assert response.get_json()["message"]


def test_no_credentials(client: FlaskClient) -> None:
    assert_unauthenticated(client.get("/api/v1/me"))


def test_basic(client: FlaskClient, alice: TestUser) -> None:
    assert client.get("/api/v1/me", headers=alice.auth).get_json()["name"] == "alice"
    assert_unauthenticated(client.get("/api/v1/me", headers=basic_auth("alice", "wrong")))
    assert_unauthenticated(client.get("/api/v1/me", headers=basic_auth("nobody", "secret")))
    assert_unauthenticated(client.get("/api/v1/me", headers={"Authorization": "Basic !!!"}))


def test_basic_can_be_switched_off(make_app: Callable[..., Flask]) -> None:
    app = make_app(basic_auth=False)
    services_of(app).users.create("carol", "secret")
    assert_unauthenticated(app.test_client().get("/api/v1/me", headers=basic_auth("carol", "secret")))


def stored_hash(app: Flask, name: str) -> str:
    with services_of(app).engine.connect() as connection:
        return str(connection.execute(select(users.c.password_hash).where(users.c.name == name)).scalar_one())


def test_passwords_hashed_before_a_change_of_method_still_log_in(make_app: Callable[..., Flask], tmp_path: Any) -> None:
    data_dir = str(tmp_path / "shared")
    before = make_app(data_dir=data_dir, password_hashing="pbkdf2:sha256:2000")
    services_of(before).users.create("carol", "old-secret")
    assert stored_hash(before, "carol").startswith("pbkdf2:sha256:2000$")
    services_of(before).engine.dispose()

    after = make_app(data_dir=data_dir, password_hashing="scrypt")
    client = after.test_client()
    assert client.get("/api/v1/me", headers=basic_auth("carol", "old-secret")).get_json()["name"] == "carol"
    assert_unauthenticated(client.get("/api/v1/me", headers=basic_auth("carol", "wrong")))
    services_of(after).users.set_password("carol", "new-secret")
    assert stored_hash(after, "carol").startswith("scrypt:")
    assert client.get("/api/v1/me", headers=basic_auth("carol", "new-secret")).get_json()["name"] == "carol"
    assert_unauthenticated(client.get("/api/v1/me", headers=basic_auth("carol", "old-secret")))


def test_access_token_from_the_cli(app: Flask, client: FlaskClient, alice: TestUser) -> None:
    result = app.test_cli_runner().invoke(args=["user", "token", "alice"])
    token = result.output.strip()
    assert result.exit_code == 0 and token.startswith("dbt_")
    assert client.get("/api/v1/me", headers={"X-Access-Token": token}).get_json()["id"] == alice.id
    assert_unauthenticated(client.get("/api/v1/me", headers={"X-Access-Token": token + "x"}))


@pytest.fixture
def issuer() -> Iterator[LocalIssuer]:
    with local_issuer() as running:
        yield running


@pytest.fixture
def oidc_app(make_app: Callable[..., Flask], issuer: LocalIssuer) -> Flask:
    return make_app(oidc={"issuer": issuer.url, "audience": "docbridge"})


def test_oidc_bearer_creates_and_then_finds_the_user(oidc_app: Flask, issuer: LocalIssuer) -> None:
    client = oidc_app.test_client()
    token = issuer.token(subject="sub-42", preferred_username="dana", name="Dana Scully", email="dana@example.org")
    first = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert first.status_code == 200
    assert first.get_json()["name"] == "dana"
    assert first.get_json()["display_name"] == "Dana Scully"
    again = client.get("/api/v1/me", headers={"Authorization": f"Bearer {issuer.token(subject='sub-42')}"})
    assert again.get_json()["id"] == first.get_json()["id"]


def test_oidc_groups_are_kept_in_step_with_the_claim_at_each_login(oidc_app: Flask, issuer: LocalIssuer) -> None:
    client = oidc_app.test_client()
    found = services_of(oidc_app)
    found.groups.create("sales", "Sales")  # a local group that happens to share a claimed name
    found.groups.create("board")

    def login(**claims: object) -> str:
        token = issuer.token(subject="sub-7", preferred_username="eve", **claims)
        answer = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 200, answer.get_data(as_text=True)
        return str(answer.get_json()["id"])

    user_id = login(groups=["/staff/engineering", "sales"])
    found.groups.add_member("board", user_id)
    assert {group.name: group.source for group in found.groups.groups_of(user_id)} == {
        "board": "local", "sales": "local", "staff.engineering": "oidc"}
    login(groups="staff.engineering")  # one string, as some identity providers send it
    assert [group.name for group in found.groups.groups_of(user_id)] == ["board", "sales", "staff.engineering"]
    login(groups=["sales"])
    assert [group.name for group in found.groups.groups_of(user_id)] == ["board", "sales"]
    login()
    assert [group.name for group in found.groups.groups_of(user_id)] == ["board", "sales"]


def test_a_share_with_a_claimed_group_reaches_its_members(oidc_app: Flask, issuer: LocalIssuer) -> None:
    client = oidc_app.test_client()
    owner = services_of(oidc_app).users.create("olga", "pw")
    auth = basic_auth("olga", "pw")
    file_id = client.put(f"/api/v1/containers/{owner.home_id}/files/plan.txt", data=b"plan", headers=auth).get_json()["file_id"]
    bearer = {"Authorization": f"Bearer {issuer.token(subject='sub-8', preferred_username='finn', groups=['ops'])}"}
    assert client.get("/api/v1/me", headers=bearer).status_code == 200
    assert client.post(f"/api/v1/files/{file_id}/shares", json={"group": "ops", "role": "viewer"}, headers=auth).status_code == 201
    assert client.get(f"/api/v1/files/{file_id}/content", headers=bearer).data == b"plan"


@pytest.mark.parametrize(
    "make_token",
    [
        lambda issuer: issuer.token(audience="someone-else"),
        lambda issuer: issuer.token(lifetime=-120),
        lambda issuer: issuer.token() + "tampered",
        lambda issuer: LocalIssuer("http://127.0.0.1:1", issuer.key).token(),
        lambda issuer: "not-a-jwt",
    ],
    ids=["wrong-audience", "expired", "bad-signature", "wrong-issuer", "malformed"],
)
def test_oidc_bad_tokens(oidc_app: Flask, issuer: LocalIssuer, make_token: Callable[[LocalIssuer], str]) -> None:
    response = oidc_app.test_client().get("/api/v1/me", headers={"Authorization": f"Bearer {make_token(issuer)}"})
    assert_unauthenticated(response)


def test_oidc_token_signed_by_another_key(oidc_app: Flask, issuer: LocalIssuer) -> None:
    with local_issuer() as impostor:
        forged = LocalIssuer(issuer.url, impostor.key).token()
    assert_unauthenticated(oidc_app.test_client().get("/api/v1/me", headers={"Authorization": f"Bearer {forged}"}))


def test_bearer_without_an_issuer_configured(client: FlaskClient) -> None:
    assert_unauthenticated(client.get("/api/v1/me", headers={"Authorization": "Bearer abc"}))


def make_link(client: FlaskClient, user: TestUser, node_id: str, **body: Any) -> dict[str, Any]:
    response = client.post(f"/api/v1/files/{node_id}/links", json=body, headers=user.auth)
    assert response.status_code == 201, response.get_data(as_text=True)
    return dict(response.get_json())


def test_public_token_and_password(client: FlaskClient, alice: TestUser) -> None:
    file_id = upload(client, alice, alice.home_id, "shared.txt", b"hello")
    open_link = make_link(client, alice, file_id, role="viewer")
    response = client.get(f"/api/v1/files/{file_id}/content", headers={"Public-Token": open_link["token"]})
    assert response.status_code == 200 and response.data == b"hello"
    protected = make_link(client, alice, file_id, role="viewer", password="pw")
    headers = {"Public-Token": protected["token"]}
    assert_unauthenticated(client.get(f"/api/v1/files/{file_id}", headers=headers))
    assert_unauthenticated(client.get(f"/api/v1/files/{file_id}", headers={**headers, **basic_auth("public", "wrong")}))
    ok = client.get(f"/api/v1/files/{file_id}", headers={**headers, **basic_auth("public", "pw")})
    assert ok.status_code == 200
    assert_unauthenticated(client.get(f"/api/v1/files/{file_id}", headers={"Public-Token": "no-such-link"}))


def test_public_link_reaches_only_its_node(client: FlaskClient, alice: TestUser) -> None:
    shared = upload(client, alice, alice.home_id, "shared.txt", b"x")
    private = upload(client, alice, alice.home_id, "private.txt", b"y")
    link = make_link(client, alice, shared, role="editor")
    headers = {"Public-Token": link["token"]}
    assert client.get(f"/api/v1/files/{private}", headers=headers).status_code == 404
    assert client.get(f"/api/v1/files/{shared}", headers=headers).status_code == 200
    assert client.get("/api/v1/me", headers=headers).status_code == 401


def test_expired_link_is_refused(client: FlaskClient, alice: TestUser, app: Flask) -> None:
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import update

    from storage.metadata.schema import links

    file_id = upload(client, alice, alice.home_id, "soon.txt", b"x")
    link = make_link(client, alice, file_id, role="viewer", expires_at=(datetime.now(UTC) + timedelta(hours=1)).isoformat())
    with services_of(app).engine.begin() as connection:
        connection.execute(update(links).where(links.c.id == link["id"]).values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
    assert_unauthenticated(client.get(f"/api/v1/files/{file_id}", headers={"Public-Token": link["token"]}))
