"""ログイン, ログアウト and the expired-registration notice."""

from __future__ import annotations

from flask import Blueprint, Flask, current_app, g, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy.orm import selectinload

from blueprints.auth.forms import LoginForm
from blueprints.auth.operations import authenticate, end_sessions
from models import errors
from models.account import Resident, ResidentGroupClass
from web.clock import now, today
from web.data import read_session, write_session
from web.errors import domain_error_item, form_errors
from web.extensions import limiter, login_manager
from web.navigation import current_path, safe_next_url
from web.rendering import redirect_whole_page, render_page

bp = Blueprint("auth", __name__)

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


def init_login(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.session_protection = "basic"

    @login_manager.user_loader
    def load_resident(session_id: str):
        try:
            resident_id, version = (int(x) for x in session_id.split(":"))
        except ValueError:
            return None
        resident = read_session().get(
            Resident,
            resident_id,
            options=[selectinload(Resident.group_classes).selectinload(ResidentGroupClass.group_class)],
        )
        if resident is None or resident.session_version != version:
            return None
        return resident

    @login_manager.unauthorized_handler
    def ask_for_login():
        # Choosing slots while logged out: log in, then come back to the same step.
        return redirect_whole_page(url_for("auth.login", next=current_path(), reason="login_required"))

    @app.before_request
    def expired_registration_reads_only():
        if (
            current_user.is_authenticated
            and current_user.registration_expired(today())
            and request.endpoint not in EXPIRED_ALLOWED
        ):
            return redirect_whole_page(url_for("auth.expired"))

    @app.after_request
    def private_pages_are_not_stored(response):
        if current_user.is_authenticated:
            response.headers["Cache-Control"] = "no-store"
        return response


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["RATELIMIT_LOGIN"], methods=["POST"])
def login():
    next_url = safe_next_url(request.values.get("next"), url_for("mymenu.index"))
    if current_user.is_authenticated and request.method == "GET":
        return redirect(next_url)
    form = LoginForm(next=next_url)
    problems = []
    if form.validate_on_submit():
        try:
            with write_session() as s:
                resident = authenticate(
                    s,
                    kind=form.registration_kind.data,
                    number=form.registration_number.normalized,
                    password=form.password.data,
                    now=now(),
                    locale=g.locale,
                )
        except errors.AuthenticationFailed as exc:
            problems = [domain_error_item(exc, "registration_number")]
        else:
            session.clear()
            login_user(resident)
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
