"""WOPI proof keys: checking that a request really comes from the WOPI client whose
discovery we trust.

A client that publishes a ``proof-key`` element signs every request. The signed bytes are
the access token, the full request URL in upper case and the ``X-WOPI-TimeStamp`` (.NET
ticks as an 8-byte big-endian integer), each preceded by its length as a 4-byte big-endian
integer. The request is genuine when any of these verifies with RSA PKCS#1 v1.5 / SHA-256:
``X-WOPI-Proof`` with the current key, ``X-WOPI-Proof`` with the old key (the client rotated
before we re-read discovery), ``X-WOPI-ProofOld`` with the current key (we re-read discovery
before every client machine rotated). ``X-WOPI-ProofOld`` with the old key is *not* enough.
A timestamp older than 20 minutes is refused.
"""

from __future__ import annotations

import base64
import binascii
import enum
import struct
from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey, RSAPublicNumbers

MAX_AGE_SECONDS = 20 * 60
# .NET DateTime ticks (100 ns) between 0001-01-01 and the Unix epoch.
EPOCH_TICKS = 621_355_968_000_000_000
TICKS_PER_SECOND = 10_000_000


class ProofResult(enum.StrEnum):
    VALID = "valid"
    MISSING = "missing"  # no proof headers
    MALFORMED = "malformed"  # headers present but not decodable
    EXPIRED = "expired"  # timestamp older than 20 minutes (or too far ahead)
    MISMATCH = "mismatch"  # no signature verifies


@dataclass(frozen=True, slots=True)
class ProofKeys:
    current: RSAPublicKey
    old: RSAPublicKey | None = None


class ProofKeyError(ValueError):
    """A published proof key that cannot be read."""


def ticks_from_datetime(moment: datetime) -> int:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    delta = moment.astimezone(UTC) - datetime(1970, 1, 1, tzinfo=UTC)
    return EPOCH_TICKS + (delta.days * 86_400 + delta.seconds) * TICKS_PER_SECOND + delta.microseconds * 10


def datetime_from_ticks(ticks: int) -> datetime:
    seconds, rest = divmod(ticks - EPOCH_TICKS, TICKS_PER_SECOND)
    return datetime.fromtimestamp(seconds, UTC).replace(microsecond=rest // 10)


def signed_bytes(access_token: str, url: str, timestamp: int) -> bytes:
    """The bytes a WOPI client signs for one request."""
    token_bytes = access_token.encode("utf-8")
    url_bytes = url.upper().encode("utf-8")
    return b"".join(
        (
            struct.pack(">I", len(token_bytes)),
            token_bytes,
            struct.pack(">I", len(url_bytes)),
            url_bytes,
            struct.pack(">I", 8),
            struct.pack(">q", timestamp),
        )
    )


def key_from_modulus_exponent(modulus_b64: str, exponent_b64: str) -> RSAPublicKey:
    """A key from discovery's ``modulus``/``exponent`` (base64 big-endian integers)."""
    try:
        modulus = int.from_bytes(base64.b64decode(modulus_b64, validate=True), "big")
        exponent = int.from_bytes(base64.b64decode(exponent_b64, validate=True), "big")
        return RSAPublicNumbers(exponent, modulus).public_key()
    except (binascii.Error, ValueError) as error:
        raise ProofKeyError(f"unreadable proof key: {error}") from error


def key_from_csp_blob(value_b64: str) -> RSAPublicKey:
    """A key from discovery's ``value``: a base64 Windows CAPI PUBLICKEYBLOB.

    Layout: BLOBHEADER (type 0x06, version 0x02, 2 reserved bytes, 4-byte algorithm id),
    RSAPUBKEY ("RSA1", 4-byte bit length, 4-byte exponent, all little-endian), then the
    modulus in little-endian byte order."""
    try:
        blob = base64.b64decode(value_b64, validate=True)
    except (binascii.Error, ValueError) as error:
        raise ProofKeyError(f"unreadable proof key: {error}") from error
    if len(blob) < 20 or blob[0] != 0x06 or blob[8:12] != b"RSA1":
        raise ProofKeyError("the proof key value is not an RSA public key blob")
    bit_length, exponent = struct.unpack("<II", blob[12:20])
    modulus_bytes = blob[20 : 20 + bit_length // 8]
    if len(modulus_bytes) != bit_length // 8:
        raise ProofKeyError("the proof key value is truncated")
    try:
        return RSAPublicNumbers(exponent, int.from_bytes(modulus_bytes, "little")).public_key()
    except ValueError as error:
        raise ProofKeyError(f"unreadable proof key: {error}") from error


def _verifies(key: RSAPublicKey | None, signature: bytes | None, message: bytes) -> bool:
    if key is None or not signature:
        return False
    try:
        key.verify(signature, message, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        return False
    return True


def _decode_signature(value: str | None) -> bytes | None:
    if not value:
        return None
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return None


def verify_proof(
    keys: ProofKeys,
    *,
    access_token: str,
    url: str,
    proof: str | None,
    proof_old: str | None,
    timestamp: str | None,
    now: datetime,
) -> ProofResult:
    """Check one request's proof headers against the client's keys."""
    if not proof and not timestamp:
        return ProofResult.MISSING
    try:
        ticks = int(timestamp or "")
    except ValueError:
        return ProofResult.MALFORMED
    age = (ticks_from_datetime(now) - ticks) / TICKS_PER_SECOND
    if age > MAX_AGE_SECONDS or age < -MAX_AGE_SECONDS:
        return ProofResult.EXPIRED
    message = signed_bytes(access_token, url, ticks)
    current_signature = _decode_signature(proof)
    old_signature = _decode_signature(proof_old)
    if current_signature is None:
        return ProofResult.MALFORMED
    if (
        _verifies(keys.current, current_signature, message)
        or _verifies(keys.old, current_signature, message)
        or _verifies(keys.current, old_signature, message)
    ):
        return ProofResult.VALID
    return ProofResult.MISMATCH
