"""The real app served over HTTP in a background thread, for a real browser to talk to."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from flask import Flask
from werkzeug.serving import WSGIRequestHandler, make_server


class QuietRequestHandler(WSGIRequestHandler):
    """No access log on the test output; failures are reported by status instead."""

    def log_request(self, code="-", size="-"):
        pass


@dataclass
class ServerError:
    method: str
    path: str
    status: str


@dataclass
class LiveServer:
    """`app` on 127.0.0.1 at a free port, threaded like a real deployment (several requests
    at once). Every answer with a 5xx status is recorded, so a test can fail on it even
    when the browser shows nothing unusual."""

    app: Flask
    server_errors: list[ServerError] = field(default_factory=list)

    def __post_init__(self):
        self._server = make_server(
            "127.0.0.1", 0, self._recording(self.app.wsgi_app), threaded=True, request_handler=QuietRequestHandler
        )
        self.base_url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="live-server", daemon=True)

    def _recording(self, wsgi_app):
        def app(environ, start_response):
            def start(status, headers, exc_info=None):
                if status.startswith("5"):
                    self.server_errors.append(
                        ServerError(environ["REQUEST_METHOD"], environ.get("PATH_INFO", ""), status)
                    )
                return start_response(status, headers, exc_info)

            try:
                return wsgi_app(environ, start)
            except Exception as exc:  # TESTING propagates exceptions: werkzeug answers 500
                self.server_errors.append(
                    ServerError(environ["REQUEST_METHOD"], environ.get("PATH_INFO", ""), f"500 ({exc!r})")
                )
                raise

        return app

    def url(self, path: str = "/") -> str:
        return self.base_url + path

    def start(self) -> LiveServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)
