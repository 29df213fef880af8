"""One JSON line per request, with a request id: taken from X-Request-ID (nginx sets it)
or made here, sent back in the response and shown on the error page, so that a resident
can quote it to the call centre and the line is found in the logs."""

from __future__ import annotations

import logging
import os
import re
import sys
import time

from flask import Flask, Request, Response, g, request
from flask.ctx import _AppCtxGlobals
from flask.globals import _cv_app, _cv_request

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
    rid = state.get("request_id")  # a miss as an attribute raises and catches two exceptions in g
    if rid is None:
        rid = state.request_id = _incoming_or_new()
    return rid


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


def _route(req: Request) -> str:
    """The path, with anything that unlocks something (a token in the URL) masked."""
    path = req.path
    for name, value in (req.view_args or {}).items():
        if "token" in name and isinstance(value, str) and value:
            path = path.replace(value, "***")
    return path[:300]


def _registration(state: _AppCtxGlobals) -> str | None:
    """The logged-in registration's number when this request loaded it (never asks the
    database only for the log)."""
    user = state.get("_login_user")
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return getattr(user, "registration_number", None)


def init_app(app: Flask) -> None:
    def start() -> None:
        g._get_current_object().request_started = time.perf_counter()
        request_id()

    # Before every other hook (the channel's included): a refusal by any of them is logged
    # with its id too.
    app.before_request_funcs.setdefault(None, []).insert(0, start)

    @app.after_request
    def log_request(response: Response) -> Response:
        # The request and g read once (through the proxies, each `request.x` or `g.x` is a look).
        state, req = _cv_app.get().g, _cv_request.get().request
        rid = request_id()
        response.headers[REQUEST_ID_HEADER] = rid
        duration = time.perf_counter() - state.get("request_started", time.perf_counter())
        endpoint = req.endpoint or "-"
        metrics.observe_request(endpoint, req.method, response.status_code, duration)
        level = logging.DEBUG if endpoint in QUIET_ENDPOINTS else logging.INFO
        if not log.isEnabledFor(level):
            return response
        route = _route(req)
        # The record Logger.log makes, made and handled as it does (makeRecord, handle: an
        # operator's record factory, filters and handlers all apply) without its two generic
        # steps, ~4 µs of the line's ~25 (issue 12): walking the stack for the caller (it is
        # this frame) and checking each field against the record's own (these never collide).
        caller = sys._getframe()
        record = log.makeRecord(
            log.name,
            level,
            caller.f_code.co_filename,
            caller.f_lineno,
            "%s %s %s",
            (req.method, route, response.status_code),
            None,
            caller.f_code.co_name,
        )
        vars(record).update(
            event="request",
            request_id=rid,
            method=req.method,
            path=route,
            endpoint=endpoint,
            status=response.status_code,
            duration_ms=round(duration * 1000, 1),
            registration=_registration(state),
            profile=app.config.get("PROFILE"),
            client=req.remote_addr,
        )
        log.handle(record)
        return response
