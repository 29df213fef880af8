"""Shared by the race tests (with the `served` fixture of tests/web/conftest.py): residents
logged in over HTTP to the served app, and requests let go at the same moment."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable

import requests
from werkzeug.serving import WSGIRequestHandler

from tests.conftest import DEMO_PASSWORD

HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)"')


class QuietHandler(WSGIRequestHandler):
    def log_request(self, code="-", size="-"):
        pass


def logged_in(base: str, number: str) -> requests.Session:
    browser = requests.Session()
    page = browser.get(f"{base}/login", timeout=30).text
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"', page)
    response = browser.post(
        f"{base}/login",
        data={
            "csrf_token": token.group(1) or token.group(2),
            "registration_kind": "assembly",
            "registration_number": number,
            "password": DEMO_PASSWORD,
        },
        allow_redirects=False,
        timeout=30,
    )
    assert response.status_code == 303, response.text
    return browser


def form_fields(html: str, action: str) -> list[tuple[str, str]]:
    """The hidden inputs of the page's form that posts to `action`."""
    form = html[html.index(f'action="{action}"') :]
    return HIDDEN.findall(form[: form.index("</form>")])


def at_once(calls: list[Callable[[], requests.Response]]) -> list[requests.Response]:
    """Runs every call in its own thread, let go together at a barrier; their responses in
    order (an exception in a thread fails the test here, not lost in the thread)."""
    barrier = threading.Barrier(len(calls))
    responses: list[requests.Response | BaseException | None] = [None] * len(calls)

    def run(i: int) -> None:
        try:
            barrier.wait(timeout=30)
            responses[i] = calls[i]()
        except BaseException as exc:
            responses[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=90)
    assert all(isinstance(r, requests.Response) for r in responses), responses
    return responses  # type: ignore[return-value]
