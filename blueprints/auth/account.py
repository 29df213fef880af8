"""パスワードを忘れた場合 (仮パスワード発行 by mail) and 利用者情報の更新・変更 (DESIGN "Accounts
and sign-in"). Registered on the auth blueprint: マイメニュー links here (screen areas do not
import each other)."""

from __future__ import annotations

from flask import current_app, g, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy.orm import selectinload

from blueprints.auth.blueprint import bp
from blueprints.auth.forms import (
    EmailChangeForm,
    ForgotForm,
    IntroductionForm,
    PasswordChangeForm,
    PhoneForm,
    ResetForm,
    TokenForm,
    WithdrawIntroductionForm,
)
from blueprints.auth.operations import (
    EMAIL,
    RESET,
    IntroductionText,
    NotIntroducible,
    StaleForm,
    change_password,
    change_phone,
    complete_reset,
    confirm_email_change,
    introduction_of,
    make_hash,
    request_email_change,
    request_reset,
    save_introduction,
    valid_token,
    withdraw_introduction,
)
from mail.compose import call_centre_for
from models import errors
from models.account import Resident, ResidentGroupClass
from models.account_rules import normalize_registration_number
from models.introduction_rules import CONTACT_MAX, DESCRIPTION_MAX, MEETS_MAX, may_introduce
from models.passwords import verify_password
from web.clock import now, today
from web.data import read_session, write_session
from web.errors import ErrorItem, form_errors
from web.extensions import limiter
from web.rendering import render_page
from web.sessions import start_session

NOTICE_KEY = "account_notice"
NOTICES = {
    "password": _l("パスワードを変更しました。他の端末やブラウザでのログインは終了しました。"),
    "email": _l(
        "新しいメールアドレスに確認のメールを送りました。メールのリンクを開くと変更が確定します（24時間有効）。"
        "確定するまでは、これまでのメールアドレスにお知らせが届きます。"
    ),
    "phone": _l("電話番号を変更しました。"),
    "introduction_published": _l("紹介を保存しました。「サークル(団体) 紹介」に掲載しています。"),
    "introduction_saved": _l("紹介を保存しました。「サークル(団体) 紹介」には掲載していません。"),
    "introduction_withdrawn": _l("紹介を取り下げました。「サークル(団体) 紹介」から削除しました。"),
    "reset": _l("新しいパスワードを設定しました。他の端末やブラウザでのログインは終了しました。"),
}
STALE_MESSAGE = _l(
    "この画面を開いた後に、別の画面でパスワードが変更されたか、同じ内容が送信されました。"
    "変更は行っていません。内容を確認して、もう一度入力してください。"
)
WRONG_PASSWORD = _l("現在のパスワードが正しくありません。")
BAD_LINK = _l("このリンクは無効です。有効期限（30分）が過ぎたか、すでに使われたか、より新しいメールが送られています。")


INTRODUCTION_STALE = _l(
    "この画面を開いた後に、別の画面で紹介が変更されたか、同じ内容が送信されました。"
    "変更は行っていません。内容を確認して、もう一度送信してください。"
)
NOT_INTRODUCIBLE = _l("サークル(団体) 紹介に掲載できるのは、集会・学校の利用者登録をした団体です。")


def _centre():
    return call_centre_for(current_app.config, g.locale)


def _public_link(endpoint: str, token: str) -> str:
    """A link in a mail: always to the standard site (PUBLIC_BASE_URL), also when asked from a
    kiosk, where the resident would not be when the mail arrives."""
    return current_app.config["PUBLIC_BASE_URL"].rstrip("/") + url_for(endpoint, token=token)


def _reset_limit() -> str:
    return current_app.config["RATELIMIT_RESET"]


def _registration_key() -> str:
    """The per-registration key of the reset form's limit (whatever was typed, normalised)."""
    raw = request.form.get("registration_number", "")
    try:
        number = normalize_registration_number(raw)
    except ValueError:
        number = raw[:20]
    return f"reset-registration:{request.form.get('registration_kind', '')[:20]}:{number}"


# -- パスワードを忘れた場合 -----------------------------------------------------------------------


@bp.route("/password/forgot", methods=["GET", "POST"])
@limiter.limit(_reset_limit, methods=["POST"])
@limiter.limit(_reset_limit, key_func=_registration_key, methods=["POST"])
def forgot():
    form = ForgotForm()
    if form.validate_on_submit():
        with write_session() as s:
            request_reset(
                s,
                kind=form.registration_kind.data,
                number=form.registration_number.normalized,
                email=form.email.data,
                now=now(),
                link_for=lambda token: _public_link("auth.reset", token),
                centre=_centre(),
            )
        return redirect(url_for("auth.forgot_sent"), code=303)
    return render_page("auth/forgot.html", title=_("パスワードを忘れた場合"), form=form, errors=form_errors(form))


@bp.get("/password/forgot/sent")
def forgot_sent():
    return render_page("auth/forgot_sent.html", title=_("パスワード再設定のメールについて"))


@bp.route("/password/reset", methods=["GET", "POST"])
@limiter.limit(_reset_limit, methods=["POST"])
def reset():
    token = request.values.get("token", "")
    form = ResetForm(token=token)
    row = valid_token(read_session(), token, RESET, now())
    if row is None:
        return render_page(
            "auth/reset_invalid.html",
            title=_("リンクが無効です"),
            errors=[ErrorItem(str(BAD_LINK))],
            status=410 if request.method == "GET" else 422,
        )
    resident = read_session().get(Resident, row.resident_id)
    form.registration_number_for_check = resident.registration_number if resident else ""
    problems = []
    if form.validate_on_submit():
        new_hash = make_hash(form.new_password.data)  # outside the write transaction
        read_session().rollback()
        try:
            with write_session() as s:
                done = complete_reset(s, token=token, new_hash=new_hash, now=now(), centre=_centre())
        except errors.NotFound:
            problems = [ErrorItem(str(BAD_LINK))]
        else:
            start_session(done)
            session[NOTICE_KEY] = "reset"
            return redirect(url_for("auth.profile"), code=303)
    else:
        problems = form_errors(form)
    form.new_password.data = form.new_password_confirm.data = ""
    return render_page("auth/reset.html", title=_("新しいパスワードの設定"), form=form, errors=problems)


# -- 利用者情報の更新・変更 -----------------------------------------------------------------------


def _me() -> Resident:
    return read_session().get(
        Resident,
        current_user.id,
        options=[selectinload(Resident.group_classes).selectinload(ResidentGroupClass.group_class)],
        populate_existing=True,
    )


@bp.get("/mymenu/profile")
@login_required
def profile():
    notice = session.pop(NOTICE_KEY, None)
    return render_page(
        "auth/profile.html",
        title=_("利用者情報の更新・変更"),
        resident=_me(),
        introduction=introduction_of(read_session(), current_user.id),
        may_introduce=may_introduce(current_user.registration_kind),
        today=today(),
        notice=NOTICES.get(notice) if notice else None,
        must_change=current_user.must_change_password,
    )


def _current_password_ok(form) -> bool:
    """The current password, checked outside any write transaction; a form shown before the
    last change (another tab, a replay) is refused first."""
    if form.epoch.data != str(current_user.session_version):
        form.epoch.errors = [str(STALE_MESSAGE)]
        return False
    resident = _me()
    if not verify_password(resident.password_hash, form.current_password.data or ""):
        form.current_password.errors = [str(WRONG_PASSWORD)]
        return False
    return True


@bp.route("/mymenu/profile/password", methods=["GET", "POST"])
@login_required
@limiter.limit(_reset_limit, methods=["POST"])
def change_password_page():
    form = PasswordChangeForm(epoch=str(current_user.session_version))
    form.registration_number_for_check = current_user.registration_number
    form.hints = (current_user.name, current_user.email or "")
    problems: list[ErrorItem] = []
    if form.validate_on_submit() and _current_password_ok(form):
        new_hash = make_hash(form.new_password.data)
        read_session().rollback()
        try:
            with write_session() as s:
                resident = change_password(
                    s,
                    resident_id=current_user.id,
                    epoch=int(form.epoch.data),
                    new_hash=new_hash,
                    now=now(),
                    centre=_centre(),
                )
        except StaleForm:
            problems = [ErrorItem(str(STALE_MESSAGE))]
        else:
            start_session(resident)
            session[NOTICE_KEY] = "password"
            return redirect(url_for("auth.profile"), code=303)
    problems = problems or _errors_with_epoch(form)
    form.epoch.data = str(current_user.session_version)
    for field in (form.current_password, form.new_password, form.new_password_confirm):
        field.data = ""
    return render_page(
        "auth/password.html",
        title=_("パスワードの変更"),
        form=form,
        errors=problems,
        must_change=current_user.must_change_password,
    )


def _errors_with_epoch(form) -> list[ErrorItem]:
    items = [ErrorItem(str(message)) for message in form.epoch.errors]
    return items + [item for item in form_errors(form) if item.field_id != "epoch"]


@bp.route("/mymenu/profile/email", methods=["GET", "POST"])
@login_required
@limiter.limit(_reset_limit, methods=["POST"])
def change_email_page():
    form = EmailChangeForm(epoch=str(current_user.session_version))
    problems: list[ErrorItem] = []
    if form.validate_on_submit() and _current_password_ok(form):
        if current_user.email and form.email.data.lower() == current_user.email.lower():
            form.email.errors = [_("現在登録しているメールアドレスと同じです。")]
        else:
            read_session().rollback()
            try:
                with write_session() as s:
                    request_email_change(
                        s,
                        resident_id=current_user.id,
                        epoch=int(form.epoch.data),
                        new_email=form.email.data,
                        now=now(),
                        link_for=lambda token: _public_link("auth.confirm_email", token),
                        centre=_centre(),
                    )
            except StaleForm:
                problems = [ErrorItem(str(STALE_MESSAGE))]
            else:
                session[NOTICE_KEY] = "email"
                return redirect(url_for("auth.profile"), code=303)
    problems = problems or _errors_with_epoch(form)
    form.epoch.data = str(current_user.session_version)
    form.current_password.data = ""
    return render_page(
        "auth/email_change.html",
        title=_("メールアドレスの変更"),
        form=form,
        errors=problems,
        mail_from=current_app.config["MAIL_FROM"],
    )


@bp.route("/account/email/confirm", methods=["GET", "POST"])
@limiter.limit(_reset_limit, methods=["POST"])
def confirm_email():
    """The link in the confirmation mail: opening it shows a button (a mail scanner that
    follows links changes nothing); the button confirms. No login needed: the link is the
    proof."""
    token = request.values.get("token", "")
    row = valid_token(read_session(), token, EMAIL, now())
    form = TokenForm(token=token)
    if row is None:
        return render_page(
            "auth/reset_invalid.html",
            title=_("リンクが無効です"),
            errors=[
                ErrorItem(
                    _(
                        "このリンクは無効です。有効期限（24時間）が過ぎたか、すでに使われたか、より新しいメールが送られています。"
                    )
                )
            ],
            status=410 if request.method == "GET" else 422,
            email_link=True,
        )
    if form.validate_on_submit():
        read_session().rollback()
        try:
            with write_session() as s:
                confirm_email_change(s, token=token, now=now(), centre=_centre())
        except errors.NotFound:
            return redirect(url_for("auth.confirm_email", token=token), code=303)
        return redirect(url_for("auth.email_confirmed"), code=303)
    return render_page(
        "auth/email_confirm.html",
        title=_("メールアドレス変更の確定"),
        form=form,
        new_email=row.new_email,
        errors=form_errors(form),
    )


@bp.get("/account/email/confirmed")
def email_confirmed():
    return render_page("auth/email_confirmed.html", title=_("メールアドレスを変更しました"))


@bp.route("/mymenu/profile/phone", methods=["GET", "POST"])
@login_required
def change_phone_page():
    form = PhoneForm()
    if request.method == "GET" and current_user.phone:
        form.phone.data = current_user.phone
    if form.validate_on_submit():
        with write_session() as s:
            change_phone(s, resident_id=current_user.id, phone=form.phone.normalized)
        session[NOTICE_KEY] = "phone"
        return redirect(url_for("auth.profile"), code=303)
    return render_page("auth/phone.html", title=_("電話番号の変更"), form=form, errors=form_errors(form))


# -- サークル(団体) 紹介 (issue 11) ------------------------------------------------------------------


def _introduction_page(form, withdraw_form, row, problems, status=None):
    return render_page(
        "auth/introduction.html",
        title=_("サークル(団体) 紹介の登録・変更"),
        form=form,
        withdraw_form=withdraw_form,
        introduction=row,
        may_introduce=may_introduce(current_user.registration_kind),
        limits={"description": DESCRIPTION_MAX, "meets": MEETS_MAX, "contact": CONTACT_MAX},
        errors=problems,
        status=status,
    )


@bp.route("/mymenu/profile/introduction", methods=["GET", "POST"])
@login_required
def introduction_page():
    """The group's own introduction: written, published or not, changed. Its id is never in
    the form: the operation takes the logged-in group's."""
    row = introduction_of(read_session(), current_user.id)
    form = IntroductionForm(obj=row) if request.method == "GET" else IntroductionForm()
    if request.method == "GET":
        form.version.data = str(row.version if row else 0)
    problems: list[ErrorItem] = []
    if not may_introduce(current_user.registration_kind):
        problems = [ErrorItem(str(NOT_INTRODUCIBLE))] if request.method == "POST" else []
        return _introduction_page(form, None, row, problems, status=403 if problems else None)
    if form.validate_on_submit():
        text = IntroductionText(
            published=bool(form.published.data),
            activity=form.activity.data,
            description=form.description.data,
            meets=form.meets.data or "",
            contact=form.contact.data or "",
        )
        read_session().rollback()
        try:
            with write_session() as s:
                save_introduction(s, resident_id=current_user.id, version=int(form.version.data), text=text, now=now())
        except StaleForm:
            problems = [ErrorItem(str(INTRODUCTION_STALE))]
        except NotIntroducible:
            problems = [ErrorItem(str(NOT_INTRODUCIBLE))]
        else:
            session[NOTICE_KEY] = "introduction_published" if text.published else "introduction_saved"
            return redirect(url_for("auth.profile"), code=303)
        row = introduction_of(read_session(), current_user.id)
    problems = problems or form_errors(form)
    # What the group typed stays in the form; the version is the current one, so that sending
    # again after reading the message is a deliberate change.
    form.version.data = str(row.version if row else 0)
    withdraw_form = WithdrawIntroductionForm(version=str(row.version)) if row else None
    return _introduction_page(form, withdraw_form, row, problems)


@bp.post("/mymenu/profile/introduction/withdraw")
@login_required
def withdraw_introduction_page():
    """取り下げる: the introduction is deleted and gone from サークル(団体) 紹介 at once."""
    withdraw_form = WithdrawIntroductionForm()
    problems: list[ErrorItem] = []
    if withdraw_form.validate_on_submit():
        read_session().rollback()
        try:
            with write_session() as s:
                withdraw_introduction(s, resident_id=current_user.id, version=int(withdraw_form.version.data))
        except StaleForm:
            problems = [ErrorItem(str(INTRODUCTION_STALE))]
        else:
            session[NOTICE_KEY] = "introduction_withdrawn"
            return redirect(url_for("auth.profile"), code=303)
    problems = problems or [ErrorItem(str(INTRODUCTION_STALE))]
    row = introduction_of(read_session(), current_user.id)
    form = IntroductionForm(obj=row, formdata=None)
    form.version.data = str(row.version if row else 0)
    fresh_withdraw = WithdrawIntroductionForm(formdata=None, version=str(row.version)) if row else None
    return _introduction_page(form, fresh_withdraw, row, problems)
