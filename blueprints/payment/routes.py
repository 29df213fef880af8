"""クレジット決済 (guide ch. 5 §(1)): 選択 → 確認 → 注意事項 → the card company's page →
完了, and the return and notify endpoints the card company calls back. Each route parses,
calls one operation of payments/ (which holds the whole sequence, HTTP to the card company
included) and renders."""

from __future__ import annotations

from functools import partial

from flask import Blueprint, current_app, g, jsonify, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from blueprints.payment.forms import ConfirmForm, TermsForm
from blueprints.payment.guard import refuse_reader_presentation, require_email
from blueprints.payment.listing import list_payment_rows
from bookings.conditions import ListConditions
from bookings.forms import ReservationFilterForm, conditions_given
from mail.compose import call_centre_for
from models import errors
from models.numbering_rules import RESERVATION_NUMBER
from models.payment import Settlement, SettlementStatus
from models.reservation import Reservation
from payments.card_pages import (
    CardPage,
    CardPageNotOpened,
    ProviderUrls,
    apply_notification,
    apply_return,
    open_card_page,
)
from payments.provider import (
    BadSignature,
    MalformedNotification,
    ProviderUnavailable,
    is_session_id,
    provider_client,
    read_notification,
    request_target,
)
from payments.settlement import (
    SLOT_STARTED,
    CallCentres,
    SettlementQuote,
    load_own_reservation,
    load_own_settlement,
    open_settlement,
    quote_settlement,
)
from web.clock import now, today
from web.data import read_session, request_database
from web.errors import ErrorItem, domain_error_item, form_errors
from web.extensions import csrf
from web.formats import list_date
from web.rendering import render_page
from web.steps import Flow
from web.tokens import MalformedToken, issue_token, run_once

bp = Blueprint("payment", __name__, url_prefix="/payment")
bp.before_request(refuse_reader_presentation)
bp.before_request(require_email)

# The guide's breadcrumb (L188).
FLOW = Flow(
    (
        # guide: L188
        _l("メニュー"),
        # guide: L188
        _l("クレジット決済 選択"),
        # guide: L188
        _l("クレジット決済 確認"),
        # guide: L188
        _l("クレジット決済 注意事項"),
        # guide: L188
        _l("クレジット決済 完了"),
    )
)
SELECT_STEP, CONFIRM_STEP, TERMS_STEP, RESULT_STEP = 1, 2, 3, 4


# -- 選択 ---------------------------------------------------------------------------------


@bp.get("/")
@login_required
def select():
    """クレジット決済 選択 (guide L92-L130): one booking per payment, grouped by facility;
    those waiting for a settlement first; at most 20."""
    form = ReservationFilterForm(formdata=request.args, date_from=today())
    given = conditions_given(request.args)
    if form.validate():
        conditions = form.conditions
        problems = []
    else:
        conditions = ListConditions.from_day(today())
        problems = form_errors(form)
    listing = list_payment_rows(
        read_session(),
        resident_id=current_user.id,
        conditions=conditions,
        now=now(),
        # Unless the resident chose a period, a refund still owed on an earlier booking
        # stays in sight.
        earlier_pending=not given or bool(problems),
    )
    return render_page(
        "payment/select.html",
        fragment="payment/_select.html",
        title=FLOW.label(SELECT_STEP),
        errors=problems,
        **_breadcrumb(SELECT_STEP),
        form=form,
        conditions=conditions,
        listing=listing,
        filter_open=given or bool(problems),
    )


# -- 確認 ---------------------------------------------------------------------------------


@bp.get("/<number>")
@login_required
def confirm(number: str):
    """クレジット決済 確認 (guide L524-L541): 決済予定額 and, when money is held, the charge
    to void with its 取消収納番号."""
    try:
        reservation = _own_reservation(number)
    except errors.NotFound as exc:
        return _refused(exc)
    try:
        quote = quote_settlement(reservation, now())
    except errors.DomainError as exc:
        return _refused(exc, reservation)
    return _confirm_page(quote)


@bp.post("/<number>")
@login_required
def settle(number: str):
    """確定: bind a settlement to the booking as shown (its version), once per form."""
    form = ConfirmForm()
    if not form.validate():
        return _confirm_again(
            number,
            ErrorItem(_("画面の情報が正しく送信されませんでした。内容を確認して、もう一度「確定」を押してください。")),
            400,
        )
    if not RESERVATION_NUMBER.match(number):
        return _refused(errors.NotFound())

    def open_it(session) -> str:
        settlement = open_settlement(
            session, resident_id=current_user.id, number=number, expected_version=form.version.data, now=now()
        )
        return url_for("payment.terms", settlement_id=settlement.id)

    try:
        return redirect(run_once(form.form_token.data, current_user.id, open_it), code=303)
    except MalformedToken:
        return _confirm_again(
            number,
            ErrorItem(_("画面の情報が正しく送信されませんでした。内容を確認して、もう一度「確定」を押してください。")),
            400,
        )
    except errors.StaleBooking as exc:
        return _confirm_again(number, domain_error_item(exc), 409)
    except errors.NotFound as exc:
        return _refused(exc)
    except errors.DomainError as exc:
        return _refused(exc, _own_reservation(number))


# -- 注意事項 -----------------------------------------------------------------------------


@bp.get("/settlements/<int:settlement_id>/terms")
@login_required
def terms(settlement_id: int):
    """クレジット決済 注意事項 (guide L1278-L1302)."""
    try:
        settlement = load_own_settlement(read_session(), current_user.id, settlement_id)
    except errors.NotFound as exc:
        return _refused(exc)
    if settlement.status not in (SettlementStatus.QUOTED, SettlementStatus.PAYING):
        return redirect(url_for("payment.result", settlement_id=settlement.id), code=303)
    if (
        settlement.status is SettlementStatus.QUOTED
        and settlement.reservation.version != settlement.reservation_version
    ):
        return _refused(errors.StaleBooking(), settlement.reservation)
    return _terms_page(settlement, TermsForm())


@bp.post("/settlements/<int:settlement_id>/terms")
@login_required
def start(settlement_id: int):
    """次へ進む: open the card company's page (or, for a void only, complete at once).
    Pressed twice, the same 収納番号 and the same card page."""
    form = TermsForm()
    try:
        settlement = load_own_settlement(read_session(), current_user.id, settlement_id)
    except errors.NotFound as exc:
        return _refused(exc)
    if settlement.status not in (SettlementStatus.QUOTED, SettlementStatus.PAYING):
        return redirect(url_for("payment.result", settlement_id=settlement.id), code=303)
    if not form.validate():
        return _terms_page(settlement, form, errors=form_errors(form))

    try:
        page = open_card_page(
            request_database(),
            provider_client(current_app.config),
            resident_id=current_user.id,
            settlement_id=settlement_id,
            urls=_provider_urls(),
            locale=g.locale,
            call_centre=_call_centres(),
            now=now(),
        )
    except errors.StaleBooking as exc:
        reservation = read_session().get(Reservation, settlement.reservation_id)
        return _refused(_reason_of_change(exc, reservation), reservation)
    except errors.NotFound as exc:
        return _refused(exc)
    except CardPageNotOpened as exc:
        current_app.logger.warning("card company refused or unreachable for %s: %s", exc.receipt_number, exc.__cause__)
        settlement = load_own_settlement(read_session(), current_user.id, exc.settlement_id)
        problem = ErrorItem(
            _(
                "カード会社のお支払い画面を開けませんでした。決済は行われていません。時間をおいて、もう一度「次へ進む」を押してください。"
            ),
        )
        return _terms_page(settlement, form, errors=[problem], status=503)
    if isinstance(page, CardPage):
        return redirect(page.payment_url, code=303)
    return redirect(url_for("payment.result", settlement_id=page.settlement_id), code=303)  # a void only: complete


# -- the card company calls back ----------------------------------------------------------


@bp.get("/return")
@login_required
def return_from_provider():
    """The browser back from the card page with the session id only: ask the card company
    what happened, record it, show the result."""
    session_id = request.args.get("session_id", "")
    if not is_session_id(session_id):
        return _return_problem(status=400)  # not even the shape of a session id
    try:
        recorded = apply_return(
            request_database(),
            provider_client(current_app.config),
            session_id=session_id,
            resident_id=current_user.id,
            call_centre=_call_centres(),
            now=now(),
        )
    except errors.NotFound:  # unknown, someone else's, or not a card page we opened
        return _return_problem()
    except ProviderUnavailable as exc:
        current_app.logger.warning("card company unreachable on return %s: %s", session_id, exc)
        return _return_problem(unavailable=True, retry_url=request.full_path)
    return redirect(url_for("payment.result", settlement_id=recorded.settlement_id), code=303)


@bp.post("/notify")
@csrf.exempt
def notify():
    """The card company's signed notification (payment_standin/README.md): applied like the
    return, idempotently; 200 for a duplicate too, so that it stops resending."""
    try:
        document = read_notification(
            current_app.config["PAYMENT_PROVIDER_SECRET"],
            request_target(request.url),
            request.get_data(cache=True),
            request.headers,
        )
    except BadSignature:
        return jsonify(error="bad_signature"), 401
    except MalformedNotification:
        return jsonify(error="invalid_request"), 400
    try:
        apply_notification(request_database(), document, call_centre=_call_centres(), now=now())
    except errors.UnknownCardSession:
        return jsonify(ok=True, known=False), 200
    return jsonify(ok=True, known=True), 200


# -- 完了 and the other endings -------------------------------------------------------------


@bp.get("/settlements/<int:settlement_id>")
@login_required
def result(settlement_id: int):
    """クレジット決済 完了 (guide L190-L204, L683-L703), or what happened instead."""
    try:
        settlement = load_own_settlement(read_session(), current_user.id, settlement_id)
    except errors.NotFound as exc:
        return _refused(exc)
    if settlement.status is SettlementStatus.QUOTED:
        return redirect(url_for("payment.terms", settlement_id=settlement.id), code=303)
    templates = {
        SettlementStatus.COMPLETED: ("payment/complete.html", FLOW.labels[RESULT_STEP]),
        SettlementStatus.ABANDONED: ("payment/abandoned.html", _l("クレジット決済は行われませんでした")),
        SettlementStatus.SUPERSEDED: (
            "payment/superseded.html",
            _l("予約の内容が変更されたため、クレジット決済を取り消します"),
        ),
        SettlementStatus.PAYING: ("payment/checking.html", _l("決済の結果を確認しています")),
    }
    template, title = templates[settlement.status]
    if settlement.outcome == SLOT_STARTED:
        title = _l("利用開始時刻を過ぎたため、クレジット決済を取り消します")
    charge = settlement.new_charge
    return render_page(
        template,
        title=str(title),
        **_breadcrumb(RESULT_STEP),
        settlement=settlement,
        reservation=settlement.reservation,
        charge=charge,
        voided=settlement.void_charge,
        check_url=(
            url_for("payment.return_from_provider", session_id=charge.provider_session_id)
            if charge is not None and charge.provider_session_id
            else url_for("payment.result", settlement_id=settlement.id)
        ),
    )


# -- helpers ------------------------------------------------------------------------------


def _reason_of_change(stale: errors.StaleBooking, reservation: Reservation) -> errors.DomainError:
    """Why a settlement opened on 確認 no longer holds: the rule that now refuses the
    booking (deadline passed, paid at the counter meanwhile …), or simply that it changed."""
    try:
        quote_settlement(reservation, now())
    except errors.DomainError as exc:
        return exc
    return stale


def _own_reservation(number: str) -> Reservation:
    if not RESERVATION_NUMBER.match(number or ""):
        raise errors.NotFound()
    return load_own_reservation(read_session(), current_user.id, number)


def _provider_urls() -> ProviderUrls:
    """Return and notify URLs as the card company reaches us (PUBLIC_BASE_URL)."""
    base = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
    return ProviderUrls(
        return_url=base + url_for("payment.return_from_provider"), notify_url=base + url_for("payment.notify")
    )


def _call_centres() -> CallCentres:
    """The call centre in the mails, in each resident's mail language."""
    return partial(call_centre_for, current_app.config)


def _breadcrumb(current: int) -> dict:
    return FLOW.breadcrumb(current, {0: url_for("mymenu.index"), 1: url_for("payment.select")})


def _confirm_page(quote: SettlementQuote, *, problems: list[ErrorItem] | None = None, status: int | None = None):
    # Never the posted values: a page shown again carries the booking as it is now and a
    # fresh token.
    form = ConfirmForm(formdata=None, version=quote.reservation.version, form_token=issue_token())
    # A card page already open for this booking (another tab): say so, with the way back.
    open_card = next((s for s in quote.reservation.settlements if s.status is SettlementStatus.PAYING), None)
    return render_page(
        "payment/confirm.html",
        open_card=open_card,
        title=FLOW.label(CONFIRM_STEP),
        errors=problems or [],
        status=status,
        **_breadcrumb(CONFIRM_STEP),
        quote=quote,
        reservation=quote.reservation,
        form=form,
    )


def _confirm_again(number: str, problem: ErrorItem, status: int):
    """確認 once more, as the booking is now, with what went wrong and a fresh token."""
    try:
        reservation = _own_reservation(number)
    except errors.NotFound as exc:
        return _refused(exc)
    try:
        quote = quote_settlement(reservation, now())
    except errors.DomainError as exc:
        return _refused(exc, reservation)
    return _confirm_page(quote, problems=[problem], status=status)


def _terms_page(
    settlement: Settlement, form: TermsForm, *, errors: list[ErrorItem] | None = None, status: int | None = None
):
    return render_page(
        "payment/terms.html",
        title=FLOW.label(TERMS_STEP),
        errors=errors or [],
        status=status,
        **_breadcrumb(TERMS_STEP),
        settlement=settlement,
        reservation=settlement.reservation,
        form=form,
        void_only=settlement.charge_yen == 0,
    )


REFUSAL_STATUS = {errors.NotFound: 404}


def _refused(exc: errors.DomainError, reservation: Reservation | None = None):
    """This booking cannot be settled now: why, whom to call when only the facility can
    help, and the way back to 選択. Nothing has changed."""
    words = {}
    if isinstance(exc, errors.PaymentWindowClosed):
        words["deadline"] = list_date(exc.facts["deadline"])
    elif isinstance(exc, errors.RefundPeriodExpired):
        words["last_day"] = list_date(exc.facts["last_day"])
    problem = domain_error_item(exc, **words)
    contact_facility = isinstance(exc, (errors.CounterPaid, errors.RefundPeriodExpired))
    return render_page(
        "payment/refused.html",
        title=FLOW.label(CONFIRM_STEP),
        error_heading=_("予約が見つかりません")
        if isinstance(exc, errors.NotFound)
        else _("この予約は今はクレジット決済できません"),
        errors=[problem],
        status=REFUSAL_STATUS.get(type(exc), 409),
        **_breadcrumb(CONFIRM_STEP),
        reservation=reservation if not isinstance(exc, errors.NotFound) else None,
        contact_facility=contact_facility,
        try_again=isinstance(exc, errors.StaleBooking) and reservation is not None,
    )


def _return_problem(*, unavailable: bool = False, retry_url: str | None = None, status: int = 404):
    """A return URL we cannot use: forged, unknown, someone else's, or the card company is
    unreachable. Nothing has changed."""
    if unavailable:
        problem = _(
            "カード会社に接続できなかったため、決済の結果を確認できませんでした。時間をおいて「結果を確認する」を押してください。"
        )
        status = 503
    else:
        problem = _(
            "決済の手続きが見つかりません。マイメニューの「クレジット決済」から、予約の状態を確認してください。"
        )
    return render_page(
        "payment/return_problem.html",
        title=_("決済の結果を確認できません"),
        error_heading=_("決済の結果を確認できません"),
        errors=[ErrorItem(problem)],
        status=status,
        retry_url=retry_url,
    )
