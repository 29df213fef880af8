"""The hosted card page (§5-1 ⑤ of the guide): GET shows it, plain-form POSTs pay, extend
the time limit or cancel; each POST ends in a redirect (to the page again, or to the
merchant's return URL with ?session_id=<id> only). Works without JavaScript."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

from flask import Blueprint, abort, current_app, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from markupsafe import Markup

from payment_standin import operations
from payment_standin.cards import Brand, CardProblem, Field, InvalidCard, Problem, check_card, expiry_years
from payment_standin.errors import ExtensionLimitReached, SessionClosed, SessionNotFound
from payment_standin.i18n import JST, clock_time, locale_or_default
from payment_standin.models import PaymentSession
from payment_standin.operations import PaymentOutcome
from payment_standin.security import content_security_policy
from payment_standin.status import is_payable

bp = Blueprint("pay", __name__)

SESSION_ID = re.compile(r"cs_[A-Za-z0-9_-]{20,64}")


@dataclass(frozen=True)
class ErrorItem:
    message: str
    field_id: str | None = None

    @property
    def href(self) -> str | None:
        return f"#{self.field_id}" if self.field_id else None


def now():
    return current_app.config["CLOCK"]()


def database():
    return current_app.extensions["standin_db"]


def wake_notifier() -> None:
    current_app.extensions["standin_notifier"].wake()


def return_redirect(payment: PaymentSession):
    """Back to the merchant with the session id only; the merchant asks the API what
    happened."""
    return redirect(f"{payment.return_url}?{urlencode({'session_id': payment.id})}", code=303)


def page_url(payment: PaymentSession, **params) -> str:
    if g.locale != "ja":
        params["lang"] = g.locale
    return url_for("pay.page", session_id=payment.id, **params)


@bp.before_request
def guard() -> None:
    """Unknown-looking ids are a 404; POSTs must come from our own page (no cookies are
    used, so the Origin and Fetch-Metadata headers stand in for a CSRF token)."""
    session_id = (request.view_args or {}).get("session_id", "")
    if not SESSION_ID.fullmatch(session_id):
        abort(404)
    if request.method == "POST":
        origin = request.headers.get("Origin")
        own = {request.host_url.rstrip("/"), current_app.config["PAYMENT_STANDIN_PUBLIC_URL"]}
        if origin is not None and origin not in own:
            abort(403)
        if request.headers.get("Sec-Fetch-Site") not in (None, "same-origin", "none"):
            abort(403)


@bp.errorhandler(403)
def forbidden(_exc):
    return (
        render_template(
            "standin/problem.html",
            title=_("この操作は受け付けられません"),
            message=_("お支払いのページから操作してください。"),
        ),
        403,
    )


def load_current(session_id: str) -> PaymentSession:
    """The session, expired first if its time is up (that change is committed)."""
    try:
        with database().write() as session:
            return operations.refresh_session(session, now(), session_id)
    except SessionNotFound:
        abort(404)


def apply_locale(payment: PaymentSession) -> None:
    """?lang= (or the form's lang) wins; otherwise the language the merchant asked for."""
    g.locale = locale_or_default(request.values.get("lang"), payment.locale)


# Messages -------------------------------------------------------------------------------
def problem_message(item: CardProblem) -> str:
    brand = item.brand
    problem = item.problem
    if problem is Problem.NUMBER_MISSING:
        return _("クレジットカード番号を入力してください。")
    if problem is Problem.NUMBER_NOT_DIGITS:
        return _("クレジットカード番号は数字で入力してください(例: 4321987654321234)。")
    if problem is Problem.BRAND_UNKNOWN:
        return _(
            "このカードはご利用いただけません。VISA、Mastercard、JCB、Diners Club、AMERICAN EXPRESSのカードをお使いください。"
        )
    if problem is Problem.NUMBER_LENGTH:
        return _("クレジットカード番号の桁数が正しくありません。カードに記載の番号をすべて入力してください。")
    if problem is Problem.NUMBER_LUHN:
        return _("クレジットカード番号が正しくありません。番号をお確かめください。")
    if problem is Problem.MONTH_MISSING:
        return _("有効期限の月を選択してください。")
    if problem is Problem.YEAR_MISSING:
        return _("有効期限の年を選択してください。")
    if problem is Problem.EXPIRED:
        return _("有効期限が過ぎています。カードに記載の有効期限をお確かめください。")
    if problem is Problem.CODE_MISSING:
        return _("セキュリティコードを入力してください。")
    if brand is Brand.AMEX:
        return _("AMERICAN EXPRESSのセキュリティコードは、カード表面の4桁の数字で入力してください。")
    if brand is not None:
        return _("セキュリティコードは、カード裏面の3桁の数字で入力してください。")
    return _("セキュリティコードは数字3桁(AMERICAN EXPRESSは4桁)で入力してください。")


def declined_message() -> ErrorItem:
    return ErrorItem(
        _(
            "このカードはご利用いただけませんでした(カード会社が決済を承認しませんでした)。別のカードの番号を入力するか、「決済を中止する」を押してください。"
        ),
        Field.NUMBER.value,
    )


# Rendering ------------------------------------------------------------------------------
def render_page(payment: PaymentSession, *, errors=(), values=None, status=200, extended=False):
    config = current_app.config
    current = now()
    today = current.astimezone(JST).date()
    remaining = (payment.expires_at - current).total_seconds()
    field_errors: dict[str, str] = {}
    for item in errors:
        if item.field_id and item.field_id not in field_errors:
            field_errors[item.field_id] = item.message
    merchant = config["PAYMENT_STANDIN_MERCHANT_NAME_EN" if g.locale == "en" else "PAYMENT_STANDIN_MERCHANT_NAME_JA"]
    other_locale = "en" if g.locale == "ja" else "ja"
    end_time_markup = Markup('<time datetime="{}">{}</time>').format(
        payment.expires_at.astimezone(JST).isoformat(timespec="seconds"), clock_time(payment.expires_at)
    )
    html = render_template(
        "standin/pay.html",
        # guide: L146
        title=_("クレジットカード決済"),
        payment=payment,
        merchant_name=merchant,
        brands=list(Brand),
        months=[f"{m:02d}" for m in range(1, 13)],
        years=[str(y) for y in expiry_years(today)],
        values=values or {},
        errors=list(errors),
        field_errors=field_errors,
        limit_minutes=max(1, math.ceil(payment.limit_seconds / 60)),
        end_time=clock_time(payment.expires_at),
        end_time_markup=end_time_markup,
        server_now=current,
        warning_seconds=config["PAYMENT_WARNING_SECONDS"],
        show_warning=remaining <= config["PAYMENT_WARNING_SECONDS"],
        extensions_left=max(0, config["PAYMENT_MAX_EXTENSIONS"] - payment.extensions_used),
        extended=extended,
        other_locale=other_locale,
        language_switch_url=url_for("pay.page", session_id=payment.id, lang=other_locale),
    )
    return_origin = "{0.scheme}://{0.netloc}".format(urlsplit(payment.return_url))
    return html, status, {"Content-Security-Policy": content_security_policy(return_origin)}


# Routes -------------------------------------------------------------------------------
@bp.get("/pay/<session_id>")
def page(session_id: str):
    payment = load_current(session_id)
    apply_locale(payment)
    if not is_payable(payment.state):
        return return_redirect(payment)
    return render_page(payment, extended=request.args.get("extended") == "1")


@bp.post("/pay/<session_id>")
def pay(session_id: str):
    payment = load_current(session_id)
    apply_locale(payment)
    if not is_payable(payment.state):
        return return_redirect(payment)
    form = request.form
    # The number and expiry are shown again for correction; the security code never is.
    values = {name: form.get(name, "")[:40] for name in ("card_number", "expiry_month", "expiry_year")}
    try:
        card = check_card(
            form.get("card_number"),
            form.get("expiry_month"),
            form.get("expiry_year"),
            form.get("security_code"),
            now().astimezone(JST).date(),
        )
    except InvalidCard as exc:
        errors = [ErrorItem(problem_message(p), p.field.value) for p in exc.problems]
        return render_page(payment, errors=errors, values=values, status=422)
    with database().write() as session:
        outcome = operations.capture_payment(session, now(), session_id, card)
        payment = operations.load_session(session, session_id)
    if outcome is PaymentOutcome.DECLINED:
        values["card_number"] = ""
        return render_page(payment, errors=[declined_message()], values=values, status=422)
    wake_notifier()
    return return_redirect(payment)


@bp.post("/pay/<session_id>/extend")
def extend(session_id: str):
    payment = load_current(session_id)
    apply_locale(payment)
    try:
        with database().write() as session:
            payment = operations.extend_session(
                session, now(), session_id, current_app.config["PAYMENT_MAX_EXTENSIONS"]
            )
    except SessionClosed:
        return return_redirect(payment)
    except ExtensionLimitReached:
        message = _(
            "延長できる回数(%(count)s回)を超えたため、これ以上延長できません。終了時刻までに「お支払い」を押してください。",
            count=current_app.config["PAYMENT_MAX_EXTENSIONS"],
        )
        return render_page(payment, errors=[ErrorItem(message, "time-limit-title")], status=422)
    return redirect(page_url(payment, extended="1") + "#time-limit-title", code=303)


@bp.post("/pay/<session_id>/cancel")
def cancel(session_id: str):
    with database().write() as session:
        try:
            payment = operations.cancel_session(session, now(), session_id)
        except SessionNotFound:
            abort(404)
    wake_notifier()
    return return_redirect(payment)
