"""抽選申込 (DESIGN "Lottery"): 時間帯別空き状況 → 詳細申請 → 抽選申込確認 → 抽選申込完了, and
マイメニュー's 抽選申込の確認・取消 with 取下げ (one or several, with a confirmation step). The
rules are lottery/entries.py's; this area reads the request and puts the answers into words.
Applying and withdrawing move no money, so they work in every channel."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, abort, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from bookings.answers import AnswerForms
from bookings.choosing import (
    SelectionRefused,
    availability_url,
    chosen_slots,
    confirm_context,
    selection_refusal,
    slot_in_words,
    slots_url,
)
from bookings.conditions import ListConditions
from bookings.forms import PeriodFilterForm, conditions_given, state_field
from lottery.entries import (
    ENTRY_STATES,
    EntryConditions,
    EntryProblem,
    EntrySelection,
    enter_lottery,
    list_entries,
    load_lottery_application,
    parse_public_ids,
    prepare_entries,
    quote_entry_fees,
    select_for_withdrawal,
    withdraw_entries,
)
from lottery.schedule import open_lottery_rooms
from models import errors
from models.deadline_rules import payment_deadline_day
from models.facility import Facility, Room
from models.lottery_rules import check_caps_rule
from models.reservation_rules import UNPAID_STATES, ReservationState
from models.time_rules import jst_day
from web import clock
from web.data import read_session
from web.errors import ErrorItem, domain_error_item, form_errors
from web.formats import header_date, list_date, moment, use_month
from web.rendering import render_page
from web.steps import MENU, STEPS, Flow
from web.tokens import MalformedToken, issue_token, run_once

bp = Blueprint("lottery", __name__)

# The search steps, then the lottery's own: 詳細申請 > 抽選申込確認 > 抽選申込完了.
FLOW = Flow(
    (
        MENU,
        *(label for key, label in STEPS if key in ("search", "availability", "slots", "details")),
        _l("抽選申込確認"),
        _l("抽選申込完了"),
    )
)
SEARCH_STEP, AVAILABILITY_STEP, SLOTS_STEP, DETAILS_STEP, CONFIRM_STEP, DONE_STEP = 1, 2, 3, 4, 5, 6

# 抽選申込の確認・取消: the list, 取下げ確認, 取下げ完了.
LIST_FLOW = Flow((MENU, _l("抽選申込確認"), _l("取下げ確認"), _l("取下げ完了")))
LIST_STEP, WITHDRAW_STEP, WITHDRAWN_STEP = 1, 2, 3

SLOT_REFUSALS = {
    EntryProblem.NOT_BOOKABLE: errors.SlotNotBookable,
    EntryProblem.TAKEN: errors.SlotTaken,
    EntryProblem.REBOOKING_BLOCKED: errors.RebookingBlocked,
    EntryProblem.ALREADY_ENTERED: errors.AlreadyEntered,
    EntryProblem.NOT_LOTTERY: errors.NotLotterySlot,
}

NOT_FOUND = _l("選択された抽選申込が見つかりません。抽選申込の確認・取消の一覧から、もう一度選択してください。")
EMPTY_WITHDRAWAL = _l("取下げる抽選申込の「取下げる」を選択してから、「次へ進む」を押してください。")
NOT_SENT = _l("画面の情報が正しく送信されませんでした。内容を確認して、もう一度操作してください。")


# -- 詳細申請 → 抽選申込確認 → 抽選申込 ---------------------------------------------------------


@bp.get("/lottery/details")
@login_required
def details():
    """詳細申請 of 抽選申込: the chosen slots with their entries so far and, per room, 利用目的,
    利用人数, 参加費等の有無."""
    try:
        selection = _selection(request.args)
    except (SelectionRefused, errors.DomainError) as exc:
        return _refused(exc)
    answers = AnswerForms(selection, request.args, validate=False)
    return _details_page(selection, answers, problems=_selection_problems(selection))


@bp.get("/lottery/confirm")
@login_required
def confirm():
    """抽選申込確認: the answers with a 変更 link each, the fee of each slot if it is won, the
    result date."""
    try:
        selection = _selection(request.args)
    except (SelectionRefused, errors.DomainError) as exc:
        return _refused(exc)
    answers = AnswerForms(selection, request.args)
    problems = _selection_problems(selection)
    if not answers.valid:
        return _details_page(selection, answers, problems=problems + answers.errors)
    return _confirm_page(selection, answers, problems=problems)


@bp.post("/lottery")
@login_required
def submit():
    """抽選申込: one application (抽選申込番号), all or nothing, once per form."""
    try:
        selection = _selection(request.form)
    except (SelectionRefused, errors.DomainError) as exc:
        return _refused(exc)
    answers = AnswerForms(selection, request.form, rooms=selection.chosen_rooms)
    if not answers.valid:
        return _details_page(selection, answers, problems=_selection_problems(selection) + answers.errors)

    def enter(session) -> str:
        application = enter_lottery(
            session,
            resident_id=current_user.id,
            slots=[line.slot for line in selection.chosen],
            answers=answers.by_room,
            group_class_id=answers.group_class_id,
            now=clock.now(),
        )
        return url_for("lottery.complete", lottery_application_id=application.id)

    try:
        return redirect(run_once(request.form.get("form_token"), current_user.id, enter), code=303)
    except MalformedToken:
        return _confirm_page(
            selection,
            AnswerForms(selection, request.form),
            problems=_selection_problems(selection) + [ErrorItem(str(NOT_SENT))],
            status=400,
        )
    except errors.DomainError as exc:
        # Nothing was entered: say which rule refused, and show what can still be entered.
        problem = _domain_problem(exc, selection)
        if not selection.lines:
            return _refused(exc)
        return _confirm_page(
            selection, AnswerForms(selection, request.form), problems=[problem], status=_status_of(exc)
        )


@bp.get("/lottery/complete/<int:lottery_application_id>")
@login_required
def complete(lottery_application_id: int):
    """抽選申込完了: the 抽選申込番号, the entries and the date of the result."""
    try:
        applied = load_lottery_application(read_session(), lottery_application_id, resident_id=current_user.id)
    except errors.NotFound:
        abort(404)
    return render_page(
        "lottery/complete.html",
        title=FLOW.heading(DONE_STEP),
        **_breadcrumb(DONE_STEP),
        applied=applied,
    )


# -- reading the request ----------------------------------------------------------------


def _selection(values: MultiDict) -> EntrySelection:
    slots = chosen_slots(
        values,
        none_chosen=_("時間帯が選択されていません。時間帯別空き状況から、抽選に申込む時間帯を選択してください。"),
    )
    return prepare_entries(read_session(), slots, resident_id=current_user.id, now=clock.now())


def _selection_problems(selection: EntrySelection) -> list[ErrorItem]:
    """Why each refused slot cannot be entered (the rule, naming the slots), then the caps."""
    items = []
    for problem in EntryProblem:
        lines = selection.refused.get(problem)
        if not lines:
            continue
        words = _("、").join(slot_in_words(line) for line in lines)
        if problem is EntryProblem.PERIOD_CLOSED:
            month = next((line.month for line in lines if line.month), None)
            if month is not None:
                items.append(
                    domain_error_item(
                        errors.LotteryPeriodClosed(),
                        opens_at=moment(month.dates.applications_open_at),
                        closes_at=moment(month.dates.applications_close_at),
                        slots=words,
                    )
                )
                continue
            items.append(domain_error_item(errors.NotLotterySlot(), slots=words))
        elif problem is EntryProblem.NOT_ELIGIBLE:
            items.append(domain_error_item(errors.NotRegisteredGroup(), use_date=list_date(lines[0].slot.use_date)))
        else:
            items.append(domain_error_item(SLOT_REFUSALS[problem](), slots=words))
    for standing in selection.over_cap:
        wanted = sum(1 for line in selection.lines if line.month and line.month.id == standing.month.id)
        try:
            check_caps_rule(
                month=standing.month.use_month,
                caps=standing.month.caps,
                entries=standing.entries,
                active_bookings=standing.active_bookings,
                adding=wanted,
            )
        except errors.DomainError as exc:
            items.append(_domain_problem(exc, selection))
    return items


def _domain_problem(exc: errors.DomainError, selection: EntrySelection) -> ErrorItem:
    """A refusal of enter_lottery (or of the caps rule) in words."""
    facts = dict(exc.facts)
    words: dict[str, str] = {}
    lines = {line.slot: line for line in selection.chosen}
    if "slots" in facts:
        words["slots"] = _("、").join(
            slot_in_words(lines[slot]) if slot in lines else str(slot) for slot in facts["slots"]
        )
    if "month" in facts:
        words["month"] = use_month(facts["month"])
    for key in ("opens_at", "closes_at"):
        if key in facts:
            words[key] = moment(facts[key])
    if "use_date" in facts:
        words["use_date"] = list_date(facts["use_date"])
    if "expires_on" in facts:
        words["expires_on"] = header_date(facts["expires_on"])
    if isinstance(exc, errors.NotFound):
        return ErrorItem(_("選択された時間帯が見つかりません。時間帯別空き状況から、もう一度選択してください。"))
    if isinstance(exc, errors.EmptySelection):
        return ErrorItem(_("申請内容を入力してください。"))
    try:
        return domain_error_item(exc, **words)
    except errors.DomainError:
        return ErrorItem(_("この内容では抽選に申込できません。"))


def _status_of(exc: Exception) -> int:
    if isinstance(exc, errors.NotFound):
        return 404
    if isinstance(exc, (errors.GroupClassExpired, errors.RegistrationExpired, errors.WrongRegistrationKind)):
        return 403
    if isinstance(exc, (errors.SlotTaken, errors.AlreadyEntered)):
        return 409
    return 422


# -- rendering --------------------------------------------------------------------------


def _fees(selection: EntrySelection, answers: AnswerForms, *, chosen: bool) -> dict:
    group_class_id = answers.group_class_id if chosen else answers.chosen_group_class_id
    return quote_entry_fees(
        read_session(), selection, group_class_id=group_class_id, answers=answers.by_room if chosen else None
    )


def _details_page(selection: EntrySelection, answers: AnswerForms, *, problems: list[ErrorItem], status=None):
    if not selection.lines:
        return _nothing_left(problems, DETAILS_STEP, selection)
    return render_page(
        "lottery/details.html",
        title=FLOW.heading(DETAILS_STEP),
        errors=problems,
        status=status or (422 if problems else 200),
        **_breadcrumb(DETAILS_STEP, selection),
        selection=selection,
        answers=answers,
        fees=_fees(selection, answers, chosen=False),
        back_url=slots_url(selection.chosen),
        result_dates=_result_dates(selection),
    )


def _confirm_page(selection: EntrySelection, answers: AnswerForms, *, problems: list[ErrorItem], status=None):
    if not selection.lines:
        return _nothing_left(problems, CONFIRM_STEP, selection)
    context = confirm_context(
        selection, answers, _fees(selection, answers, chosen=True), details_endpoint="lottery.details"
    )
    return render_page(
        "lottery/confirm.html",
        title=FLOW.heading(CONFIRM_STEP),
        errors=problems,
        status=status or (422 if problems else 200),
        **_breadcrumb(CONFIRM_STEP, selection, details_url=context["details_url"]),
        **context,
        result_dates=_result_dates(selection),
        can_submit=not selection.over_cap,
    )


def _result_dates(selection: EntrySelection) -> list:
    return sorted({line.month.dates.result_at for line in selection.lines if line.month})


def _refused(exc: Exception):
    """The selection as a whole cannot be entered: say why, and the way back."""
    shared = selection_refusal(exc)
    if shared is not None:
        problem, status = shared
    elif isinstance(exc, errors.NotRegisteredGroup):
        problem = domain_error_item(exc, use_date=list_date(exc.facts["use_date"]))
        status = 403
    elif isinstance(exc, errors.DomainError):
        problem, status = ErrorItem(str(_domain_problem(exc, _EMPTY).message)), _status_of(exc)
    else:
        raise exc
    return render_page(
        "lottery/refused.html",
        title=FLOW.heading(DETAILS_STEP),
        errors=[problem],
        status=status,
        **_breadcrumb(DETAILS_STEP),
        open_grid_url=_open_grid_url(),
    )


def _open_grid_url() -> str | None:
    """施設別空き状況 of the facilities open for entries now, from the first day of the
    earliest open month (抽選に申込可能な施設), or None when no month is open."""
    moment = clock.now()
    open_rooms = open_lottery_rooms(read_session(), now=moment)
    if not open_rooms:
        return None
    codes = sorted(set(read_session().scalars(select(Facility.code).join(Room).where(Room.id.in_(open_rooms)))))
    first = min(m.use_month for months in open_rooms.values() for m in months)
    first = max(first, jst_day(moment) + timedelta(days=1))
    return url_for("search.availability", facility=codes, period="2w", **{"from": first.isoformat()})


class _Empty:
    lines: list = []
    refused: dict = {}
    chosen: list = []


_EMPTY = _Empty()


def _nothing_left(problems: list[ErrorItem], step: int, selection: EntrySelection):
    return render_page(
        "lottery/refused.html",
        title=FLOW.heading(step),
        errors=problems + [ErrorItem(_("選択した時間帯はすべて抽選に申込できません。別の時間帯を選択してください。"))],
        status=409 if selection.refused.get(EntryProblem.TAKEN) else 422,
        **_breadcrumb(step),
        back_url=slots_url(selection.chosen),
    )


def _breadcrumb(current: int, selection: EntrySelection | None = None, *, details_url: str | None = None) -> dict:
    links = {0: url_for("top.index"), SEARCH_STEP: url_for("search.facilities")}
    if selection is not None:
        lines = selection.chosen
        links[AVAILABILITY_STEP] = availability_url(lines)
        links[SLOTS_STEP] = slots_url(lines)
    if details_url:
        links[DETAILS_STEP] = details_url
    return FLOW.breadcrumb(current, links)


# -- 抽選申込の確認・取消 -------------------------------------------------------------------


class EntryFilterForm(PeriodFilterForm):
    """表示条件 of 抽選申込の確認・取消: 利用日 and 抽選申込中／当選／落選／取下げ／全て."""

    state = state_field(ENTRY_STATES)


@bp.get("/mymenu/lottery")
@login_required
def entries():
    """抽選申込の確認・取消: the group's entries with their state, newest use dates last, the
    top 20 with the guide's message, and 取下げ while the period is open."""
    form = EntryFilterForm(formdata=request.args)
    filtered = conditions_given(request.args)
    problems = []
    if form.validate():
        conditions = EntryConditions(form.date_from.data, form.date_to.data, form.chosen_state)
    else:
        conditions = EntryConditions()
        problems = form_errors(form)
    listing = list_entries(read_session(), resident_id=current_user.id, conditions=conditions, now=clock.now())
    return render_page(
        "lottery/entries.html",
        fragment="lottery/_entries.html",
        title=LIST_FLOW.heading(LIST_STEP, _("抽選申込の確認・取消")),
        errors=problems,
        form=form,
        shown_conditions=ListConditions(conditions.date_from, conditions.date_to, conditions.state),
        listing=listing,
        # 当選 are bookings: their payment deadline counts from the result date (DESIGN rule 4).
        deadlines={
            row.entry.id: payment_deadline_day(row.entry.reservation.payment_basis, row.entry.use_date)
            for row in listing.rows
            if row.entry.reservation is not None and row.entry.reservation.state in UNPAID_STATES
        },
        filter_open=filtered or bool(problems),
        **LIST_FLOW.breadcrumb(LIST_STEP, {0: url_for("mymenu.index")}),
    )


@bp.get("/mymenu/lottery/withdraw")
@login_required
def withdraw_confirm():
    """取下げ確認: the ticked entries, every one still withdrawable, or a message why not."""
    ids = request.args.getlist("entry")
    try:
        rows = select_for_withdrawal(read_session(), resident_id=current_user.id, public_ids=ids, now=clock.now())
    except errors.DomainError as exc:
        return _withdrawal_refused(exc)
    return _withdraw_page(rows)


@bp.post("/mymenu/lottery/withdraw")
@login_required
def withdraw():
    """取下げ: every ticked entry, or none, once per form (a replay shows the first result)."""
    ids = request.form.getlist("entry")

    def run(session) -> str:
        rows = withdraw_entries(session, resident_id=current_user.id, public_ids=ids, now=clock.now())
        return url_for("lottery.withdrawn", entry=[row.entry.public_id for row in rows])

    try:
        return redirect(run_once(request.form.get("form_token"), current_user.id, run), code=303)
    except MalformedToken:
        try:
            rows = select_for_withdrawal(read_session(), resident_id=current_user.id, public_ids=ids, now=clock.now())
        except errors.DomainError as exc:
            return _withdrawal_refused(exc)
        return _withdraw_page(rows, problems=[ErrorItem(str(NOT_SENT))], status=400)
    except errors.DomainError as exc:
        return _withdrawal_refused(exc)


@bp.get("/mymenu/lottery/withdrawn")
@login_required
def withdrawn():
    """取下げ完了: the entries just withdrawn (without any, the list they were withdrawn from)."""
    if not any(v.strip() for v in request.args.getlist("entry")):
        return redirect(url_for("lottery.entries"), code=303)
    try:
        ids = parse_public_ids(request.args.getlist("entry"))
        listing = list_entries(
            read_session(),
            resident_id=current_user.id,
            conditions=EntryConditions(state=ReservationState.WITHDRAWN),
            now=clock.now(),
            limit=10_000,
        )
    except errors.DomainError:
        abort(404)
    rows = [row for row in listing.rows if row.entry.public_id in ids]
    if len(rows) != len(ids):
        abort(404)
    return render_page(
        "lottery/withdrawn.html",
        title=LIST_FLOW.heading(WITHDRAWN_STEP),
        **LIST_FLOW.breadcrumb(WITHDRAWN_STEP, {0: url_for("mymenu.index"), LIST_STEP: url_for("lottery.entries")}),
        rows=rows,
    )


def _withdraw_page(rows, *, problems=(), status=None):
    return render_page(
        "lottery/withdraw.html",
        title=LIST_FLOW.heading(WITHDRAW_STEP),
        errors=list(problems),
        status=status,
        **LIST_FLOW.breadcrumb(WITHDRAW_STEP, {0: url_for("mymenu.index"), LIST_STEP: url_for("lottery.entries")}),
        rows=rows,
        form_token=issue_token(),
    )


def _withdrawal_refused(exc: errors.DomainError):
    if isinstance(exc, errors.EmptySelection):
        problem, status = ErrorItem(str(EMPTY_WITHDRAWAL)), 422
    elif isinstance(exc, errors.NotFound):
        problem, status = ErrorItem(str(NOT_FOUND)), 404
    elif isinstance(exc, errors.WithdrawalClosed):
        problem, status = domain_error_item(exc, closes_at=moment(exc.facts["closes_at"])), 409
    elif isinstance(exc, errors.EntryAlreadyWithdrawn):
        problem, status = domain_error_item(exc), 409
    else:
        problem, status = ErrorItem(str(NOT_FOUND)), 422
    return render_page(
        "lottery/withdraw_refused.html",
        title=LIST_FLOW.heading(WITHDRAW_STEP),
        errors=[problem],
        status=status,
        **LIST_FLOW.breadcrumb(WITHDRAW_STEP, {0: url_for("mymenu.index"), LIST_STEP: url_for("lottery.entries")}),
    )
