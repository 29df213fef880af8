"""Extension objects bound to each app by create_app (shared by blueprints that decorate)."""

from __future__ import annotations

from collections.abc import Callable

import flask_login
from flask import Flask, request, session
from flask.globals import request_ctx
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_wtf.csrf import CSRFProtect


class LoginManager(flask_login.LoginManager):
    """Flask-Login's, with the session-protection check skipped when there is no session to
    protect: Flask-Login computes the visitor's identifier (a SHA-512 of the address and
    the user agent) first and compares it only with a non-empty session; an empty one
    passes whatever it is (issue 12: a visible share of an anonymous request)."""

    def _session_protection_failed(self) -> bool:
        if not session:
            return False
        return super()._session_protection_failed()


csrf = CSRFProtect()
# Per process without Redis, shared through Redis when REDIS_URL is set.
limiter = Limiter(key_func=get_remote_address, default_limits=[])
login_manager = LoginManager()


def init_csrf(app: Flask, extension: CSRFProtect = csrf) -> None:
    """Bind CSRF protection, its before-request check asking for the method first: Flask-WTF's
    looks up whether the view is exempt (its blueprint, its module and name) before seeing
    that a GET needs no token at all (issue 12). Checked the same way when the method is one
    of WTF_CSRF_METHODS (POST, PUT, PATCH, DELETE)."""
    hooks = app.before_request_funcs.setdefault(None, [])
    before = list(hooks)
    extension.init_app(app)
    added = [hook for hook in hooks if hook not in before]
    if len(added) != 1:
        return
    config = app.config

    def csrf_protect() -> None:
        if request.method not in config["WTF_CSRF_METHODS"]:
            return  # what protect() would conclude too, after the exemptions
        if not config["WTF_CSRF_ENABLED"] or not config["WTF_CSRF_CHECK_DEFAULT"]:
            return
        extension.protect(apply_exemptions=True)

    hooks[hooks.index(added[0])] = csrf_protect


# Flask-Limiter's settings for limits that apply beyond the decorated routes.
APP_WIDE_LIMIT_SETTINGS = ("RATELIMIT_DEFAULT", "RATELIMIT_APPLICATION", "RATELIMIT_META")


def init_limiter(app: Flask, extension: Limiter = limiter) -> Callable[[], None] | None:
    """Bind the limiter; return the before-request hook it registered (its check of the
    limits that apply beyond the decorated routes), or None. Its after-request hook (headers
    and conditional deductions) and its teardown (the request's limiter state cleared) run
    only for a request in which the limiter kept state (`_only_when_limited`)."""
    hooks = app.before_request_funcs.setdefault(None, [])
    afters = app.after_request_funcs.setdefault(None, [])
    teardowns = app.teardown_request_funcs.setdefault(None, [])
    before = list(hooks)
    before_after, before_teardown = list(afters), list(teardowns)
    extension.init_app(app)
    for registered, earlier in ((afters, before_after), (teardowns, before_teardown)):
        for i, hook in enumerate(registered):
            if hook not in earlier:
                registered[i] = _only_when_limited(hook)
    added = [hook for hook in hooks if hook not in before]
    return added[0] if len(added) == 1 else None


# Where Flask-Limiter keeps a request's state (its limits checked, conditional deductions)
# on the request context, made by the first of its hooks or decorators that looks at it.
LIMITER_STATE = "_limiter_request_context"


def _only_when_limited(hook: Callable) -> Callable:
    """The limiter's after-request or teardown hook, run only when the request has limiter
    state: without any, the after-request hook finds no limit to put in the headers and no
    deduction to make, and the teardown clears an empty state it has just made — on every
    page that has no limit of its own (issue 12). tests/web/test_rate_limits.py shows the
    headers and deductions of a limited route still there."""

    def guarded(argument):  # the response (after-request) or the exception (teardown, unused)
        if LIMITER_STATE in vars(request_ctx._get_current_object()):
            return hook(argument)
        return argument

    return guarded


def drop_empty_app_wide_check(app: Flask, hook: Callable[[], None] | None, extension: Limiter = limiter) -> None:
    """The limiter's before-request hook checks the default, application, meta and blueprint
    limits; the routes' own limits (`@limiter.limit`) are checked by their decorators when
    the view is called, whatever the hook does. This site sets none of the former, so the
    hook would look for them on every request and find none (issue 12): it is removed, unless
    one of APP_WIDE_LIMIT_SETTINGS is set or a blueprint carries a limit. Call once every
    blueprint is registered."""
    if hook is None or any(app.config.get(name) for name in APP_WIDE_LIMIT_SETTINGS):
        return
    manager = extension.limit_manager
    if manager.default_limits or manager.application_limits:
        return
    if any(manager.blueprint_limits(app, name) for name in app.blueprints):
        return
    app.before_request_funcs[None].remove(hook)
