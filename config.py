"""Settings read from the environment, with embedded defaults for a fresh machine."""

from __future__ import annotations

import os
from pathlib import Path

import click

ROOT = Path(__file__).resolve().parent
INSTANCE = Path(os.environ.get("INSTANCE_PATH", ROOT / "instance"))

# Development-only secrets; outside debug the app refuses to start with them.
DEV_SECRET_KEY = "dev-only-secret-key-do-not-use-in-production"
DEV_PAYMENT_PROVIDER_SECRET = "dev-only-payment-secret"


class ConfigurationError(click.ClickException):
    """A setting the operator must fix. A ClickException, so that `flask …` prints it as
    one line on stderr and exits 3 instead of a traceback (gunicorn: deploy/gunicorn.conf.py;
    systemd does not restart on 3: a setting is not fixed by trying again)."""

    exit_code = 3

    def __init__(self, message: str):
        super().__init__(f"configuration: {message}")


def _whole_number(environ, name: str, default: int, minimum: int = 0) -> int:
    raw = environ.get(name) or ""
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigurationError(f"{name} must be a whole number, not {raw!r}") from None
    if value < minimum:
        raise ConfigurationError(f"{name} must be at least {minimum}, not {value}")
    return value


class Config:
    """Configuration for one app instance; `from_env` is the only constructor used in code."""

    SECRET_KEY: str
    PAYMENT_PROVIDER_SECRET: str

    def __init__(self, **values):
        for key, value in values.items():
            setattr(self, key, value)

    @classmethod
    def from_env(cls, environ=os.environ, **overrides) -> Config:
        values = dict(
            DATABASE_URL=environ.get("DATABASE_URL") or f"sqlite:///{INSTANCE / 'meguro.sqlite3'}",
            REDIS_URL=environ.get("REDIS_URL") or None,
            SECRET_KEY=environ.get("SECRET_KEY") or DEV_SECRET_KEY,
            DEBUG=environ.get("FLASK_DEBUG", "0") == "1",
            TESTING=False,
            SMTP_HOST=environ.get("SMTP_HOST") or None,
            SMTP_PORT=_whole_number(environ, "SMTP_PORT", 25, minimum=1),
            MAIL_FROM=environ.get("MAIL_FROM") or "noreply@yoyaku.city.meguro.example",
            # How long a mail claimed by a worker is left alone by the others (a worker killed
            # while sending gives it back after this).
            # The worker's own /metrics on 127.0.0.1 at this port (unset: none).
            WORKER_METRICS_PORT=_whole_number(environ, "WORKER_METRICS_PORT", 0),
            MAIL_CLAIM_LEASE_SECONDS=_whole_number(environ, "MAIL_CLAIM_LEASE_SECONDS", 300, minimum=10),
            PAYMENT_PROVIDER_URL=environ.get("PAYMENT_PROVIDER_URL") or "http://127.0.0.1:5002",
            PAYMENT_PROVIDER_SECRET=environ.get("PAYMENT_PROVIDER_SECRET") or DEV_PAYMENT_PROVIDER_SECRET,
            PUBLIC_BASE_URL=environ.get("PUBLIC_BASE_URL") or "http://127.0.0.1:5000",
            KIOSK_BASE_URL=environ.get("KIOSK_BASE_URL") or "http://127.0.0.1:5001",
            CALL_CENTRE_PHONE=environ.get("CALL_CENTRE_PHONE") or "03-5431-5932",
            CALL_CENTRE_HOURS_JA=environ.get("CALL_CENTRE_HOURS_JA") or "平日9:00~21:00",
            CALL_CENTRE_HOURS_EN=environ.get("CALL_CENTRE_HOURS_EN") or "weekdays 9:00–21:00",
            # ISO datetime that freezes the clock (tests and demos); empty means real time.
            FROZEN_NOW=environ.get("FROZEN_NOW") or None,
            INSTANCE_PATH=str(INSTANCE),
            # How many days ahead first-come booking is open (from tomorrow).
            FIRST_COME_DAYS_AHEAD=int(environ.get("FIRST_COME_DAYS_AHEAD") or 90),
            # Lottery caps per group and use month (DESIGN "Lottery"), written on a month's
            # calendar row when staff make it; the worker's rows copy the month before.
            LOTTERY_ENTRY_CAP=int(environ.get("LOTTERY_ENTRY_CAP") or 4),
            LOTTERY_TOTAL_CAP=int(environ.get("LOTTERY_TOTAL_CAP") or 8),
            RATELIMIT_LOGIN=environ.get("RATELIMIT_LOGIN") or "10 per minute",
            # パスワードを忘れた場合 and the account forms: per client address and, for the reset
            # request, per registration too.
            RATELIMIT_RESET=environ.get("RATELIMIT_RESET") or "5 per 15 minutes",
            # 施設別空き状況's shared statuses cached per facility and version: how many
            # values the in-process cache holds (Redis, when set, holds them for a day);
            # 0 computes every grid (the bench's misses).
            AVAILABILITY_CACHE_ENTRIES=_whole_number(environ, "AVAILABILITY_CACHE_ENTRIES", 2048),
            # Kiosk idle reset (DESIGN "Channels"): the warning dialog after this many seconds
            # without input, the session destroyed after that many (at least 30 s apart).
            KIOSK_IDLE_WARN_SECONDS=float(environ.get("KIOSK_IDLE_WARN_SECONDS") or 90),
            KIOSK_IDLE_RESET_SECONDS=float(environ.get("KIOSK_IDLE_RESET_SECONDS") or 120),
            # The accessibility gate's latest results, shown on アクセシビリティ方針.
            ACCESSIBILITY_RESULTS=environ.get("ACCESSIBILITY_RESULTS")
            or str(ROOT / "docs" / "accessibility-results.json"),
            # Kept for the session cookie; reader and preferences cookies last a year.
            PERMANENT_SESSION_LIFETIME=60 * 60 * 8,
            SESSION_COOKIE_HTTPONLY=True,
            SESSION_COOKIE_SAMESITE="Lax",
            # Cookies only over https, by default outside debug; the plain-http local demo
            # (bin/start) sets 0.
            SESSION_COOKIE_SECURE=(
                environ.get("SESSION_COOKIE_SECURE") or ("0" if environ.get("FLASK_DEBUG", "0") == "1" else "1")
            )
            == "1",
            # How many proxies in front set X-Forwarded-For/-Proto/-Host/-Port (Werkzeug's
            # ProxyFix); 0: nothing forwarded is believed.
            TRUSTED_PROXIES=_whole_number(environ, "TRUSTED_PROXIES", 0),
            WTF_CSRF_TIME_LIMIT=None,  # tied to the session instead
            # No form or notification of ours comes near this: anything larger is refused
            # (413) before it is read.
            MAX_CONTENT_LENGTH=1024 * 1024,
        )
        values.update(overrides)
        return cls(**values)

    def as_dict(self) -> dict:
        return {k: v for k, v in vars(self).items() if k.isupper()}

    def uses_default_secrets(self) -> bool:
        return self.SECRET_KEY == DEV_SECRET_KEY or self.PAYMENT_PROVIDER_SECRET == DEV_PAYMENT_PROVIDER_SECRET

    def default_secrets(self) -> list[str]:
        """The secrets left unset (or at their development default)."""
        return [
            name
            for name, default in (
                ("SECRET_KEY", DEV_SECRET_KEY),
                ("PAYMENT_PROVIDER_SECRET", DEV_PAYMENT_PROVIDER_SECRET),
            )
            if getattr(self, name) == default
        ]
