from __future__ import annotations

import base64
import json
import time

import jwt
import pytest

from core.errors import InvalidToken
from onlyoffice.ds_tokens import DsTokens, bearer_token

SECRET = "ds-secret-for-tests-" + "0123456789abcdef" * 4
tokens = DsTokens(secret=SECRET, leeway_seconds=60)


def _unsigned(claims: dict[str, object]) -> str:
    def part(value: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}."


def test_sign_object_claims_are_the_object() -> None:
    token = tokens.sign_object({"document": {"key": "k"}, "token": "dropped"}, now=1000)
    claims = jwt.decode(token, SECRET, algorithms=["HS256"], options={"verify_exp": False})
    assert claims == {"document": {"key": "k"}, "iat": 1000, "exp": 1300}
    assert jwt.get_unverified_header(token)["alg"] == "HS256"


def test_header_token_wraps_payload() -> None:
    token = tokens.sign_header({"url": "http://x/y"})
    assert tokens.verify_header(tokens.header_value(token)) == {"url": "http://x/y"}
    assert tokens.download_url_claim("Bearer " + token) == "http://x/y"


@pytest.mark.parametrize("algorithm", ["HS384", "HS512"])
def test_other_hmac_algorithms_verify(algorithm: str) -> None:
    token = jwt.encode({"a": 1, "exp": int(time.time()) + 60}, SECRET, algorithm=algorithm)
    assert tokens.verify(token)["a"] == 1


@pytest.mark.parametrize(
    "token",
    [
        "",
        "not-a-jwt",
        _unsigned({"a": 1, "exp": int(time.time()) + 60}),
        jwt.encode({"a": 1, "exp": int(time.time()) + 60}, "another-secret-" + "x" * 64, algorithm="HS256"),
        jwt.encode({"a": 1}, SECRET, algorithm="HS256"),  # no exp
        jwt.encode({"a": 1, "exp": int(time.time()) - 120}, SECRET, algorithm="HS256"),
    ],
    ids=["empty", "garbage", "alg-none", "forged", "no-exp", "expired"],
)
def test_refused_tokens(token: str) -> None:
    with pytest.raises(InvalidToken):
        tokens.verify(token)


def test_leeway_accepts_recently_expired() -> None:
    token = jwt.encode({"a": 1, "exp": int(time.time()) - 30}, SECRET, algorithm="HS256")
    assert tokens.verify(token)["a"] == 1


def test_callback_fields_prefer_the_body_token() -> None:
    signed = {"key": "k1", "status": 2, "url": "http://ds/cache/1", "changesurl": "http://ds/c"}
    body = {"key": "k1", "status": 2, "url": "http://evil/", "token": tokens.sign_object(signed)}
    header = tokens.header_value(tokens.sign_header({"key": "k1", "status": 2, "url": "http://other/"}))
    assert tokens.callback_fields(body, header) == signed


def test_callback_fields_fall_back_to_header_payload() -> None:
    payload = {"key": "k1", "status": 1, "users": ["u"]}
    header = tokens.header_value(tokens.sign_header(payload))
    assert tokens.callback_fields({"key": "k1", "status": 4}, header) == payload


def test_callback_fields_unwrap_a_wrapped_body_token() -> None:
    payload = {"key": "k1", "status": 4}
    body = {"token": tokens.sign_header(payload)}
    assert tokens.callback_fields(body, None) == payload


@pytest.mark.parametrize(
    ("body", "header"),
    [
        ({"key": "k", "status": 2}, None),
        ({"key": "k", "status": 2, "token": _unsigned({"key": "k", "status": 2, "exp": 2**40})}, None),
        ({"key": "k", "status": 2}, "Bearer " + _unsigned({"payload": {"key": "k"}, "exp": 2**40})),
        ({"key": "k", "status": 2}, "Bearer " + tokens.sign_object({"key": "k"})),  # no payload
    ],
    ids=["unsigned", "body-alg-none", "header-alg-none", "header-without-payload"],
)
def test_callback_fields_refuse(body: dict[str, object], header: str | None) -> None:
    with pytest.raises(InvalidToken):
        tokens.callback_fields(body, header)


def test_jwt_off_reads_the_plain_body() -> None:
    off = DsTokens(secret="", enabled=False)
    assert off.callback_fields({"key": "k", "status": 4, "token": "x"}, None) == {"key": "k", "status": 4}


@pytest.mark.parametrize(
    ("header", "token"),
    [(None, None), ("", None), ("Bearer abc", "abc"), ("bearer  abc ", "abc"), ("abc", "abc"), ("Basic abc", None)],
)
def test_bearer_token(header: str | None, token: str | None) -> None:
    assert bearer_token(header) == token
