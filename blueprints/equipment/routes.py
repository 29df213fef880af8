"""備品（付帯品）予約 (guide ch. 5 §(2), L233-L438; DESIGN rule 10): from 予約内容の確認・取消,
(card-paid equipment: the guide's メッセージ) → 備品（付帯品）予約 → 備品（付帯品）予約確認 →
予約 → 完了. Each step is its own page; the choices travel in the URL until 予約 posts them
once. The totals follow the quantities in place with htmx, and through 再計算 without it.
A change moves no money: the list then shows 一部支払済 and クレジット決済 settles it."""

from __future__ import annotations

from urllib.parse import urlencode

from flask import Blueprint, g, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from blueprints.equipment.forms import EquipmentForm, quantity_name, time_value, units
from blueprints.equipment.operations import (
    EquipmentOffer,
    access_of,
    change_equipment,
    check_access,
    current_request,
    equipment_offers,
    equipment_sheet,
    facilities_lending,
    holds_paid_equipment,
    load_booking,
)
from models import errors
from models.equipment_rules import CompletionKind, EquipmentAccess, completion_kind_rule, lending_times_rule
from models.reservation import Reservation
from web.clock import now
from web.data import read_session
from web.errors import ErrorItem, domain_error_item, form_errors
from web.formats import clock_time
from web.rendering import render_page, wants_fragment
from web.steps import Flow
from web.tokens import MalformedToken, issue_token, run_once

bp = Blueprint("equipment", __name__, url_prefix="/equipment")

FLOW = Flow(
    (
        # guide: L358
        _l("メニュー"),
        # guide: L315
        _l("予約内容の確認・取消"),
        # guide: L360
        _l("備品（付帯品）予約"),
        # guide: L400
        _l("備品（付帯品）予約確認"),
        # guide: L418
        _l("備品（付帯品）予約の完了"),
    ),
    numbered_from=2,
)
EDIT_STEP, CONFIRM_STEP, DONE_STEP = 2, 3, 4

# Why a booking's equipment cannot be changed, in a few words for the list's 備品 cell.
OFFER_REASONS = {
    EquipmentAccess.CANCELLED: _l("取消済のため変更できません"),
    EquipmentAccess.NOT_ACTIVE: _l("この状態では変更できません"),
    # guide: L240
    EquipmentAccess.COUNTER_ONLY: _l("施設窓口にてお申込ください"),
    EquipmentAccess.NO_ITEMS: _l("予約できる備品はありません"),
    EquipmentAccess.COUNTER_PAID: _l("窓口でのお支払いがあるため、利用施設へご連絡ください"),
    EquipmentAccess.STARTED: _l("利用開始時刻を過ぎたため変更できません"),
}
NOT_SENT = _l("画面の情報が正しく送信されませんでした。内容を確認して、もう一度「予約」を押してください。")


# -- the 備品 cell of 予約内容の確認・取消 and 詳細 ---------------------------------------------


@bp.app_template_global("equipment_offer")
def equipment_offer(reservation: Reservation) -> EquipmentOffer:
    """For マイメニュー's list and 詳細: the way to change this booking's equipment, or why
    there is none. The first call of a request reads, in one query, what every facility
    lends; the rows themselves are already loaded. The operation checks again on 予約."""
    return equipment_offers(_lending(), [reservation], now())[reservation.id]


@bp.app_template_global("equipment_offers_of")
def equipment_offers_of(reservations: list[Reservation]) -> dict[int, EquipmentOffer]:
    """`equipment_offer` of every row of a list at once (by booking id), at one moment: what
    the rows' 備品 cells show, without a call per row (issue 12)."""
    return equipment_offers(_lending(), reservations, now())


def _lending() -> dict[int, tuple[bool, bool]]:
    """What every facility lends, read once a request."""
    lending = g.get("equipment_lending")
    if lending is None:
        lending = g.equipment_lending = facilities_lending(read_session())
    return lending


bp.add_app_template_filter(units, "units")


@bp.app_template_global("equipment_offer_url")
def equipment_offer_url(reservation: Reservation, offer: EquipmentOffer) -> str:
    endpoint = "equipment.notice" if offer.paid_equipment else "equipment.edit"
    return url_for(endpoint, number=reservation.number)


@bp.app_template_global("equipment_offer_reason")
def equipment_offer_reason(offer: EquipmentOffer) -> str:
    return str(OFFER_REASONS[offer.access])


# -- メッセージ: the booking holds card-paid equipment -------------------------------------------


@bp.get("/<number>/notice")
@login_required
def notice(number: str):
    """The guide's message before the equipment of a card-paid booking (L345-L351), as a
    page of its own: はい goes on to 備品（付帯品）予約."""
    try:
        reservation = _own_booking(number)
        check_access(reservation, now())
    except errors.DomainError as exc:
        return _refused(exc, _booking_or_none(number))
    if not holds_paid_equipment(reservation):
        return redirect(url_for("equipment.edit", number=number), code=303)
    return render_page(
        "equipment/notice.html",
        # guide: L347
        title=_("メッセージ"),
        **_breadcrumb(EDIT_STEP),
        reservation=reservation,
    )


# -- 備品（付帯品）予約 ----------------------------------------------------------------------------


@bp.get("/<number>")
@login_required
def edit(number: str):
    """備品（付帯品）予約 (guide L353-L391): the items with price, quantity (n / what is free)
    and subtotal, the lending time and 合計. 再計算 sends the form here again; with htmx a
    change of any field asks only for the totals (the fragment)."""
    try:
        reservation = _own_booking(number)
        check_access(reservation, now())
    except errors.DomainError as exc:
        return _refused(exc, _booking_or_none(number))
    if not _submitted(request.args):
        return _edit_page(reservation, None)
    form = _form(reservation, request.args)
    if not wants_fragment() and _is_stale(form, reservation):
        return _edit_page(reservation, None, problems=[domain_error_item(errors.StaleBooking())], status=409)
    _check(form, reservation)
    if not form.version.raw_data:
        form.version.data = reservation.version  # an address typed without it: the booking as shown
    return _edit_page(reservation, form)


# -- 備品（付帯品）予約確認 ------------------------------------------------------------------------


@bp.get("/<number>/confirm")
@login_required
def confirm(number: str):
    """備品（付帯品）予約確認 (guide L393-L412): only the items with a quantity, 合計, 予約."""
    try:
        reservation = _own_booking(number)
        check_access(reservation, now())
    except errors.DomainError as exc:
        return _refused(exc, _booking_or_none(number))
    form = _form(reservation, request.args)
    if _is_stale(form, reservation) or form.version.data is None:
        return _edit_page(reservation, None, problems=[domain_error_item(errors.StaleBooking())], status=409)
    if not _check(form, reservation):
        return _edit_page(reservation, form)
    return _confirm_page(reservation, form)


@bp.post("/<number>")
@login_required
def submit(number: str):
    """予約: replace the booking's equipment once; a second submit shows the first result."""
    try:
        reservation = _own_booking(number)
    except errors.NotFound as exc:
        return _refused(exc)
    form = _form(reservation, request.form, csrf=True)
    if not form.validate() or form.version.data is None:
        problems = form_errors(form) or [ErrorItem(str(NOT_SENT))]
        return _edit_page(reservation, form, problems=problems, status=422)
    equipment = form.request()

    def change(session) -> str:
        change_equipment(
            session,
            resident_id=current_user.id,
            number=number,
            request=equipment,
            expected_version=form.version.data,
            now=now(),
        )
        return url_for("equipment.done", number=number)

    try:
        return redirect(run_once(form.form_token.data, current_user.id, change), code=303)
    except MalformedToken:
        return _confirm_page(reservation, form, problems=[ErrorItem(str(NOT_SENT))], status=400)
    except errors.StaleBooking:
        read_session().rollback()  # the write failed: read what is there now
        fresh = _own_booking(number)
        try:
            check_access(fresh, now())
        except errors.DomainError as exc:
            return _refused(exc, fresh)
        return _edit_page(fresh, None, problems=[domain_error_item(errors.StaleBooking())], status=409)
    except errors.OutOfStock:
        # Another booking was quicker: the page again, as asked, with what is free now.
        read_session().rollback()
        fresh = _own_booking(number)
        form = _form(fresh, request.form, csrf=True)
        _check(form, fresh)
        return _edit_page(fresh, form, status=409)
    except (errors.LendingTimeOutsideSlot, errors.LendingTimeReversed) as exc:
        return _edit_page(reservation, form, problems=[_lending_problem(exc, reservation)], status=422)
    except errors.DomainError as exc:
        return _refused(exc, _booking_or_none(number))


# -- 完了 ------------------------------------------------------------------------------------------


@bp.get("/<number>/done")
@login_required
def done(number: str):
    """備品（付帯品）予約の完了 (guide L414-L438): the message that follows the money (rule
    10): more due than held → pay by card; less → a refund to settle by card; else done."""
    try:
        reservation = _own_booking(number)
        # Only a booking whose equipment could have been changed has a completion; one whose
        # slot started since is still shown (a reload of the page).
        access = access_of(reservation, now())
        if access is not EquipmentAccess.STARTED:
            check_access(reservation, now())
    except errors.DomainError as exc:
        return _refused(exc, _booking_or_none(number))
    kind = completion_kind_rule(reservation.total_fee_yen, reservation.held_yen)
    return render_page(
        "equipment/done.html",
        title=FLOW.heading(DONE_STEP),
        **_breadcrumb(DONE_STEP),
        reservation=reservation,
        kind=kind.value,
        kinds={k.name: k.value for k in CompletionKind},
    )


# -- reading the request -----------------------------------------------------------------------


def _own_booking(number: str) -> Reservation:
    return load_booking(read_session(), resident_id=current_user.id, number=number)


def _booking_or_none(number: str) -> Reservation | None:
    try:
        return _own_booking(number)
    except errors.NotFound:
        return None


def _submitted(values) -> bool:
    """The form was sent (再計算, 前に戻る from 確認, htmx) rather than opened from the list."""
    return any(name in values for name in ("version", "lend_start", "lend_end")) or any(
        name.startswith("item_") for name in values
    )


def _form(reservation: Reservation, values, *, csrf: bool = False) -> EquipmentForm:
    times = lending_times_rule(reservation.starts_at, reservation.ends_at)
    return EquipmentForm.for_booking(reservation, times, formdata=values, csrf=csrf)


def _check(form: EquipmentForm, reservation: Reservation) -> bool:
    """Validate the form, then each quantity against what is free for its lending time."""
    valid = form.validate()
    sheet = equipment_sheet(read_session(), reservation, form.request())
    fits = form.check_stock({line.item.id: line.available for line in sheet.lines})
    return valid and fits


def _is_stale(form: EquipmentForm, reservation: Reservation) -> bool:
    """The page was shown for an earlier version of the booking (changed in another tab)."""
    version = form.version.raw_data[0] if form.version.raw_data else None
    if version is None:
        return False
    return version != str(reservation.version)


def _lending_problem(exc: errors.DomainError, reservation: Reservation) -> ErrorItem:
    return domain_error_item(
        exc,
        "lend_start",
        starts_at=clock_time(reservation.starts_at),
        ends_at=clock_time(reservation.ends_at),
    )


# -- rendering ---------------------------------------------------------------------------------


def _breadcrumb(current: int) -> dict:
    return FLOW.breadcrumb(current, {0: url_for("mymenu.index"), 1: url_for("mymenu.reservations")})


def _edit_page(
    reservation: Reservation,
    form: EquipmentForm | None,
    *,
    problems: list[ErrorItem] | None = None,
    status: int | None = None,
):
    """備品（付帯品）予約 for the booking: as it stands (`form` None) or as the form asks."""
    session = read_session()
    if form is None:
        sheet = equipment_sheet(session, reservation, None)
        form = EquipmentForm.for_booking(reservation, sheet.lending_times, data=current_request(reservation))
    else:
        sheet = equipment_sheet(session, reservation, form.request())
    problems = (problems or []) + form_errors(form)
    return render_page(
        "equipment/edit.html",
        fragment="equipment/_totals.html",
        title=FLOW.heading(EDIT_STEP),
        errors=problems,
        status=status,
        **_breadcrumb(EDIT_STEP),
        reservation=reservation,
        sheet=sheet,
        form=form,
    )


def _confirm_page(
    reservation: Reservation, form: EquipmentForm, *, problems: list[ErrorItem] | None = None, status: int | None = None
):
    sheet = equipment_sheet(read_session(), reservation, form.request())
    request_ = form.request()
    hidden = [(quantity_name(line.item), str(line.quantity)) for line in sheet.lines]
    hidden += [
        ("lend_start", time_value(request_.lend_starts)),
        ("lend_end", time_value(request_.lend_ends)),
        ("version", str(form.version.data)),
    ]
    back_url = url_for("equipment.edit", number=reservation.number) + "?" + urlencode(hidden)
    return render_page(
        "equipment/confirm.html",
        title=FLOW.heading(CONFIRM_STEP),
        errors=problems or [],
        status=status,
        **_breadcrumb(CONFIRM_STEP),
        reservation=reservation,
        sheet=sheet,
        hidden=hidden,
        back_url=back_url,
        form_token=issue_token(),
    )


REFUSAL_STATUS = {errors.NotFound: 404}


def _refused(exc: errors.DomainError, reservation: Reservation | None = None):
    """This booking's equipment cannot be changed: why, whom to call when only the
    facility can help, and the way back to the list. Nothing has changed."""
    if isinstance(exc, errors.NotFound):
        problem = ErrorItem(
            _("指定された予約は見つかりません。予約内容の確認・取消の一覧から、もう一度選択してください。")
        )
        reservation = None
    else:
        problem = domain_error_item(exc)
    contact = isinstance(exc, (errors.CounterPaid, errors.EquipmentAtCounterOnly))
    return render_page(
        "equipment/refused.html",
        title=FLOW.heading(EDIT_STEP),
        error_heading=_("予約が見つかりません")
        if reservation is None
        else _("この予約の備品（付帯品）は変更できません"),
        errors=[problem],
        status=REFUSAL_STATUS.get(type(exc), 409),
        **_breadcrumb(EDIT_STEP),
        reservation=reservation,
        contact_facility=contact and reservation is not None,
    )
