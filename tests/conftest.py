"""Fixtures shared by every layer: a fresh demo database per test, the app, its test
client, and a login helper (flaskr's `auth`)."""

from __future__ import annotations

import os
import re
import socket
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from app import create_app
from config import Config

# The clock every web test runs at: Wednesday 25 November 2026, 10:00 in Tokyo.
FROZEN_NOW = "2026-11-25T01:00:00+00:00"
DAYS_AHEAD = 90
DEMO_PASSWORD = "meguro2025"


@pytest.fixture(scope="session")
def template_databases(tmp_path_factory):
    from tests.databases import TemplateDatabases

    templates = TemplateDatabases(
        os.environ.get("DATABASE_URL") or None,
        tmp_path_factory.mktemp("db"),
        datetime.fromisoformat(FROZEN_NOW),
        DAYS_AHEAD,
    )
    yield templates
    templates.close()


@pytest.fixture
def database_url(template_databases):
    url = template_databases.fresh()
    yield url
    template_databases.drop(url)


_NOBODY: list[socket.socket] = []


def nobody_answers_url() -> str:
    """An address where nothing answers, held for the whole run: a socket bound to a free
    port that never listens refuses every connection. Tests without a card company use it
    instead of the default :5002, so the suite passes while bin/start runs beside it."""
    if not _NOBODY:
        held = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        held.bind(("127.0.0.1", 0))
        _NOBODY.append(held)
    return f"http://127.0.0.1:{_NOBODY[0].getsockname()[1]}"


def make_config(database_url: str, tmp_path, **overrides) -> Config:
    values = dict(
        PAYMENT_PROVIDER_URL=nobody_answers_url(),
        DATABASE_URL=database_url,
        TESTING=True,
        SECRET_KEY="test-secret-key",
        PAYMENT_PROVIDER_SECRET="test-payment-secret",
        FROZEN_NOW=FROZEN_NOW,
        FIRST_COME_DAYS_AHEAD=DAYS_AHEAD,
        INSTANCE_PATH=str(tmp_path / "instance"),
        RATELIMIT_LOGIN="1000 per minute",
        RATELIMIT_RESET="1000 per minute",
        RATELIMIT_KEY_PREFIX=f"test-{uuid.uuid4().hex[:8]}",
        WTF_CSRF_ENABLED=True,
        SESSION_COOKIE_SECURE=False,  # the tests' servers speak plain http
    )
    values.update(overrides)
    return Config.from_env(**values)


@pytest.fixture
def app(database_url, tmp_path):
    application = create_app("standard", make_config(database_url, tmp_path))
    yield application
    application.extensions["database"].dispose()


@pytest.fixture
def kiosk_app(database_url, tmp_path):
    application = create_app("kiosk", make_config(database_url, tmp_path))
    yield application
    application.extensions["database"].dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


CSRF_FIELD = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


def csrf_token_from(html: str) -> str:
    match = CSRF_FIELD.search(html)
    assert match, "the page has no CSRF token"
    return match.group(1) or match.group(2)


class AuthActions:
    """Log in and out through the real login form, CSRF token included."""

    def __init__(self, client):
        self._client = client

    def login(self, number="40675", password=DEMO_PASSWORD, kind="assembly", next_url=None):
        page = self._client.get("/login" + (f"?next={next_url}" if next_url else ""))
        data = {
            "csrf_token": csrf_token_from(page.get_data(as_text=True)),
            "registration_kind": kind,
            "registration_number": number,
            "password": password,
        }
        if next_url:
            data["next"] = next_url
        return self._client.post("/login", data=data)

    def logout(self):
        page = self._client.get("/")
        return self._client.post("/logout", data={"csrf_token": csrf_token_from(page.get_data(as_text=True))})


@pytest.fixture
def auth(client):
    return AuthActions(client)


HTMX_HEADERS = {"HX-Request": "true", "HX-Current-URL": "http://localhost/"}


def frozen_now() -> datetime:
    return datetime.fromisoformat(FROZEN_NOW).astimezone(UTC)


PAYMENT_SECRET = "test-payment-secret"


class ProviderClock:
    """The card company's clock in tests: it starts at FROZEN_NOW and runs in real time,
    so its captures fall on the day the app is frozen at (receipt numbers, the 180-day
    refund limit) whatever the real date, while its time limits still pass in seconds.
    `set` moves it to another moment, from which it runs on. Signatures keep the real
    clock (SIGNATURE_CLOCK), as the app's own do."""

    def __init__(self, start: datetime | None = None):
        self.set(start or frozen_now())

    def set(self, moment: datetime) -> None:
        self._base = (moment, time.monotonic())  # one assignment: the server's threads read it

    def __call__(self) -> datetime:
        start, started = self._base
        return start + timedelta(seconds=time.monotonic() - started)


def provider_clocks() -> dict:
    from payment_standin.settings import real_clock

    return {"CLOCK": ProviderClock(), "SIGNATURE_CLOCK": real_clock}


@pytest.fixture
def payment_provider(tmp_path):
    """The stand-in card company served over HTTP on its own database, with the test-only
    fault control on and quick notification retries (a real process boundary: the app
    talks to it over HTTP only)."""
    from payment_standin.app import create_app as create_provider
    from tests.browser.live_server import LiveServer

    provider = create_provider(
        {
            "TESTING": True,
            "PAYMENTS_DATABASE_URL": f"sqlite:///{tmp_path / 'provider.sqlite3'}",
            "INSTANCE_PATH": str(tmp_path / "provider-instance"),
            "PAYMENT_PROVIDER_SECRET": PAYMENT_SECRET,
            "PAYMENT_STANDIN_FAULTS": True,
            "PAYMENT_STANDIN_BACKGROUND": True,
            "NOTIFY_RETRY_BASE_SECONDS": 1,
            "NOTIFY_RETRY_MAX_SECONDS": 5,
            "NOTIFY_POLL_SECONDS": 1,
            "NOTIFY_TIMEOUT_SECONDS": 3,
            **provider_clocks(),
        }
    )
    server = LiveServer(provider).start()
    yield server
    provider.extensions["standin_notifier"].stop()
    server.stop()
    provider.extensions["standin_db"].dispose()


@pytest.fixture
def paying_app(database_url, tmp_path, payment_provider):
    """The standard app wired to the served provider (PAYMENT_PROVIDER_URL, shared secret)."""
    application = create_app(
        "standard",
        make_config(
            database_url,
            tmp_path,
            PAYMENT_PROVIDER_URL=payment_provider.base_url,
            PAYMENT_PROVIDER_SECRET=PAYMENT_SECRET,
        ),
    )
    yield application
    application.extensions["database"].dispose()
