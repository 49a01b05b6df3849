"""An OpenID Connect provider stand-in on loopback: discovery, an authorization endpoint
that approves at once (as a provider does for someone already logged in there), a token
endpoint that checks the PKCE verifier, and the JWKS that signs its access tokens."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask, jsonify, redirect, request
from werkzeug.wrappers import Response

from tests.support.net import serve_wsgi

KEY_ID = "standin-key"


@dataclass
class OidcStandIn:
    client_id: str
    subject: str = "sub-0042"
    claims: dict[str, Any] = field(default_factory=lambda: {"preferred_username": "carol", "name": "Carol Castle"})
    url: str = ""
    key: rsa.RSAPrivateKey = field(
        default_factory=lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048)
    )
    codes: dict[str, dict[str, str]] = field(default_factory=dict)
    token_requests: list[dict[str, str]] = field(default_factory=list)

    def access_token(self) -> str:
        now = int(time.time())
        payload = {"iss": self.url, "sub": self.subject, "aud": self.client_id, "iat": now, "exp": now + 300}
        return jwt.encode({**payload, **self.claims}, self.key, algorithm="RS256", headers={"kid": KEY_ID})


def _challenge(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


def make_app(stand_in: OidcStandIn) -> Flask:
    app = Flask("oidc-standin")
    public_jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(stand_in.key.public_key()))

    @app.get("/.well-known/openid-configuration")
    def discovery() -> Response:
        base = stand_in.url
        return jsonify(
            issuer=base,
            authorization_endpoint=base + "/authorize",
            token_endpoint=base + "/token",
            jwks_uri=base + "/jwks",
            code_challenge_methods_supported=["S256"],
        )

    @app.get("/jwks")
    def jwks() -> Response:
        return jsonify(keys=[{**public_jwk, "kid": KEY_ID, "use": "sig", "alg": "RS256"}])

    @app.get("/authorize")
    def authorize() -> Response | tuple[str, int]:
        args = request.args
        if args.get("client_id") != stand_in.client_id or args.get("response_type") != "code":
            return "unknown client", 400
        if args.get("code_challenge_method") != "S256" or not args.get("code_challenge"):
            return "PKCE required", 400
        code = secrets.token_urlsafe(16)
        stand_in.codes[code] = {"challenge": args["code_challenge"], "redirect_uri": args["redirect_uri"]}
        return redirect(args["redirect_uri"] + "?" + urlencode({"code": code, "state": args.get("state", "")}))

    @app.post("/token")
    def token() -> Response | tuple[Response, int]:
        form = request.form.to_dict()
        stand_in.token_requests.append(form)
        issued = stand_in.codes.pop(form.get("code", ""), None)
        if (
            issued is None
            or form.get("grant_type") != "authorization_code"
            or form.get("client_id") != stand_in.client_id
            or form.get("redirect_uri") != issued["redirect_uri"]
            or _challenge(form.get("code_verifier", "")) != issued["challenge"]
        ):
            return jsonify(error="invalid_grant"), 400
        return jsonify(access_token=stand_in.access_token(), token_type="Bearer", expires_in=300)

    return app


@contextmanager
def oidc_standin(client_id: str) -> Iterator[OidcStandIn]:
    stand_in = OidcStandIn(client_id)
    with serve_wsgi(make_app(stand_in)) as url:
        stand_in.url = url
        yield stand_in
