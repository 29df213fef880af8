"""Shared by the account tests: mail delivered by the worker over a real SMTP server
(aiosmtpd), the links in it, and the account forms filled like a browser."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from tests.conftest import csrf_token_from
from tests.web.card_support import SmtpServer, run_worker

LINK = re.compile(r"https?://\S+/(?:password/reset|account/email/confirm)\?token=[A-Za-z0-9_-]+")


def smtp_for(app):
    """A real SMTP server the app's worker delivers to (a fixture's body: `yield from`)."""
    server = SmtpServer().start()
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=server.port)
    yield server
    server.stop()


def delivered(app, server: SmtpServer, to: str | None = None) -> list:
    """Run the worker once and return the messages received so far (to `to` only, if given)."""
    result = run_worker(app)
    assert result.exit_code == 0, result.output
    return [m for m in server.messages if to is None or m["To"] == to]


def body_of(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def link_in(message) -> str:
    """The path and query of the one link in the mail (the test client speaks to the app)."""
    found = LINK.findall(body_of(message))
    assert len(found) == 1, body_of(message)
    parts = urlsplit(found[0])
    return f"{parts.path}?{parts.query}"


def hidden(html: str, name: str) -> str:
    match = re.search(rf'name="{name}" type="hidden" value="([^"]*)"', html) or re.search(
        rf'type="hidden" name="{name}" value="([^"]*)"', html
    )
    assert match, f"no hidden {name}"
    return match.group(1)


def post_form(client, page_url: str, action: str | None = None, **fields):
    """GET the page, then POST its form with its CSRF token (and hidden fields) plus `fields`."""
    page = client.get(page_url).get_data(as_text=True)
    data = {"csrf_token": csrf_token_from(page)}
    for name in ("epoch", "token"):
        if f'name="{name}"' in page:
            data[name] = hidden(page, name)
    data.update(fields)
    return client.post(action or urlsplit(page_url).path, data=data)


def login(client, number="40675", password="meguro2025", kind="assembly"):
    return post_form(client, "/login", registration_kind=kind, registration_number=number, password=password)
