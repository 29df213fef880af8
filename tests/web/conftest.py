"""Fixtures of the web tests beyond tests/conftest.py's."""

from __future__ import annotations

import threading

import pytest
from werkzeug.serving import make_server

from app import create_app
from tests.conftest import make_config
from tests.web.served_support import QuietHandler


@pytest.fixture
def served(database_url, tmp_path):
    """The app on a free port, one thread per request, against this test's database: for
    the race tests, which send real HTTP requests at the same moment."""
    app = create_app("standard", make_config(database_url, tmp_path))
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=QuietHandler)
    thread = threading.Thread(target=server.serve_forever, name="race-server", daemon=True)
    thread.start()
    yield app, f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)
    app.extensions["database"].dispose()
