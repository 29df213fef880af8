"""Kiosk session reset and extension (延長), and the hooks that end idle sessions on the
server and keep browsers from restoring form values (registered on the kiosk profile only).

The page's script posts here (header X-Kiosk-Script: 204, no page); without JavaScript the
same forms are plain POST → redirect → GET."""

from __future__ import annotations

import re
import time

from flask import Blueprint, Flask, Response, current_app, redirect, request, session, url_for
from flask_login import logout_user

from models.kiosk_rules import IdleTimings, is_idle_expired
from web.navigation import safe_next_url
from web.sessions import same_origin_post

bp = Blueprint("kiosk", __name__, url_prefix="/kiosk")

LAST_SEEN = "kiosk_last_seen"
# Requests that are not a person using the page: they neither end nor renew a session.
PASSIVE_ENDPOINTS = frozenset({"static", "vendor"})

# Every form, and every field that names an autofill token (username, email …), is
# autocomplete="off" on a kiosk: the browser then neither suggests nor restores on Back what
# the previous person typed. Attribute values never hold a raw ">" (Jinja escapes it).
_FORM_WITHOUT_AUTOCOMPLETE = re.compile(r"<form\b(?![^>]*\sautocomplete=)", re.IGNORECASE)
_FIELD_AUTOCOMPLETE = re.compile(r'(<(?:input|textarea|select)\b[^>]*\sautocomplete=")(?!off")[^"]*(")', re.IGNORECASE)


def seconds_now() -> float:
    """Wall-clock seconds for the idle clock (real time even when FROZEN_NOW freezes the
    calendar); tests replace it."""
    return time.time()


def timings() -> IdleTimings:
    return IdleTimings(current_app.config["KIOSK_IDLE_WARN_SECONDS"], current_app.config["KIOSK_IDLE_RESET_SECONDS"])


def end_kiosk_session() -> None:
    """Destroy this terminal's session: the login, the form tokens, the preferences. The
    resident's sessions elsewhere (their phone, paying by the kiosk's QR code) live on."""
    logout_user()
    session.clear()


def _answer(fallback: str) -> Response:
    if request.headers.get("X-Kiosk-Script"):
        response = current_app.response_class(status=204)
    else:
        response = redirect(fallback, code=303)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/reset")
@same_origin_post
def reset():
    """ご利用を終了する, or the page's idle timer: a new session for the next person."""
    end_kiosk_session()
    return _answer(url_for("top.index"))


@bp.post("/extend")
@same_origin_post
def extend():
    """延長 (and the page's keep-alive while someone types): the request itself renewed the
    idle clock in `track_idle_session`."""
    return _answer(safe_next_url(request.form.get("next"), url_for("top.index")))


def track_idle_session():
    """First of all request hooks: a session idle for longer than KIOSK_IDLE_RESET_SECONDS
    has ended (even without JavaScript); every request renews the clock."""
    if request.endpoint in PASSIVE_ENDPOINTS:
        return None
    moment = seconds_now()
    if is_idle_expired(session.get(LAST_SEEN), moment, timings().reset):
        end_kiosk_session()
        if request.endpoint == "kiosk.reset":
            # Already done: answer as the reset would, rather than refuse its stale token.
            return _answer(url_for("top.index"))
    if session:  # a visitor without a session gets none just for looking (issue 10)
        session[LAST_SEEN] = moment
    return None


def mark_session_seen(response: Response) -> Response:
    """Views that start a new session (ログイン clears it) would drop the mark set above:
    every session that holds anything leaves with one, so its idle clock always runs."""
    if request.endpoint not in PASSIVE_ENDPOINTS and session and LAST_SEEN not in session:
        session[LAST_SEEN] = seconds_now()
    return response


def forget_form_values(response: Response) -> Response:
    if response.mimetype != "text/html" or response.direct_passthrough or response.is_streamed:
        return response
    html = response.get_data(as_text=True)
    if "<form" not in html and "autocomplete=" not in html:
        return response
    html = _FORM_WITHOUT_AUTOCOMPLETE.sub('<form autocomplete="off"', html)
    html = _FIELD_AUTOCOMPLETE.sub(r"\1off\2", html)
    response.set_data(html)
    return response


def init_kiosk(app: Flask) -> None:
    timings_ = IdleTimings(app.config["KIOSK_IDLE_WARN_SECONDS"], app.config["KIOSK_IDLE_RESET_SECONDS"])
    timings_.check(strict=not app.testing)
    # Before the channel hook (which reads the preferences from the session) and before
    # the CSRF check, so that an idle session's stale form is refused as expired.
    app.before_request_funcs.setdefault(None, []).insert(0, track_idle_session)
    app.after_request(forget_form_values)
    app.after_request(mark_session_seen)

    @app.context_processor
    def idle_timings() -> dict:
        current = timings()
        return {
            "kiosk_idle": {
                "warn": f"{current.warn:g}",
                "reset": f"{current.reset:g}",
                "keepalive": f"{current.keepalive_seconds:g}",
                "answer": f"{current.answer_seconds:g}",
            }
        }

    app.register_blueprint(bp)
