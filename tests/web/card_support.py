"""Shared by the worker, reconcile and mail-delivery tests: card-paid bookings through the
served stand-in provider, a real SMTP server (aiosmtpd), the worker run as its command,
and the app's frozen clock moved forward."""

from __future__ import annotations

import email
import socket
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.policy import default as default_policy

import requests
from aiosmtpd.controller import Controller
from sqlalchemy import select

from demo.card_payments import CARD_PAID, seed_card_payments
from models.outbox import OutboxMail
from payments.card_pages import ProviderUrls
from payments.provider import provider_client
from tests.conftest import DAYS_AHEAD
from worker.jobs import WorkerSettings

# Nothing listens on port 9 (discard): the provider's notifications fail and are retried,
# as when the browser is gone and our site is unreachable, so only the return or the
# worker records an outcome.
URLS = ProviderUrls(return_url="http://127.0.0.1:9/payment/return", notify_url="http://127.0.0.1:9/payment/notify")


def clock(app) -> datetime:
    return datetime.fromisoformat(app.config["FROZEN_NOW"])


def move_clock(app, delta: timedelta) -> datetime:
    moved = clock(app) + delta
    app.config["FROZEN_NOW"] = moved.isoformat()
    return moved


def settings(app, **overrides) -> WorkerSettings:
    return WorkerSettings.from_config(app.config, **overrides)


def database(app):
    return app.extensions["database"]


def pay_by_card(app, bookings=CARD_PAID) -> list[str]:
    """目黒団体's demo bookings applied for and paid through the provider like a browser."""
    with app.app_context():
        return seed_card_payments(
            database(app),
            provider_client(app.config),
            URLS,
            settings(app).call_centre,
            clock(app),
            DAYS_AHEAD,
            bookings,
        )


def run_worker(app, *args: str):
    return app.test_cli_runner().invoke(args=["worker", "--once", *args])


def outbox(app) -> list[OutboxMail]:
    with database(app).read_session() as session:
        return list(session.scalars(select(OutboxMail).order_by(OutboxMail.id)))


def set_faults(provider_server, **faults) -> dict:
    answer = requests.post(provider_server.url("/_test/faults"), json=faults, timeout=5)
    answer.raise_for_status()
    return answer.json()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class CollectingHandler:
    """Keeps every message; `refuse_next` answers that many DATA commands with
    `refusal` (a 451 unless told);
    `refused_recipients` maps an address to the reply its RCPT TO gets (e.g. 550 for a
    mailbox that does not exist)."""

    received: list[bytes] = field(default_factory=list)
    refuse_next: int = 0
    refusal: str = "451 4.3.0 Try again later"
    refused_recipients: dict[str, str] = field(default_factory=dict)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refused_recipients:
            return self.refused_recipients[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.refuse_next:
            self.refuse_next -= 1
            return self.refusal
        self.received.append(envelope.original_content)
        return "250 OK"


class SmtpServer:
    """A real SMTP server on 127.0.0.1 at a port chosen before it starts, so that a test can
    point the app at it while it is still down."""

    def __init__(self):
        self.port = free_port()
        self.handler = CollectingHandler()
        self._controller: Controller | None = None

    def start(self) -> SmtpServer:
        self._controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    @property
    def messages(self) -> list[EmailMessage]:
        return [email.message_from_bytes(raw, policy=default_policy) for raw in self.handler.received]
