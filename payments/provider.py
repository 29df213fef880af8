"""HTTP client of the card company's API (payment_standin/README.md): signed requests,
JSON answers, and the signed notifications it sends. Swapping in a real provider means
another class with these methods, built by `provider_client`."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests

# The card company's session ids (payment_standin/README.md): anything else is not one.
SESSION_ID = re.compile(r"cs_[A-Za-z0-9_-]{20,64}")


def is_session_id(text: str) -> bool:
    return SESSION_ID.fullmatch(text) is not None


class ProviderUnavailable(Exception):
    """The provider could not be reached or answered with a server error: try again."""


class ProviderRefused(Exception):
    """The provider refused the request (4xx) with an error code."""

    def __init__(self, status: int, code: str, message: str = ""):
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code


class BadSignature(Exception):
    """A notification whose signature or timestamp does not check out."""


class MalformedNotification(Exception):
    """A signed notification whose body is not an event with a session document."""


def sign(secret: str, method: str, target: str, body: bytes, stamp: int | None = None) -> dict[str, str]:
    stamp_text = str(int(time.time()) if stamp is None else stamp)
    material = f"{stamp_text}\n{method}\n{target}\n".encode() + body
    digest = hmac.new(secret.encode(), material, hashlib.sha256).hexdigest()
    return {"X-Timestamp": stamp_text, "X-Signature": f"sha256={digest}"}


def verify(secret: str, method: str, target: str, body: bytes, headers, tolerance: int = 300) -> bool:
    """Check a notification's signature and timestamp (the same scheme in both directions)."""
    stamp = headers.get("X-Timestamp", "")
    given = headers.get("X-Signature", "")
    # ASCII digits of a sane length: int() refuses over 4,300 digits, compare_digest
    # refuses non-ASCII strings (both were 500s).
    if not (stamp.isascii() and stamp.isdigit()) or len(stamp) > 12:
        return False
    if not (given.isascii() and given.startswith("sha256=")):
        return False
    if abs(time.time() - int(stamp)) > tolerance:
        return False
    expected = sign(secret, method, target, body, int(stamp))["X-Signature"]
    return hmac.compare_digest(expected.encode(), given.encode())


@dataclass
class ProviderClient:
    base_url: str
    secret: str
    timeout: float = 10.0

    def _call(self, method: str, path: str, payload: dict | None = None) -> dict:
        body = json.dumps(payload).encode() if payload is not None else b""
        headers = sign(self.secret, method, path, body)
        if payload is not None:
            headers["Content-Type"] = "application/json"
        try:
            response = requests.request(
                method, self.base_url.rstrip("/") + path, data=body, headers=headers, timeout=self.timeout
            )
        except requests.RequestException as exc:
            raise ProviderUnavailable(str(exc)) from exc
        if response.status_code >= 500:
            raise ProviderUnavailable(f"{response.status_code} {response.text[:200]}")
        try:
            document = response.json()
        except ValueError as exc:
            raise ProviderUnavailable(f"not JSON: {response.text[:200]}") from exc
        if response.status_code >= 400:
            raise ProviderRefused(response.status_code, document.get("error", ""), document.get("message", ""))
        return document

    def create_session(
        self, *, reference: str, receipt_number: str, amount_yen: int, return_url: str, notify_url: str, locale: str
    ) -> dict:
        """Idempotent on the receipt number: the same call returns the same session."""
        return self._call(
            "POST",
            "/api/sessions",
            {
                "merchant_reference": reference,
                "receipt_number": receipt_number,
                "amount_yen": amount_yen,
                "return_url": return_url,
                "notify_url": notify_url,
                "locale": locale,
            },
        )

    def get_session(self, session_id: str) -> dict:
        return self._call("GET", f"/api/sessions/{session_id}")

    def get_receipt(self, receipt_number: str) -> dict:
        return self._call("GET", f"/api/receipts/{receipt_number}")

    def void(self, receipt_number: str) -> dict:
        """Idempotent: voiding a voided charge answers the same document."""
        return self._call("POST", f"/api/receipts/{receipt_number}/void")

    def ledger(self) -> dict:
        return self._call("GET", "/api/ledger")


def provider_client(config: Mapping) -> ProviderClient:
    """The client for PAYMENT_PROVIDER_URL and PAYMENT_PROVIDER_SECRET: the one place the
    screens, the worker, reconcile and the demo data get it from."""
    return ProviderClient(base_url=config["PAYMENT_PROVIDER_URL"], secret=config["PAYMENT_PROVIDER_SECRET"])


def read_notification(secret: str, target: str, body: bytes, headers) -> dict:
    """The session document of a signed notification (`{"event_id", "type", "occurred_at",
    "session": {...}}`). Raises BadSignature or MalformedNotification; nothing else."""
    if not verify(secret, "POST", target, body, headers):
        raise BadSignature()
    try:
        document = json.loads(body)["session"]
    except (ValueError, TypeError, KeyError, RecursionError):  # RecursionError: nesting too deep
        raise MalformedNotification() from None
    if not isinstance(document, dict):
        raise MalformedNotification()
    return document


def request_target(url: str) -> str:
    """The path and query of a URL, as the signature covers them."""
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")
