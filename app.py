"""Application factory: `create_app(profile)` binds extensions, channels and blueprints."""

from __future__ import annotations

import gc
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import Flask
from htmx_flask import Htmx

from config import ROOT, Config, ConfigurationError
from models.db import Database
from web import (
    channels,
    errors,
    formats,
    i18n,
    labels,
    navigation,
    proxy,
    rendering,
    request_log,
    security,
    sessions,
    static_files,
    steps,
)
from web.availability_cache import make_grid_cache
from web.data import close_read_session
from web.extensions import drop_empty_app_wide_check, init_csrf, init_limiter
from web.log_format import configure_json_logging

NODE_MODULES = ROOT / "node_modules"


def _npm_file(package_path: str) -> Path:
    """An npm file as installed at set-up, or as the wheel carries it (vendor/)."""
    installed = NODE_MODULES / package_path
    return installed if installed.exists() else ROOT / "vendor" / Path(package_path).name


# Files served from npm packages installed at set-up (nothing third-party is committed).
VENDOR_FILES = {
    "htmx.min.js": _npm_file("htmx.org/dist/htmx.min.js"),
}


class Site(Flask):
    """Flask, asking once per function (not on each of a request's twenty-odd hook, view
    and context-processor calls) whether it is an `async def` to be run to completion."""

    _PLAIN_FUNCTIONS_KEPT = 4096

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._plain_functions: set = set()

    def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
        try:
            if func in self._plain_functions:
                return func
        except TypeError:  # unhashable: asked every time, as Flask does
            return super().ensure_sync(func)
        synced = super().ensure_sync(func)
        if synced is func:
            if len(self._plain_functions) >= self._PLAIN_FUNCTIONS_KEPT:
                self._plain_functions.clear()
            self._plain_functions.add(func)
        return synced


def create_app(profile: str = "standard", config: Config | None = None) -> Flask:
    config = config or Config.from_env()
    app = Site(__name__, instance_path=config.INSTANCE_PATH, instance_relative_config=False)
    app.config.from_mapping(config.as_dict())
    if not app.testing:
        configure_json_logging()  # one JSON line per record on stderr (gunicorn, flask run)
    if not (app.debug or app.testing) and config.uses_default_secrets():
        raise ConfigurationError(
            f"{' and '.join(config.default_secrets())} not set (the embedded defaults are for development "
            "only): set them in the environment (bin/setup writes random ones to .env)"
        )
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)

    if app.config["TRUSTED_PROXIES"]:
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops)

    app.extensions["database"] = Database(app.config["DATABASE_URL"])
    app.extensions["availability_cache"] = make_grid_cache(
        app.config["REDIS_URL"], app.config["DATABASE_URL"], app.config["AVAILABILITY_CACHE_ENTRIES"]
    )
    app.teardown_appcontext(close_read_session)

    sessions.init_app(app, profile)
    Htmx(app)
    init_csrf(app)
    app.config["RATELIMIT_STORAGE_URI"] = app.config["REDIS_URL"] or "memory://"
    limit_check = init_limiter(app)

    channels.init_app(app, profile)
    request_log.init_app(app)  # after channels: its hook goes first, so every refusal is logged
    i18n.init_app(app)
    formats.init_app(app)
    navigation.init_app(app)
    labels.init_app(app)
    steps.init_app(app)
    errors.init_app(app)
    security.init_app(app)
    rendering.init_app(app)
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True

    _register_blueprints(app)
    drop_empty_app_wide_check(app, limit_check)  # the routes' own limits are checked by their decorators
    static_files.init_app(app, VENDOR_FILES)
    navigation.remember_built_urls(app)
    _register_commands(app)
    proxy.install(app)  # outermost: sees X-Forwarded-For as it arrived
    if not app.testing:
        _settle_start_up_objects()
    return app


def _settle_start_up_objects() -> None:
    """What start-up made (modules, the app, its tables and templates: some 140,000 objects)
    lives as long as the process. Moved out of the garbage collector's way (gc.freeze), the
    full collections that requests' garbage triggers every few thousand requests no longer
    walk them (issue 12: a pause of about 90 ms each, in the middle of some request). The
    start-up's own garbage is collected first, so nothing collectable is frozen."""
    gc.collect()
    gc.freeze()


def _register_blueprints(app: Flask) -> None:
    import blueprints.auth.account  # noqa: F401  (the account pages join the auth blueprint)
    from blueprints.apply.routes import bp as apply_bp
    from blueprints.auth.routes import bp as auth_bp
    from blueprints.auth.routes import init_login
    from blueprints.info.routes import bp as info_bp
    from blueprints.mymenu.routes import bp as mymenu_bp
    from blueprints.search.routes import bp as search_bp
    from blueprints.settings.routes import bp as settings_bp
    from blueprints.top.routes import bp as top_bp

    init_login(app)
    for bp in (top_bp, auth_bp, search_bp, apply_bp, mymenu_bp, info_bp, settings_bp):
        app.register_blueprint(bp)
    # 予約の取消 moves no money: every profile and presentation (DESIGN "Channels").
    from blueprints.cancel.routes import bp as cancel_bp

    app.register_blueprint(cancel_bp)
    # 備品 changes move no money either: every profile and presentation.
    from blueprints.equipment.routes import bp as equipment_bp

    app.register_blueprint(equipment_bp)
    # 抽選申込 and 取下げ move no money either: every profile and presentation.
    from blueprints.lottery.routes import bp as lottery_bp

    app.register_blueprint(lottery_bp)
    # Card payment only on the standard profile; a kiosk answers everything under
    # /payment with its refusal (DESIGN "Architecture").
    instance = channels.Channel(app.config["PROFILE"])
    if instance.serves_card_payment:
        from blueprints.payment.routes import bp as payment_bp
    else:
        from blueprints.payment.guard import kiosk_bp as payment_bp
    app.register_blueprint(payment_bp)
    if not instance.is_kiosk:
        # Health and metrics are for the inside; the kiosk's origin has none (issue 13).
        from web.health import bp as health_bp

        app.register_blueprint(health_bp)
    if instance.is_kiosk:
        from blueprints.kiosk.routes import init_kiosk

        init_kiosk(app)  # idle reset and no remembered form values on shared terminals


def _register_commands(app: Flask) -> None:
    """Each package registers its own `flask` commands."""
    import demo.commands
    import lottery.commands
    import mail.commands
    import scale.commands
    import web.commands
    import worker.commands

    for package in (web.commands, demo.commands, worker.commands, mail.commands, lottery.commands, scale.commands):
        package.register(app)
