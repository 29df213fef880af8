"""Sessions that cannot be taken over (DESIGN "Accounts and sign-in", Sessions).

- Without REDIS_URL: Flask's signed cookie. With it: Flask-Session in Redis, where a
  visitor who has not logged in is kept at most ANONYMOUS_LIFETIME (a session is written
  only once something is put in it: a form's CSRF token, a kiosk preference).
- The site and the kiosk use different cookie names (cookies ignore the port).
- `renew_session()` at login, password change and reset: the old id no longer exists.
- The per-registration epoch (Resident.session_version) is part of the stored user id and
  compared on every request by the user loader (one read by primary key).
- A page without a form of its own creates no session: the header's preference forms
  (読み上げ, language) and the kiosk's idle dialog are `same_origin_post` views, which
  carry a CSRF token only when the visitor already has a session and otherwise rely on
  the browser's Sec-Fetch-Site / Origin headers to refuse cross-site posts.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import Flask, current_app, request, session
from flask.sessions import SecureCookieSessionInterface
from flask_login import login_user
from flask_wtf.csrf import CSRFError
from itsdangerous import URLSafeTimedSerializer

from web.extensions import csrf

ANONYMOUS_LIFETIME = timedelta(minutes=30)
COOKIE_NAMES = {"standard": "session", "kiosk": "kiosk_session"}
# The key Flask-Login keeps the logged-in user's id under.
USER_KEY = "_user_id"

View = TypeVar("View", bound=Callable[..., Any])


def init_app(app: Flask, profile: str) -> None:
    app.config["SESSION_COOKIE_NAME"] = COOKIE_NAMES[profile]
    if app.config["REDIS_URL"]:
        import redis

        app.config.update(SESSION_TYPE="redis", SESSION_PERMANENT=False)
        # SESSION_KEY_PREFIX (default "session:") lets two sites share one Redis database.
        prefix = f"{app.config.get('SESSION_KEY_PREFIX') or 'session:'}{profile}:"
        app.session_interface = _short_lived_until_login(
            app, redis.Redis.from_url(app.config["REDIS_URL"]), key_prefix=prefix
        )
    else:
        app.session_interface = SignedCookieSessions()

    @app.after_request
    def strict_transport_security(response):
        # Only over HTTPS (as seen through TRUSTED_PROXIES): a plain-http demo is not pinned.
        if request.is_secure:
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        return response


class SignedCookieSessions(SecureCookieSessionInterface):
    """Flask's signed cookie, with the signing serializer made once per set of keys rather
    than on every request (making one serializes a test value: a visible share of a cached
    page's cost, issue 12). The serializer keeps no per-request state."""

    def __init__(self) -> None:
        self._serializers: dict[tuple, URLSafeTimedSerializer | None] = {}

    def open_session(self, app: Flask, request):
        # Flask's, without its cookie lookup raising and catching a KeyError when the visitor
        # has no session cookie (most anonymous requests): an empty session, as Flask gives.
        if self.get_cookie_name(app) not in request.cookies and self.get_signing_serializer(app) is not None:
            return self.session_class()
        return super().open_session(app, request)

    def save_session(self, app: Flask, session, response) -> None:
        # A session only looked at (most anonymous requests: the login check reads it) gets
        # Flask's "Vary: Cookie" and nothing else: written here as Werkzeug's `response.vary`
        # would write it, without parsing the header into a set and back (issue 12).
        if session.accessed and not session and not session.modified and _vary_cookie(response.headers):
            return
        super().save_session(app, session, response)

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        keys = (app.secret_key, tuple(app.config.get("SECRET_KEY_FALLBACKS") or ()))
        try:
            return self._serializers[keys]
        except KeyError:
            serializer = self._serializers[keys] = super().get_signing_serializer(app)
            return serializer


# A Vary header of plain names, as the app writes it ("HX-Request"): what Werkzeug would
# parse into the same names and write back joined by ", ".
_PLAIN_VARY = re.compile(r"[A-Za-z0-9-]+(?:, [A-Za-z0-9-]+)*")


def _vary_cookie(headers) -> bool:
    """`response.vary.add("Cookie")` for a response without Vary or with one Vary of plain
    names (Cookie added at its end, unless named already; the header kept in its place);
    False, changing nothing, for any other Vary (then Flask's own way)."""
    present = [value for key, value in headers if key.lower() == "vary"]
    if not present:
        headers.add("Vary", "Cookie")
        return True
    if len(present) > 1 or not _PLAIN_VARY.fullmatch(present[0]):
        return False
    if "cookie" not in (name.lower() for name in present[0].split(", ")):
        headers.set("Vary", f"{present[0]}, Cookie")
    return True


def _short_lived_until_login(app: Flask, client, key_prefix: str):
    """Flask-Session's Redis interface, with anonymous sessions stored for at most
    ANONYMOUS_LIFETIME instead of PERMANENT_SESSION_LIFETIME."""
    from flask_session.redis import RedisSessionInterface

    class ShortAnonymousRedisSessions(RedisSessionInterface):
        def _upsert_session(self, session_lifetime, session, store_id):
            if USER_KEY not in session:
                session_lifetime = min(session_lifetime, ANONYMOUS_LIFETIME)
            super()._upsert_session(session_lifetime, session, store_id)

    return ShortAnonymousRedisSessions(app, client=client, key_prefix=key_prefix, permanent=False)


def start_session(resident) -> None:
    """Log `resident` in with a new session id: whatever id the browser (or anyone who
    copied it) held before no longer exists."""
    session.clear()
    login_user(resident)
    renew_session()


def renew_session() -> None:
    """Give the (already filled) session a new id: with Redis the stored session moves to a
    new key and the old key is deleted; a signed cookie is rewritten anyway, and the old
    one carried no login. Call after putting the login into the session."""
    session.modified = True
    regenerate = getattr(current_app.session_interface, "regenerate", None)
    if regenerate is not None:
        regenerate(session)


def refuse_cross_site_post() -> None:
    """CSRF protection that needs no session: a browser says where a post comes from
    (Sec-Fetch-Site in every current browser, Origin on every form post in older ones);
    only this site's own pages may post. A client that sends neither (an old browser, a
    script) must carry the form's CSRF token as before (the page has one whenever the
    visitor already had a session)."""
    fetch_site = request.headers.get("Sec-Fetch-Site")
    if fetch_site is not None:
        if fetch_site != "same-origin":
            raise CSRFError("cross-site post")
        return
    origin = request.headers.get("Origin")
    if origin is not None and origin != "null":
        if urlsplit(origin).netloc != request.host:
            raise CSRFError("cross-site post")
        return
    csrf.protect()


def same_origin_post(view: View) -> View:
    """A POST view that changes only this browser's state (a preference, the kiosk's idle
    clock) and so must work for a visitor without a session: exempt from the session-bound
    CSRF token, protected by `refuse_cross_site_post` instead."""

    @functools.wraps(view)
    def checked(*args: Any, **kwargs: Any) -> Any:
        if request.method == "POST":
            refuse_cross_site_post()
        return view(*args, **kwargs)

    csrf.exempt(checked)
    return checked  # type: ignore[return-value]
