"""A local OIDC issuer: discovery document and JWKS on a loopback port, with its own RSA key."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask, jsonify

from tests.support.net import serve_wsgi


@dataclass
class LocalIssuer:
    url: str
    key: rsa.RSAPrivateKey
    key_id: str = "test-key-1"

    def token(self, subject: str = "subject-1", audience: str = "docbridge", lifetime: int = 300, **claims: Any) -> str:
        now = int(time.time())
        payload = {"iss": self.url, "sub": subject, "aud": audience, "iat": now, "exp": now + lifetime, **claims}
        return jwt.encode(payload, self.key, algorithm="RS256", headers={"kid": self.key_id})


@contextmanager
def local_issuer() -> Iterator[LocalIssuer]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public_jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    app = Flask("oidc-issuer")
    state: dict[str, str] = {}

    @app.get("/.well-known/openid-configuration")
    def discovery() -> Any:
        return jsonify(issuer=state["url"], jwks_uri=state["url"] + "/jwks", authorization_endpoint=state["url"] + "/authorize")

    @app.get("/jwks")
    def jwks() -> Any:
        return jsonify(keys=[{**public_jwk, "kid": "test-key-1", "use": "sig", "alg": "RS256"}])

    with serve_wsgi(app) as url:
        state["url"] = url
        yield LocalIssuer(url, key)
