"""Settings of the stand-in provider, read from the environment. Nothing is shared with
the city's app except, by configuration, the HMAC secret."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
# The same development default as the city's app, so that both talk out of the box in
# debug mode; outside debug and tests the provider refuses to start with it.
DEV_SECRET = "dev-only-payment-secret"


def real_clock() -> datetime:
    return datetime.now(UTC)


def _int(environ, name: str, default: int) -> int:
    value = environ.get(name)
    return int(value) if value not in (None, "") else default


def settings_from_env(environ=os.environ) -> dict:
    instance = Path(environ.get("PAYMENT_STANDIN_INSTANCE_PATH") or PACKAGE_DIR / "instance")
    return dict(
        DEBUG=environ.get("FLASK_DEBUG", "0") == "1",
        TESTING=False,
        INSTANCE_PATH=str(instance),
        PAYMENTS_DATABASE_URL=environ.get("PAYMENTS_DATABASE_URL") or f"sqlite:///{instance / 'payments.sqlite3'}",
        PAYMENT_PROVIDER_SECRET=environ.get("PAYMENT_PROVIDER_SECRET") or DEV_SECRET,
        # The card page's time limit (guide L164: 15 minutes) and the warning before it.
        PAYMENT_SESSION_SECONDS=_int(environ, "PAYMENT_SESSION_SECONDS", 900),
        PAYMENT_WARNING_SECONDS=_int(environ, "PAYMENT_WARNING_SECONDS", 120),
        # WCAG 2.2.1 asks for at least ten extensions; a ceiling keeps sessions finite.
        PAYMENT_MAX_EXTENSIONS=_int(environ, "PAYMENT_MAX_EXTENSIONS", 10),
        PAYMENT_STANDIN_FAULTS=environ.get("PAYMENT_STANDIN_FAULTS", "0") == "1",
        # Base of payment_url; unset: the address the API was called on.
        PAYMENT_STANDIN_PUBLIC_URL=(environ.get("PAYMENT_STANDIN_PUBLIC_URL") or "").rstrip("/") or None,
        # Deliver notifications and expire sessions from a thread inside each process.
        PAYMENT_STANDIN_BACKGROUND=environ.get("PAYMENT_STANDIN_BACKGROUND", "1") == "1",
        PAYMENT_STANDIN_MERCHANT_NAME_JA=environ.get("PAYMENT_STANDIN_MERCHANT_NAME_JA") or "目黒区施設予約システム",
        PAYMENT_STANDIN_MERCHANT_NAME_EN=environ.get("PAYMENT_STANDIN_MERCHANT_NAME_EN")
        or "Meguro City facility reservation system",
        SIGNATURE_TOLERANCE_SECONDS=_int(environ, "SIGNATURE_TOLERANCE_SECONDS", 300),
        NOTIFY_RETRY_BASE_SECONDS=_int(environ, "NOTIFY_RETRY_BASE_SECONDS", 2),
        NOTIFY_RETRY_MAX_SECONDS=_int(environ, "NOTIFY_RETRY_MAX_SECONDS", 600),
        NOTIFY_TIMEOUT_SECONDS=_int(environ, "NOTIFY_TIMEOUT_SECONDS", 5),
        NOTIFY_POLL_SECONDS=_int(environ, "NOTIFY_POLL_SECONDS", 1),
        MAX_CONTENT_LENGTH=64 * 1024,
        # A callable returning aware UTC now; tests replace it to move time.
        CLOCK=real_clock,
        # The clock signatures are made and checked by; unset: CLOCK. A test that sets the
        # provider's day with CLOCK keeps this one real, as the merchant's signatures are.
        SIGNATURE_CLOCK=None,
    )
