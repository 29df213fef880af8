"""Fixtures for the stand-in provider's tests: its own app on a fresh database (SQLite,
or PostgreSQL when PAYMENTS_DATABASE_URL / DATABASE_URL points at one), a clock the test
moves, a merchant that signs its API calls, and a real HTTP server receiving the
provider's notifications. Nothing here touches the city's app."""

from __future__ import annotations

import json
import os
import re
import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from payment_standin.app import create_app
from payment_standin.signing import signed_headers

SECRET = "test-payment-secret"
# Wednesday 25 November 2026, 10:00 in Tokyo (the city app's tests use the same moment).
START = datetime(2026, 11, 25, 1, 0, tzinfo=UTC)
RETURN_URL = "http://127.0.0.1:5000/payments/return"
GOOD_CARD = {"card_number": "4111111111111111", "expiry_month": "12", "expiry_year": "2027", "security_code": "123"}
DECLINED_CARD = dict(GOOD_CARD, card_number="4000000000000002")


class FakeClock:
    def __init__(self, start: datetime = START):
        self.current = start

    def __call__(self) -> datetime:
        return self.current

    def advance(self, seconds: float) -> None:
        self.current += timedelta(seconds=seconds)


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def standin_database_url(tmp_path):
    base = os.environ.get("PAYMENTS_DATABASE_URL") or os.environ.get("DATABASE_URL") or ""
    if not base.startswith("postgresql"):
        yield f"sqlite:///{tmp_path / 'payments.sqlite3'}"
        return
    name = f"standin_t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT", pool_size=1)
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    yield make_url(base).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def make_standin(standin_database_url, tmp_path, clock):
    """Build the provider app; keyword arguments override its settings."""
    apps = []

    def build(**overrides):
        config = {
            "TESTING": True,
            "PAYMENTS_DATABASE_URL": standin_database_url,
            "INSTANCE_PATH": str(tmp_path / "standin-instance"),
            "PAYMENT_PROVIDER_SECRET": SECRET,
            "PAYMENT_STANDIN_BACKGROUND": False,
            "PAYMENT_STANDIN_FAULTS": False,
            "NOTIFY_TIMEOUT_SECONDS": 2,
            "CLOCK": clock,
        }
        config.update(overrides)
        application = create_app(config)
        apps.append(application)
        return application

    yield build
    for application in apps:
        application.extensions["standin_notifier"].stop()
        application.extensions["standin_db"].dispose()


@pytest.fixture
def standin(make_standin):
    return make_standin()


@pytest.fixture
def browser(standin):
    """The resident's browser on the provider's pages."""
    return standin.test_client()


class Merchant:
    """Our app's side of the API: every call signed with the shared secret."""

    def __init__(self, application, clock, notify_url: str = "http://127.0.0.1:9/notify"):
        self.client = application.test_client()
        self.clock = clock
        self.notify_url = notify_url
        self._receipts = iter(range(1, 100000))

    def call(
        self, method: str, path: str, payload=None, *, secret: str = SECRET, at: datetime | None = None, headers=None
    ):
        body = b"" if payload is None else (payload if isinstance(payload, bytes) else json.dumps(payload).encode())
        signed = signed_headers(secret, method, path, body, at or self.clock())
        signed.update(headers or {})
        if body:
            signed["Content-Type"] = "application/json"
        return self.client.open(path, method=method, data=body, headers=signed)

    def next_receipt(self) -> str:
        return f"0132026112500{next(self._receipts):03d}"

    def session_request(self, **overrides) -> dict:
        request = {
            "merchant_reference": "2026-000123",
            "receipt_number": self.next_receipt(),
            "amount_yen": 400,
            "return_url": RETURN_URL,
            "notify_url": self.notify_url,
        }
        request.update(overrides)
        return request

    def create_session(self, **overrides) -> dict:
        response = self.call("POST", "/api/sessions", self.session_request(**overrides))
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    def status(self, session_id: str) -> dict:
        response = self.call("GET", f"/api/sessions/{session_id}")
        assert response.status_code == 200, response.get_json()
        return response.get_json()

    def void(self, receipt_number: str):
        return self.call("POST", f"/api/receipts/{receipt_number}/void")

    def ledger(self) -> dict:
        response = self.call("GET", "/api/ledger")
        assert response.status_code == 200
        return response.get_json()


@pytest.fixture
def merchant(standin, clock):
    return Merchant(standin, clock)


def page_path(session: dict) -> str:
    """The path of payment_url (the test client talks to the app directly)."""
    parts = urlsplit(session["payment_url"])
    return parts.path + (f"?{parts.query}" if parts.query else "")


def session_path(session: dict) -> str:
    return urlsplit(session["payment_url"]).path


def returned_session_id(location: str) -> str:
    """The return URL must carry the session id and nothing else."""
    parts = urlsplit(location)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == RETURN_URL
    match = re.fullmatch(r"session_id=(cs_[A-Za-z0-9_-]+)", parts.query)
    assert match, f"return URL carries more than the session id: {location}"
    assert not parts.fragment
    return match.group(1)


@dataclass
class Received:
    path: str
    headers: dict
    body: bytes

    @property
    def json(self) -> dict:
        return json.loads(self.body)


@dataclass
class Receiver:
    """A real HTTP server standing in for our app's notify endpoint."""

    url: str
    received: list[Received] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)  # answered in order, then 200
    arrived: threading.Event = field(default_factory=threading.Event)

    def wait_for(self, count: int, timeout: float = 5.0) -> list[Received]:
        deadline = datetime.now() + timedelta(seconds=timeout)
        while len(self.received) < count and datetime.now() < deadline:
            self.arrived.wait(0.05)
            self.arrived.clear()
        return self.received


@pytest.fixture
def receiver():
    holder: dict = {}

    @Request.application
    def handle(request: Request) -> Response:
        rec: Receiver = holder["receiver"]
        status = rec.statuses.pop(0) if rec.statuses else 200
        rec.received.append(Received(request.full_path.rstrip("?"), dict(request.headers), request.get_data()))
        rec.arrived.set()
        return Response("ok" if status < 300 else "failing", status=status)

    server = make_server("127.0.0.1", 0, handle, threaded=True)
    holder["receiver"] = Receiver(url=f"http://127.0.0.1:{server.server_port}/payments/notify")
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield holder["receiver"]
    server.shutdown()
    thread.join(5)
