"""HTTP client of the card company's API (payment_standin/README.md): signed requests,
JSON answers, and the signed notifications it sends. Swapping in a real provider means
another class with these methods, built by `provider_client`.

The calls go through the standard library's urllib.request (already loaded by every worker:
Flask-WTF imports it) rather than `requests`, whose import (with urllib3, charset_normalizer,
idna) took ~4 MB of each gunicorn worker's memory for a handful of calls on the payment
screens (README "Worker memory"). What a call does is what `requests.request` did: the
proxies of the environment (`HTTPS_PROXY`, `NO_PROXY` …), certificates checked against
certifi's bundle (or `REQUESTS_CA_BUNDLE` / `CURL_CA_BUNDLE`) with the host name, the same
timeout for connecting and for each read, no retry, redirects followed; any failure to get
an answer is ProviderUnavailable."""

from __future__ import annotations

import functools
import hashlib
import hmac
import http.client
import json
import os
import re
import ssl
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

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
        url = self.base_url.rstrip("/") + path
        try:
            status, content = _send(method, url, body or None, headers, self.timeout)
        except (OSError, http.client.HTTPException, ValueError) as exc:
            # OSError: refused, reset, timed out, TLS (ssl.SSLError), urllib's URLError;
            # HTTPException: a broken answer; ValueError: a URL that is not one.
            raise ProviderUnavailable(str(exc)) from exc
        if status >= 500 or status < 200 or 300 <= status < 400:  # 1xx/3xx: a redirect not followed
            raise ProviderUnavailable(f"{status} {_text(content)}")
        try:
            document = json.loads(content)
        except ValueError as exc:  # json.JSONDecodeError and UnicodeDecodeError
            raise ProviderUnavailable(f"not JSON: {_text(content)}") from exc
        if status >= 400:
            raise ProviderRefused(status, document.get("error", ""), document.get("message", ""))
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


class _HttpRedirects(urllib.request.HTTPRedirectHandler):
    """Redirects followed as `requests` follows them, to http and https only (urllib's own
    would try ftp, which no handler here speaks): anything else is no answer."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        if urlsplit(newurl).scheme.lower() not in ("http", "https"):
            raise ValueError(f"redirected to a URL that is not http(s): {newurl!r}")
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def _send(method: str, url: str, body: bytes | None, headers: dict[str, str], timeout: float) -> tuple[int, bytes]:
    """One HTTP exchange: the status and the whole body, whatever the status. Raises OSError,
    http.client.HTTPException or ValueError when there is no answer."""
    scheme = urlsplit(url).scheme.lower()
    if scheme not in ("http", "https"):
        raise ValueError(f"not an http(s) URL: {url!r}")
    handlers: list[urllib.request.BaseHandler] = [
        urllib.request.ProxyHandler(),  # the environment's proxies and NO_PROXY
        urllib.request.HTTPHandler(),
        # Also for an http URL: a redirect may lead to https.
        urllib.request.HTTPSHandler(context=_tls_context()),
        _HttpRedirects(),
        urllib.request.HTTPErrorProcessor(),
        urllib.request.HTTPDefaultErrorHandler(),
    ]
    opener = urllib.request.OpenerDirector()
    for handler in handlers:
        opener.add_handler(handler)
    request = urllib.request.Request(url, data=body, headers=headers, method=method)
    try:
        with opener.open(request, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as answer:  # 4xx and 5xx: an answer all the same
        with answer:
            return answer.code, answer.read()


def _tls_context() -> ssl.SSLContext:
    """Certificates checked as `requests` checks them: certifi's bundle unless
    REQUESTS_CA_BUNDLE or CURL_CA_BUNDLE names another; the host name too."""
    cafile = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
    if not cafile:
        import certifi

        cafile = certifi.where()
    return _context_trusting(cafile)


@functools.lru_cache(maxsize=4)
def _context_trusting(bundle: str) -> ssl.SSLContext:
    """One context per bundle, made at a worker's first https call and kept (~0.6 MB; making
    one reads the bundle: ~50 ms), as `requests` kept one made at its import."""
    if os.path.isdir(bundle):
        return ssl.create_default_context(capath=bundle)
    return ssl.create_default_context(cafile=bundle)


def _text(content: bytes) -> str:
    """The start of an answer that is not JSON, for the exception's message."""
    return content.decode("utf-8", errors="replace")[:200]


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
