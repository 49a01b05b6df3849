from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.wopi.wopi_client import WopiClientStandIn, csp_blob, new_key, sign, ticks
from wopi.proofkeys import (
    ProofKeys,
    ProofResult,
    datetime_from_ticks,
    key_from_csp_blob,
    signed_bytes,
    ticks_from_datetime,
    verify_proof,
)

NOW = datetime(2026, 11, 21, 20, 0, tzinfo=UTC)
TOKEN = "tok.en"
URL = "https://docbridge.example/wopi/files/s%24p%21o?access_token=tok.en"
CLIENT = WopiClientStandIn()
STRANGER = new_key()
KEYS = ProofKeys(CLIENT.current_key.public_key(), CLIENT.old_key.public_key())


def check(headers: dict[str, str], keys: ProofKeys = KEYS, url: str = URL, now: datetime = NOW) -> ProofResult:
    return verify_proof(
        keys,
        access_token=TOKEN,
        url=url,
        proof=headers.get("X-WOPI-Proof"),
        proof_old=headers.get("X-WOPI-ProofOld"),
        timestamp=headers.get("X-WOPI-TimeStamp"),
        now=now,
    )


def test_ticks_round_trip() -> None:
    assert ticks_from_datetime(datetime(1970, 1, 1, tzinfo=UTC)) == 621_355_968_000_000_000
    assert datetime_from_ticks(ticks_from_datetime(NOW)) == NOW
    assert ticks(NOW) == ticks_from_datetime(NOW)


def test_signed_bytes_layout() -> None:
    data = signed_bytes("ab", "http://x/y", 1)
    assert data == b"\x00\x00\x00\x02ab" + b"\x00\x00\x00\x0aHTTP://X/Y" + b"\x00\x00\x00\x08" + (1).to_bytes(8, "big")


CASES = [
    ("current valid", {}, ProofResult.VALID),
    ("current and old garbage", {"garble_current": True, "garble_old": True}, ProofResult.MISMATCH),
    ("current valid, old garbage", {"garble_old": True}, ProofResult.VALID),
    # the client rotated before we re-read discovery: it signs with a key we know as old
    ("client ahead", {"current": CLIENT.old_key, "old": STRANGER}, ProofResult.VALID),
    # we re-read discovery before the client machine rotated: ProofOld is signed with our current
    ("client behind", {"current": STRANGER, "old": CLIENT.current_key}, ProofResult.VALID),
    # current garbage and ProofOld signed with the old key: refused
    ("current garbage, old from old key", {"garble_current": True}, ProofResult.MISMATCH),
    ("both from strangers", {"current": STRANGER, "old": STRANGER}, ProofResult.MISMATCH),
]


@pytest.mark.parametrize(("label", "options", "result"), CASES, ids=[c[0] for c in CASES])
def test_validator_cases(label: str, options: dict, result: ProofResult) -> None:  # type: ignore[type-arg]
    headers = CLIENT.proof_headers(TOKEN, URL, when=NOW, **options)
    assert check(headers) is result


def test_timestamp_window() -> None:
    fresh = CLIENT.proof_headers(TOKEN, URL, when=NOW - timedelta(minutes=19))
    assert check(fresh) is ProofResult.VALID
    stale = CLIENT.proof_headers(TOKEN, URL, when=NOW - timedelta(minutes=21))
    assert check(stale) is ProofResult.EXPIRED
    ancient = CLIENT.proof_headers(TOKEN, URL, when=datetime(2015, 8, 17, tzinfo=UTC))
    assert check(ancient) is ProofResult.EXPIRED


def test_url_is_compared_upper_cased_and_exactly() -> None:
    headers = CLIENT.proof_headers(TOKEN, URL.lower(), when=NOW)
    assert check(headers, url=URL) is ProofResult.VALID
    assert check(headers, url=URL + "&x=1") is ProofResult.MISMATCH


def test_missing_and_malformed() -> None:
    assert check({}) is ProofResult.MISSING
    assert check({"X-WOPI-Proof": "abc", "X-WOPI-TimeStamp": "soon"}) is ProofResult.MALFORMED
    stamp = str(ticks(NOW))
    assert check({"X-WOPI-Proof": "!!!", "X-WOPI-TimeStamp": stamp}) is ProofResult.MALFORMED


def test_without_old_key() -> None:
    keys = ProofKeys(CLIENT.current_key.public_key())
    ahead = CLIENT.proof_headers(TOKEN, URL, when=NOW, current=CLIENT.old_key)
    assert check(ahead, keys=keys) is ProofResult.MISMATCH


def test_csp_blob_is_read() -> None:
    key = new_key()
    public = key_from_csp_blob(csp_blob(key))
    assert public.public_numbers() == key.public_key().public_numbers()
    stamp = ticks(NOW)
    signature = sign(key, TOKEN, URL, stamp)
    result = verify_proof(
        ProofKeys(public), access_token=TOKEN, url=URL, proof=signature, proof_old=None,
        timestamp=str(stamp), now=NOW,
    )
    assert result is ProofResult.VALID
