"""予約の取消 (guide ch. 5 §(3), L899-L1051): 予約内容の確認・取消 → (card-paid: 確認 and
メッセージ) → 予約の取消 確認 → 取消 → 予約の取消 完了. Every step is its own page and the
selection travels in the URL (?number=…), so the whole procedure works without JavaScript.
Cancelling moves no money, so it works in every profile and presentation; the refund is
settled afterwards through クレジット決済 (standard mode, or the resident's own phone)."""

from __future__ import annotations

from flask import Blueprint, g, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import select

from blueprints.cancel.forms import CancelForm, MalformedBookings, parse_bookings
from blueprints.cancel.operations import (
    CancelSelection,
    cancel_reservations,
    cancelled_lines,
    parse_numbers,
    select_for_cancel,
)
from models import errors
from models.facility import Facility, Room
from models.refund_rules import bands_from
from models.reservation import Reservation
from web.clock import now
from web.data import read_session
from web.errors import ErrorItem, domain_error_item, form_errors
from web.formats import localized
from web.rendering import render_page
from web.steps import Flow
from web.tokens import MalformedToken, issue_token, run_once

bp = Blueprint("cancel", __name__, url_prefix="/cancel")

# The guide's breadcrumb (L947): メニュー > 予約確認 > 予約取消確認 > 予約取消完了.
FLOW = Flow(
    (
        # guide: L947
        _l("メニュー"),
        # guide: L947
        _l("予約確認"),
        # guide: L947
        _l("予約取消確認"),
        # guide: L947
        _l("予約取消完了"),
    )
)
LIST_STEP, CONFIRM_STEP, DONE_STEP = 1, 2, 3

# What each refusal says about one booking (rule 11); the counter-paid one adds the
# facility's contact (rule 6).
REFUSALS = {
    errors.AlreadyCancelled: _l("予約番号 %(number)s は、すでに取消済です。"),
    errors.CancellationClosed: _l("予約番号 %(number)s は、利用開始時刻を過ぎているため取消できません。"),
    errors.CounterPaid: _l(
        "予約番号 %(number)s は窓口でのお支払いがあるため、オンラインでは取消できません。利用施設（%(contact)s %(phone)s）までご連絡ください。"
    ),
    errors.InvalidTransition: _l("予約番号 %(number)s は、現在の状態では取消できません。"),
}
EMPTY_SELECTION = _l("取消する予約の「取消」を選択してから、「次へ進む」を押してください。")
NOT_FOUND = _l("選択された予約が見つかりません。予約内容の確認・取消の一覧から、もう一度選択してください。")
# guide: L960
REASON_REQUIRED = _l("本予約を取消する場合、取消事由を入力してください。")
AGREE_REQUIRED = _l("注意事項を確認し、内容に同意する場合は「同意します」を選択してください。")
NOT_SENT = _l("画面の情報が正しく送信されませんでした。内容を確認して、もう一度「取消」を押してください。")
STALE = _l("予約の内容が変更されています。最新の内容を確認して、もう一度操作してください。")


# -- 次へ進む on 予約内容の確認・取消 ------------------------------------------------------------


@bp.get("/")
@login_required
def start():
    """次へ進む (guide L899-L919): the ticked bookings, all cancellable or none; card-paid
    ones go through the guide's two confirmations first (L921-L936)."""
    selection, refused = _selection()
    if refused is not None:
        return refused
    if selection.holds_paid:
        return redirect(url_for("cancel.card_paid", number=selection.numbers), code=303)
    return redirect(url_for("cancel.confirm", number=selection.numbers), code=303)


@bp.get("/card-paid")
@login_required
def card_paid():
    """確認 (guide L923-L927): 対象の予約はクレジットにてお支払い済です。 はい / いいえ."""
    selection, refused = _selection()
    if refused is not None:
        return refused
    return render_page(
        "cancel/card_paid.html",
        title=FLOW.heading(CONFIRM_STEP, _("確認（予約の取消）")),
        **_breadcrumb(CONFIRM_STEP),
        selection=selection,
        yes_url=url_for("cancel.refund_note", number=selection.numbers),
        no_url=url_for("mymenu.reservations"),
    )


@bp.get("/refund-note")
@login_required
def refund_note():
    """メッセージ (guide L932-L936): the (※) bookings are refunded from クレジット決済. はい."""
    selection, refused = _selection()
    if refused is not None:
        return refused
    return render_page(
        "cancel/refund_note.html",
        title=FLOW.heading(CONFIRM_STEP, _("メッセージ（予約の取消）")),
        **_breadcrumb(CONFIRM_STEP),
        selection=selection,
        yes_url=url_for("cancel.confirm", number=selection.numbers),
    )


# -- 予約の取消 確認 -------------------------------------------------------------------------------


@bp.get("/confirm")
@login_required
def confirm():
    """予約の取消 確認 (guide L938-L1001)."""
    selection, refused = _selection()
    if refused is not None:
        return refused
    return _confirm_page(selection, CancelForm(formdata=None, form_token=issue_token()))


@bp.post("/confirm")
@login_required
def cancel():
    """取消: all or nothing, once per form (a second submit shows the first result)."""
    form = CancelForm()
    try:
        shown = parse_bookings(request.form.getlist("booking"))
    except MalformedBookings:
        return _refused([ErrorItem(str(NOT_SENT))], status=400)
    numbers = list(shown)
    if not form.validate() and form.csrf_token.errors:
        return _refused([ErrorItem(str(NOT_SENT))], status=400)
    try:
        selection = select_for_cancel(read_session(), resident_id=current_user.id, numbers=numbers, now=now())
    except (errors.CancellationRefused, errors.NotFound):
        # Perhaps this very form was sent before (its token then leads to the first result);
        # if not, the operation refuses again below and the page says why.
        selection = None
    if selection is not None:
        problems = _form_problems(form, selection)
        if problems:
            return _confirm_page(selection, form, problems=problems, keep_token=True)

    def cancel_them(session) -> str:
        done = cancel_reservations(
            session,
            resident_id=current_user.id,
            versions={number: booking.version for number, booking in shown.items()},
            shown_percents={number: booking.refund_percent for number, booking in shown.items()},
            reason=form.reason.data,
            agreed=bool(form.agree.data),
            now=now(),
        )
        return url_for("cancel.done", number=done.numbers)

    try:
        return redirect(run_once(form.form_token.data, current_user.id, cancel_them), code=303)
    except MalformedToken:
        return _confirm_again(numbers, form, ErrorItem(str(NOT_SENT)), status=400)
    except errors.StaleBooking:
        return _confirm_again(numbers, form, ErrorItem(str(STALE)))
    except errors.RefundRateChanged as exc:
        return _confirm_again(numbers, form, domain_error_item(exc))
    except errors.CancelReasonRequired:  # the batch changed since the page was checked
        return _confirm_again(numbers, form, ErrorItem(str(REASON_REQUIRED), "reason"), status=422)
    except errors.TermsNotAgreed:
        return _confirm_again(numbers, form, ErrorItem(str(AGREE_REQUIRED), "agree"), status=422)
    except (errors.CancellationRefused, errors.NotFound, errors.EmptySelection) as exc:
        return _refused(_problems(exc), status=_refusal_status(exc))


# -- 予約の取消 完了 -------------------------------------------------------------------------------


@bp.get("/done")
@login_required
def done():
    """予約の取消 完了 (guide L1003-L1051)."""
    try:
        numbers = parse_numbers(request.args.getlist("number"))
        lines = cancelled_lines(read_session(), resident_id=current_user.id, numbers=numbers, now=now())
    except (errors.NotFound, errors.EmptySelection) as exc:
        return _refused(_problems(exc), status=_refusal_status(exc))
    reasons = list(dict.fromkeys(line.reservation.cancel_reason for line in lines if line.reservation.cancel_reason))
    return render_page(
        "cancel/done.html",
        # guide: L1020
        title=FLOW.heading(DONE_STEP, _("予約の取消 完了")),
        **_breadcrumb(DONE_STEP),
        lines=lines,
        reasons=reasons,
        any_refund_due=any(line.refund_due for line in lines),
        void_last_day=min(
            (
                line.void_last_day
                for line in lines
                if line.refund_due and line.void_last_day and not line.void_period_over
            ),
            default=None,
        ),
        settle_here=g.channel.may_pay,
    )


# -- helpers ---------------------------------------------------------------------------------------


def _form_problems(form: CancelForm, selection: CancelSelection) -> list[ErrorItem]:
    """What 取消 needs before it runs: the form as sent (CSRF, 取消事由's length), 取消事由
    when the batch holds a 本予約, 同意します when it holds a paid booking."""
    problems = [item for item in form_errors(form) if item.field_id != "csrf_token"]
    if selection.reason_required and not form.reason.data:
        problems.append(ErrorItem(str(REASON_REQUIRED), "reason"))
    if selection.holds_paid and not form.agree.data:
        problems.append(ErrorItem(str(AGREE_REQUIRED), "agree"))
    return problems


def _selection() -> tuple[CancelSelection | None, object | None]:
    """The bookings named in the URL, or the page that says why they cannot be cancelled."""
    try:
        numbers = parse_numbers(request.args.getlist("number"))
        return select_for_cancel(read_session(), resident_id=current_user.id, numbers=numbers, now=now()), None
    except (errors.CancellationRefused, errors.NotFound, errors.EmptySelection) as exc:
        return None, _refused(_problems(exc), status=_refusal_status(exc))


def _refusal_status(exc: errors.DomainError) -> int:
    if isinstance(exc, errors.NotFound):
        return 404
    if isinstance(exc, errors.EmptySelection):
        return 422
    return 409


def _problems(exc: errors.DomainError) -> list[ErrorItem]:
    if isinstance(exc, errors.EmptySelection):
        return [ErrorItem(str(EMPTY_SELECTION))]
    if isinstance(exc, errors.NotFound):
        return [ErrorItem(str(NOT_FOUND))]
    items = []
    for number, problem in exc.facts["problems"]:
        facts = {"number": number}
        if isinstance(problem, errors.CounterPaid):
            facility = read_session().scalar(_facility_of(number))
            facts.update(contact=localized(facility, "contact_name"), phone=facility.phone)
        message = REFUSALS.get(type(problem), REFUSALS[errors.InvalidTransition])
        items.append(ErrorItem(str(message) % facts))
    return items


def _facility_of(number: str):
    return (
        select(Facility)
        .join(Room, Room.facility_id == Facility.id)
        .join(Reservation, Reservation.room_id == Room.id)
        .where(Reservation.number == number, Reservation.resident_id == current_user.id)
    )


def _breadcrumb(current: int) -> dict:
    return FLOW.breadcrumb(current, {0: url_for("mymenu.index"), 1: url_for("mymenu.reservations")})


def _confirm_page(selection: CancelSelection, form: CancelForm, *, problems=None, status=None, keep_token=False):
    if not keep_token:
        form.form_token.data = issue_token()
    return render_page(
        "cancel/confirm.html",
        # guide: L949
        title=FLOW.heading(CONFIRM_STEP, _("予約の取消 確認")),
        errors=problems or [],
        status=status,
        **_breadcrumb(CONFIRM_STEP),
        selection=selection,
        form=form,
        bands_of=lambda facility: bands_from(facility.category.refund_bands),
        list_url=url_for("mymenu.reservations"),
    )


def _confirm_again(numbers: list[str], form: CancelForm, problem: ErrorItem, status: int = 409):
    """確認 once more, with the bookings as they are now and a fresh token; what the
    resident typed stays."""
    read_session().expire_all()
    try:
        selection = select_for_cancel(read_session(), resident_id=current_user.id, numbers=numbers, now=now())
    except (errors.CancellationRefused, errors.NotFound) as exc:
        return _refused([problem, *_problems(exc)], status=status)
    return _confirm_page(selection, form, problems=[problem], status=status)


def _refused(problems: list[ErrorItem], status: int | None = None):
    """Nothing can be cancelled as selected: why, and the way back to the list."""
    return render_page(
        "cancel/refused.html",
        title=FLOW.heading(CONFIRM_STEP, _("予約の取消")),
        error_heading=_("選択した予約は取消できません"),
        errors=problems,
        status=status or 409,
        **_breadcrumb(CONFIRM_STEP),
        list_url=url_for("mymenu.reservations"),
    )
