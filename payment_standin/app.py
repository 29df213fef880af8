"""Application factory of the stand-in provider: `create_app(config=None)`.

Run: gunicorn 'payment_standin.app:create_app()' (Procfile `payments`, 127.0.0.1:5002)."""

from __future__ import annotations

from pathlib import Path

from flask import Flask, g, jsonify, render_template, request

from payment_standin import i18n, security
from payment_standin.db import Database
from payment_standin.notifier import Notifier
from payment_standin.settings import DEV_SECRET, settings_from_env

API_PREFIXES = ("/api/", "/_test/")


def create_app(config: dict | None = None) -> Flask:
    settings = settings_from_env()
    settings.update(config or {})
    app = Flask("payment_standin", instance_path=settings["INSTANCE_PATH"], instance_relative_config=False)
    app.config.from_mapping(settings)
    if not (app.debug or app.testing) and app.config["PAYMENT_PROVIDER_SECRET"] == DEV_SECRET:
        raise RuntimeError(
            "PAYMENT_PROVIDER_SECRET must be set outside debug mode (the default is for development only)."
        )
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)

    database = Database(app.config["PAYMENTS_DATABASE_URL"])
    database.create_schema()
    app.extensions["standin_db"] = database
    app.extensions["standin_notifier"] = Notifier(database, app.config, lambda: app.config["CLOCK"]())

    i18n.init_app(app)
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
    _register_blueprints(app)
    _register_hooks(app)
    security.init_app(app)
    _register_errors(app)
    _register_commands(app)
    return app


def _register_blueprints(app: Flask) -> None:
    from payment_standin.api import bp as api_bp
    from payment_standin.pages import bp as pages_bp

    app.register_blueprint(api_bp)
    app.register_blueprint(pages_bp)
    if app.config["PAYMENT_STANDIN_FAULTS"]:
        from payment_standin.faults import bp as faults_bp

        app.register_blueprint(faults_bp)


def _register_hooks(app: Flask) -> None:
    @app.before_request
    def start_background_and_locale() -> None:
        if not request.path.startswith(API_PREFIXES):
            g.locale = i18n.locale_or_default(request.args.get("lang") or request.form.get("lang"))
        if app.config["PAYMENT_STANDIN_BACKGROUND"]:
            app.extensions["standin_notifier"].ensure_started()


def _register_errors(app: Flask) -> None:
    from flask_babel import gettext as _

    def handle(status: int, code: str, title: str, message: str):
        if request.path.startswith(API_PREFIXES):
            return jsonify(error=code, message=code.replace("_", " ")), status
        return render_template("standin/problem.html", title=title, message=message), status

    @app.errorhandler(404)
    def not_found(_exc):
        return handle(404, "not_found", _("ページが見つかりません"), _("アドレスをお確かめください。"))

    @app.errorhandler(405)
    def method_not_allowed(_exc):
        return handle(
            405,
            "method_not_allowed",
            _("この操作はできません"),
            _("お手数ですが、元のサイトからもう一度お手続きください。"),
        )

    @app.errorhandler(413)
    def too_large(_exc):
        return handle(
            413, "too_large", _("送信された内容が大きすぎます"), _("入力内容をお確かめのうえ、もう一度お試しください。")
        )

    @app.errorhandler(500)
    def server_error(_exc):
        return handle(500, "server_error", _("処理できませんでした"), _("時間をおいて、もう一度お試しください。"))


def _register_commands(app: Flask) -> None:
    from payment_standin.commands import register

    register(app)
