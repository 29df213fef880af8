"""Browser-test fixtures: the real app served over HTTP against a fresh demo database,
and headless Chromium with JavaScript on (`browser`) or off (`browser_nojs`).

Each test gets its own database and server (cheap: a file copy or a template database,
and a thread), so tests are independent and can run in parallel under xdist. Browsers are
shared by the tests of a module (starting one costs about a second) and reset between
tests. After each test the run fails if the server answered 5xx or the browser reported
a Content-Security-Policy violation or an uncaught script error."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask

from app import create_app
from tests.browser.chromium import Chromium
from tests.browser.live_server import LiveServer
from tests.conftest import make_config

BROWSER_DIR = Path(__file__).parent


def pytest_collection_modifyitems(config, items):
    for item in items:
        if BROWSER_DIR in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.browser)


@pytest.fixture
def serve_app(database_url, tmp_path):
    """Start an app instance (`standard` or `kiosk`, config overrides allowed) on the test's
    database at FROZEN_NOW; every instance stops at the end of the test, which fails if any
    of them answered 5xx."""
    running: list[tuple[Flask, LiveServer]] = []

    def serve(profile: str = "standard", **overrides) -> LiveServer:
        application = create_app(
            profile, make_config(database_url, tmp_path / f"{profile}-{len(running)}", **overrides)
        )
        server = LiveServer(application).start()
        running.append((application, server))
        return server

    yield serve
    for application, server in running:
        server.stop()
        application.extensions["database"].dispose()
    errors = [error for _app, server in running for error in server.server_errors]
    assert not errors, f"the server answered with an error: {errors}"


@pytest.fixture
def live_server(serve_app):
    """The standard-profile site on a free port, at FROZEN_NOW, on a fresh seeded database."""
    return serve_app("standard")


@pytest.fixture(scope="module")
def _chromium():
    browser = Chromium(javascript=True)
    yield browser
    browser.quit()


@pytest.fixture(scope="module")
def _chromium_nojs():
    browser = Chromium(javascript=False)
    yield browser
    browser.quit()


def _console_problems(driver) -> list[str]:
    problems = []
    for entry in driver.get_log("browser"):
        message = entry.get("message", "")
        if "Content Security Policy" in message or "Content-Security-Policy" in message or "Uncaught" in message:
            problems.append(message)
    return problems


def _fresh(browser: Chromium):
    browser.reset()
    yield browser.driver
    problems = _console_problems(browser.driver)
    assert not problems, "the browser reported:\n" + "\n".join(problems)


@pytest.fixture
def browser(_chromium):
    """Headless Chromium, JavaScript on, Japanese, 1280×900, no cookies."""
    yield from _fresh(_chromium)


@pytest.fixture
def browser_nojs(_chromium_nojs):
    """Headless Chromium with JavaScript off (as a site setting, like a user would)."""
    yield from _fresh(_chromium_nojs)
