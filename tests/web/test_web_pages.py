"""The pages as an HTTP client sees them: security headers, the login form's CSRF and
redirect rules, and the CSRF rule for API calls authenticated by the session cookie."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import TestUser
from web.oidc_login import code_challenge
from web.security import app_origins, safe_next

TEMPLATES = Path(__file__).resolve().parents[2] / "templates" / "web"


def csrf_of(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found, page
    return found.group(1)


def logged_in(client: FlaskClient, user: TestUser) -> str:
    """Log in through the form; return the CSRF token the browser page carries."""
    token = csrf_of(client.get("/login").get_data(as_text=True))
    answer = client.post("/login", data={"name": user.name, "password": user.password, "csrf_token": token})
    assert answer.status_code == 302
    page = client.get("/").get_data(as_text=True)
    found = re.search(r'"csrf_token": "([^"]+)"', page)
    assert found
    return found.group(1)


def test_pages_send_security_headers(make_app: Callable[..., Flask]) -> None:
    app = make_app(
        onlyoffice={"document_server_url": "http://127.0.0.1:9/ds/", "jwt_secret": "s" * 40},
        wopi={"apps": [{"name": "Collabora", "discovery_url": "http://127.0.0.2:7/hosting/discovery"}]},
    )
    client = app.test_client()
    for path in ("/login", "/s/no-such-token"):
        headers = client.get(path).headers
        assert "Content-Security-Policy" in headers, path
        policy = headers["Content-Security-Policy"]
        frame_src = next(part for part in policy.split("; ") if part.startswith("frame-src"))
        assert frame_src.split()[1:] == [
            "'self'",
            "http://127.0.0.1:9",
            "http://127.0.0.2:7",
            "blob:",
        ]
        assert "script-src 'self';" in policy and "'unsafe-inline'" not in policy
        assert "frame-ancestors 'self'" in policy
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "no-referrer"
    static = client.get("/static/js/browser.js")
    assert static.status_code == 200 and static.mimetype == "text/javascript"
    assert static.headers["X-Content-Type-Options"] == "nosniff"


def test_login_form_needs_its_csrf_token(client: FlaskClient, alice: TestUser) -> None:
    client.get("/login")
    refused = client.post("/login", data={"name": alice.name, "password": alice.password})
    assert refused.status_code == 400
    assert "session expired" in refused.get_data(as_text=True)
    assert client.get("/").status_code == 302


def test_wrong_password_is_refused_and_the_name_kept(client: FlaskClient, alice: TestUser) -> None:
    token = csrf_of(client.get("/login").get_data(as_text=True))
    refused = client.post("/login", data={"name": alice.name, "password": "nope", "csrf_token": token})
    assert refused.status_code == 401
    page = refused.get_data(as_text=True)
    assert "Wrong user name or password." in page and f'value="{alice.name}"' in page


def test_login_goes_only_to_local_addresses(client: FlaskClient, alice: TestUser) -> None:
    token = csrf_of(client.get("/login").get_data(as_text=True))
    answer = client.post(
        "/login",
        data={"name": alice.name, "password": alice.password, "csrf_token": token, "next": "//evil.example/x"},
    )
    assert answer.headers["Location"] == "/"


def test_login_starts_a_fresh_session(client: FlaskClient, alice: TestUser) -> None:
    before = csrf_of(client.get("/login").get_data(as_text=True))
    after = logged_in(client, alice)
    assert before != after


def test_session_api_calls_need_the_csrf_header(client: FlaskClient, alice: TestUser) -> None:
    token = logged_in(client, alice)
    url = f"/api/v1/containers/{alice.home_id}/folders"
    assert client.get("/api/v1/me").get_json()["name"] == alice.name
    forged = client.post(url, json={"name": "forged"})
    assert forged.status_code == 403 and forged.get_json()["code"] == "PERMISSION_DENIED"
    wrong = client.post(url, json={"name": "forged"}, headers={"X-CSRF-Token": token + "x"})
    assert wrong.status_code == 403
    made = client.post(url, json={"name": "mine"}, headers={"X-CSRF-Token": token})
    assert made.status_code == 201
    forged_new = client.post("/app/new", data={"parent_container_id": alice.home_id, "filename": "x.docx"})
    assert forged_new.status_code == 403
    # Scripts that send their own credentials are not affected.
    scripted = client.post(url, json={"name": "scripted"}, headers=alice.auth)
    assert scripted.status_code == 201
    names = {child["name"] for child in client.get(f"/api/v1/containers/{alice.home_id}").get_json()["children"]}
    assert names == {"mine", "scripted"}


def test_logout_needs_the_token_and_ends_the_session(client: FlaskClient, alice: TestUser) -> None:
    token = logged_in(client, alice)
    assert client.post("/logout").status_code == 400
    assert client.get("/api/v1/me").status_code == 200
    answer = client.post("/logout", data={"csrf_token": token})
    assert answer.status_code == 302 and answer.headers["Location"] == "/login"
    assert client.get("/api/v1/me", headers={"X-Requested-With": "XMLHttpRequest"}).status_code == 401


def test_public_link_page(client: FlaskClient, alice: TestUser) -> None:
    file_id = client.put(
        f"/api/v1/containers/{alice.home_id}/files/a.txt", data=b"hello", headers=alice.auth
    ).get_json()["file_id"]
    link = client.post(f"/api/v1/files/{file_id}/links", json={"role": "viewer"}, headers=alice.auth).get_json()
    page = client.get(f"/s/{link['token']}")
    assert page.status_code == 200
    assert '"role": "viewer"' in page.get_data(as_text=True)
    client.delete(f"/api/v1/links/{link['id']}", headers=alice.auth)
    gone = client.get(f"/s/{link['token']}")
    assert gone.status_code == 404 and "Link not available" in gone.get_data(as_text=True)


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/", "/"),
        ("/external?app=A&fileId=x%24y%21z", "/external?app=A&fileId=x%24y%21z"),
        ("//evil.example/", "/"),
        ("/\\evil.example", "/"),
        ("https://evil.example/", "/"),
        ("javascript:alert(1)", "/"),
        ("/ok\r\nLocation: x", "/"),
        ("", "/"),
        (None, "/"),
    ],
)
def test_safe_next(target: str | None, expected: str) -> None:
    assert safe_next(target) == expected


def test_app_origins_are_unique_and_include_the_admins() -> None:
    from core.config import load_settings

    settings = load_settings(
        environ={},
        overrides={
            "onlyoffice": {"document_server_url": "https://a.example/"},
            "wopi": {"apps": [{"name": "X", "discovery_url": "https://a.example/hosting/discovery"}]},
            "web_app_origins": ["https://apps.example:8443/", "not a url"],
        },
    )
    assert app_origins(settings) == ["https://a.example", "https://apps.example:8443"]


def test_pkce_challenge_matches_rfc_7636_example() -> None:
    assert (
        code_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk") == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    )


def test_templates_never_mark_data_safe() -> None:
    for template in TEMPLATES.glob("*.html"):
        assert "|safe" not in template.read_text().replace(" ", ""), template.name
