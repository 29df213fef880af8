"""HMAC-SHA256 request signing shared by both directions of the API (merchant → provider
calls and provider → merchant notifications). Pure: no Flask, no database.

The signed material binds the timestamp, the method and the request target to the raw
body, so a captured signature can neither be replayed after the tolerance nor reused on
another endpoint (a void and a status query both have an empty body)."""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime

SIGNATURE_HEADER = "X-Signature"
TIMESTAMP_HEADER = "X-Timestamp"
SCHEME = "sha256="
DEFAULT_TOLERANCE_SECONDS = 300


class SignatureRejected(Exception):
    """The request is not signed by someone who holds the shared secret, or too old."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def signed_material(timestamp: str, method: str, target: str, body: bytes) -> bytes:
    """`<timestamp>\\n<METHOD>\\n<path?query>\\n<raw body>`."""
    return f"{timestamp}\n{method.upper()}\n{target}\n".encode() + body


def signature(secret: str, timestamp: str, method: str, target: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), signed_material(timestamp, method, target, body), hashlib.sha256)
    return SCHEME + digest.hexdigest()


def signed_headers(secret: str, method: str, target: str, body: bytes, now: datetime) -> dict[str, str]:
    timestamp = str(int(now.timestamp()))
    return {
        TIMESTAMP_HEADER: timestamp,
        SIGNATURE_HEADER: signature(secret, timestamp, method, target, body),
    }


def verify(
    secret: str,
    timestamp: str | None,
    given_signature: str | None,
    method: str,
    target: str,
    body: bytes,
    now: datetime,
    tolerance_seconds: int = DEFAULT_TOLERANCE_SECONDS,
) -> None:
    """Raise SignatureRejected unless the signature matches and the timestamp is within
    `tolerance_seconds` of `now` (either side, for clock skew)."""
    if not timestamp or not given_signature:
        raise SignatureRejected("missing_signature")
    if not (timestamp.isascii() and timestamp.isdigit()) or len(timestamp) > 12:
        raise SignatureRejected("bad_timestamp")
    if abs(now.timestamp() - int(timestamp)) > tolerance_seconds:
        raise SignatureRejected("stale_timestamp")
    expected = signature(secret, timestamp, method, target, body)
    if not hmac.compare_digest(expected.encode(), given_signature.strip().encode()):
        raise SignatureRejected("bad_signature")
