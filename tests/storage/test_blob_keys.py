"""Where the blobs of saves land: saves close in time share the local store's shard folder,
so a save does not make and fsync a new folder each time while the store is young."""

from __future__ import annotations

from pathlib import Path

from flask.testing import FlaskClient

from storage.service import BLOB_KEY_BUCKET_SECONDS, new_blob_key
from tests.conftest import TestUser, upload

SAVES = 20


def shard_folders(blob_root: Path) -> set[str]:
    return {f"{first.name}/{second.name}" for first in blob_root.glob("[0-9a-f][0-9a-f]")
            for second in first.glob("[0-9a-f][0-9a-f]")}


def test_versions_saved_one_after_another_share_one_shard_folder(
    client: FlaskClient, alice: TestUser, base_settings: dict[str, str]
) -> None:
    file_id = upload(client, alice, alice.home_id, "ledger.bin", b"version 1")
    for number in range(2, SAVES + 1):
        assert upload(client, alice, alice.home_id, "ledger.bin", f"version {number}".encode()) == file_id
    listed = client.get(f"/api/v1/files/{file_id}/versions", headers=alice.auth).get_json()["versions"]
    assert len(listed) == SAVES

    # Twenty random keys would almost surely need twenty folders; a run that crosses one
    # 10-second bucket boundary needs two.
    assert 1 <= len(shard_folders(Path(base_settings["data_dir"]) / "blobs")) <= 2
    assert client.get(f"/api/v1/files/{file_id}/content", headers=alice.auth).data == f"version {SAVES}".encode()


def test_blob_keys_are_unique_hex_led_by_their_time_bucket() -> None:
    at = 1_800_000_000.0
    keys = {new_blob_key(at) for _ in range(1000)}
    assert len(keys) == 1000
    assert all(len(key) == 32 and int(key, 16) >= 0 for key in keys)
    assert {key[:4] for key in keys} == {f"{int(at // BLOB_KEY_BUCKET_SECONDS) % 0x10000:04x}"}
    assert new_blob_key(at + BLOB_KEY_BUCKET_SECONDS)[:4] != new_blob_key(at)[:4]
