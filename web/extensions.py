"""Extension objects bound to each app by create_app (shared by blueprints that decorate)."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect

csrf = CSRFProtect()
# Per process without Redis, shared through Redis when REDIS_URL is set.
limiter = Limiter(key_func=get_remote_address, default_limits=[])
login_manager = LoginManager()

# Flask-Limiter's settings for limits that apply beyond the decorated routes.
APP_WIDE_LIMIT_SETTINGS = ("RATELIMIT_DEFAULT", "RATELIMIT_APPLICATION", "RATELIMIT_META")


def init_limiter(app: Flask, extension: Limiter = limiter) -> Callable[[], None] | None:
    """Bind the limiter; return the before-request hook it registered (its check of the
    limits that apply beyond the decorated routes), or None."""
    hooks = app.before_request_funcs.setdefault(None, [])
    before = list(hooks)
    extension.init_app(app)
    added = [hook for hook in hooks if hook not in before]
    return added[0] if len(added) == 1 else None


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
