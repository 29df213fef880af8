"""One JSON line per request, with a request id: taken from X-Request-ID (nginx sets it)
or made here, sent back in the response and shown on the error page, so that a resident
can quote it to the call centre and the line is found in the logs."""

from __future__ import annotations

import logging
import os
import re
import time

from flask import Flask, Response, g, request

from web import metrics

log = logging.getLogger("meguro.request")

REQUEST_ID_HEADER = "X-Request-ID"
_REQUEST_ID_KEY = "HTTP_" + REQUEST_ID_HEADER.upper().replace("-", "_")  # where WSGI puts it
# What we accept from outside: a bounded token, nothing that could forge a log line.
REQUEST_ID_FORMAT = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
# Probes and scrapes arrive every few seconds: logged below INFO.
QUIET_ENDPOINTS = frozenset({"health.healthz", "health.readyz", "health.metrics"})


def request_id() -> str:
    """This request's id (made on first use outside a request hook, e.g. in an error page)."""
    state = g._get_current_object()  # one look through the proxy
    try:
        return state.request_id
    except AttributeError:
        state.request_id = _incoming_or_new()
        return state.request_id


def _incoming_or_new() -> str:
    incoming = request.environ.get(_REQUEST_ID_KEY, "")  # request.headers.get, without its lookups
    return incoming if REQUEST_ID_FORMAT.match(incoming) else new_request_id()


def new_request_id() -> str:
    """`uuid.uuid4().hex`, without making the UUID object: 16 random bytes with the version
    (4) and the variant (RFC 4122) set as uuid4 sets them, in 32 hex digits."""
    value = int.from_bytes(os.urandom(16))
    value = (value & ~(0xC000 << 48)) | (0x8000 << 48)
    value = (value & ~(0xF000 << 64)) | (4 << 76)
    return f"{value:032x}"


def _route() -> str:
    """The path, with anything that unlocks something (a token in the URL) masked."""
    path = request.path
    for name, value in (request.view_args or {}).items():
        if "token" in name and isinstance(value, str) and value:
            path = path.replace(value, "***")
    return path[:300]


def _registration() -> str | None:
    """The logged-in registration's number when this request loaded it (never asks the
    database only for the log)."""
    user = g.get("_login_user")
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return getattr(user, "registration_number", None)


def init_app(app: Flask) -> None:
    def start() -> None:
        g.request_started = time.perf_counter()
        request_id()

    # Before every other hook (the channel's included): a refusal by any of them is logged
    # with its id too.
    app.before_request_funcs.setdefault(None, []).insert(0, start)

    @app.after_request
    def log_request(response: Response) -> Response:
        rid = request_id()
        response.headers[REQUEST_ID_HEADER] = rid
        duration = time.perf_counter() - g.get("request_started", time.perf_counter())
        endpoint = request.endpoint or "-"
        metrics.observe_request(endpoint, request.method, response.status_code, duration)
        level = logging.DEBUG if endpoint in QUIET_ENDPOINTS else logging.INFO
        if not log.isEnabledFor(level):
            return response
        route = _route()
        log.log(
            level,
            "%s %s %s",
            request.method,
            route,
            response.status_code,
            extra={
                "event": "request",
                "request_id": rid,
                "method": request.method,
                "path": route,
                "endpoint": endpoint,
                "status": response.status_code,
                "duration_ms": round(duration * 1000, 1),
                "registration": _registration(),
                "profile": app.config.get("PROFILE"),
                "client": request.remote_addr,
            },
        )
        return response
