"""The limit apps of `make bench-compare` answer what the benchmark compares Docbridge with:
a fixed 400-byte JSON, and PUT bodies stored whole (no timing here)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from bench.limits import bare_json, durable_put


def test_bare_json_answers_the_same_400_bytes_of_json() -> None:
    client = bare_json.app.test_client()
    answer = client.get("/wopi/files/anything")
    assert answer.status_code == 200
    assert answer.mimetype == "application/json"
    assert len(answer.data) == 400
    assert json.loads(answer.data)["BaseFileName"]
    assert client.get("/healthz").status_code == 200


def test_durable_put_stores_each_body_whole_and_serves_it_back(tmp_path: Path) -> None:
    client = durable_put.create_app(tmp_path).test_client()
    first, second = os.urandom(3 * durable_put.PIECE + 17), os.urandom(1000)
    assert client.post("/wopi/files/put-0/contents", data=first, headers={"X-WOPI-Override": "PUT"}).status_code == 200
    assert (tmp_path / "put-0").read_bytes() == first
    assert client.put("/wopi/files/put-0/contents", data=second).status_code == 200
    with client.get("/wopi/files/put-0/contents") as answer:
        assert answer.data == second
    assert sorted(path.name for path in tmp_path.iterdir()) == ["put-0"]  # no temporary file left


def test_durable_put_keeps_to_its_folder(tmp_path: Path) -> None:
    client = durable_put.create_app(tmp_path / "puts").test_client()
    assert client.put("/wopi/files/..%2Fescaped/contents", data=b"x").status_code == 404
    assert client.put("/wopi/files/.hidden/contents", data=b"x").status_code == 404
    assert client.get("/wopi/files/missing/contents").status_code == 404
    assert not (tmp_path / "escaped").exists()
