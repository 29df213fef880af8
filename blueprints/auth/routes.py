"""ログイン, ログアウト and the expired-registration notice."""

from __future__ import annotations

from flask import Flask, current_app, g, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, logout_user

from blueprints.auth.blueprint import bp
from blueprints.auth.forms import LoginForm
from blueprints.auth.operations import check_password, end_sessions, record_failure, record_success
from mail.compose import call_centre_for
from models import errors
from models.account_rules import LOCKOUT_AFTER, LOCKOUT_FOR
from models.signed_in import load_signed_in
from web.clock import now, today
from web.data import read_session, write_session
from web.errors import ErrorItem, domain_error_item, form_errors
from web.extensions import limiter, login_manager
from web.navigation import current_path, safe_next_url
from web.rendering import redirect_whole_page, render_page
from web.sessions import start_session

# Endpoints an expired registration may still reach: the notice itself and the way out.
EXPIRED_ALLOWED = {
    "auth.expired",
    "auth.logout",
    "static",
    "vendor",
    "settings.language",
    "settings.reader",
    "settings.display",
}


# Endpoints a resident holding a 仮パスワード may reach before changing it.
MUST_CHANGE_ALLOWED = EXPIRED_ALLOWED | {"auth.change_password_page", "auth.logged_out", "auth.profile"}


def init_login(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.session_protection = "basic"

    @login_manager.user_loader
    def load_resident(session_id: str):
        try:
            resident_id, version = (int(x) for x in session_id.split(":"))
        except ValueError:
            return None
        # One indexed read (issue 12): the registration, its 団体区分 and their names, joined
        # by primary and foreign keys, as plain columns on the read session's connection (no
        # ORM instances: models/signed_in.py); the epoch compared here, on every request.
        resident = load_signed_in(read_session().connection(), resident_id)
        if resident is None or resident.session_version != version:
            return None
        return resident

    @login_manager.unauthorized_handler
    def ask_for_login():
        # Choosing slots while logged out: log in, then come back to the same step.
        return redirect_whole_page(url_for("auth.login", next=current_path(), reason="login_required"))

    @app.before_request
    def registration_standing():
        # One look at the request's user (loaded here, epoch compared, for every request).
        user = current_user._get_current_object()
        if not user.is_authenticated:
            return None
        # An expired registration reads only: the notice and the way out.
        if user.registration_expired(today()) and request.endpoint not in EXPIRED_ALLOWED:
            return redirect_whole_page(url_for("auth.expired"))
        # A 仮パスワード issued at a counter is changed before anything else (DESIGN).
        if user.must_change_password and request.endpoint not in MUST_CHANGE_ALLOWED:
            return redirect_whole_page(url_for("auth.change_password_page"))
        return None

    @app.context_processor
    def class_standing() -> dict:
        """What the header and マイメニュー say up front about expired 団体区分."""
        user = current_user._get_current_object()
        if not user.is_authenticated:
            return {}
        day = today()
        expired = [held for held in user.group_classes if held.expired(day)]
        return {
            "expired_classes": expired,
            "no_valid_class": bool(expired) and len(expired) == len(user.group_classes),
        }

    @app.after_request
    def private_pages_are_not_stored(response):
        if current_user._get_current_object().is_authenticated:
            response.headers["Cache-Control"] = "no-store"
        return response


LOCKED_MESSAGE = _l(
    "パスワードの誤りが続いたため、この利用者登録番号でのログインを30分間停止しています。"
    "すぐにログインしたい場合は、「パスワードを忘れた場合」からパスワードを再設定してください。"
)


def _unknown_failures(kind: str, number: str, add: bool) -> int:
    """Wrong tries for a number nobody holds, counted where the address limits are (Redis
    when configured): after LOCKOUT_AFTER of them the page says what it says for a locked
    registration, so the lockout reveals nothing."""
    key = f"{current_app.config.get('RATELIMIT_KEY_PREFIX', '')}/unknown-login/{kind}/{number}"
    storage = limiter.storage
    if add:
        return storage.incr(key, int(LOCKOUT_FOR.total_seconds()))
    return storage.get(key)


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["RATELIMIT_LOGIN"], methods=["POST"])
def login():
    next_url = safe_next_url(request.values.get("next"), url_for("mymenu.index"))
    if current_user.is_authenticated and request.method == "GET":
        return redirect(next_url)
    form = LoginForm(next=next_url)
    problems = []
    if form.validate_on_submit():
        kind, number, moment = form.registration_kind.data, form.registration_number.normalized, now()
        # The argon2 check reads only: no write transaction is open while it runs.
        attempt = check_password(read_session(), kind=kind, number=number, password=form.password.data, now=moment)
        read_session().rollback()
        locked = attempt.locked or (
            attempt.resident_id is None and _unknown_failures(kind, number, add=False) >= LOCKOUT_AFTER
        )
        if locked:
            problems = [ErrorItem(str(LOCKED_MESSAGE), "registration_number")]
        elif not attempt.password_ok:
            if attempt.resident_id is None:
                locked = _unknown_failures(kind, number, add=True) >= LOCKOUT_AFTER
            else:
                with write_session() as s:
                    locked = record_failure(
                        s, attempt.resident_id, now=moment, centre=call_centre_for(current_app.config, g.locale)
                    )
            exc = errors.AuthenticationFailed()
            problems = [
                ErrorItem(str(LOCKED_MESSAGE), "registration_number")
                if locked
                else domain_error_item(exc, "registration_number")
            ]
        else:
            assert attempt.resident_id is not None
            with write_session() as s:
                resident = record_success(s, attempt.resident_id, now=moment, locale=g.locale)
                s.flush()
                s.expunge(resident)
            start_session(resident)
            return redirect(next_url, code=303)
    else:
        problems = form_errors(form)
    form.password.data = ""
    return render_page(
        "auth/login.html",
        title=_("ログイン"),
        form=form,
        errors=problems,
        login_required=request.args.get("reason") == "login_required",
        status=422 if problems else 200,
    )


@bp.post("/logout")
def logout():
    if current_user.is_authenticated:
        with write_session() as s:
            end_sessions(s, current_user.id)
    logout_user()
    session.clear()
    return redirect(url_for("auth.logged_out"), code=303)


@bp.get("/logged-out")
def logged_out():
    return render_page("auth/logged_out.html", title=_("ログアウトしました"))


@bp.get("/account/expired")
@login_required
def expired():
    return render_page(
        "auth/expired.html",
        title=_("利用者登録の有効期限切れ"),
        expired_on=current_user.registration_expires_on,
    )


LOGIN_REQUIRED_MESSAGE = _l("この操作にはログインが必要です。ログインすると、選択した内容のまま元の画面に戻ります。")
