"""詳細申請 → 申込確認 → 申込完了: the answers live in the URL until 申込 posts them once."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, abort, current_app, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.datastructures import MultiDict

from blueprints.apply.operations import (
    ApplicationPlan,
    Selection,
    SlotProblem,
    book_application,
    load_application,
    plan_application,
    prepare_selection,
    quote_fees,
)
from bookings.answers import AnswerForms as _Answers
from bookings.choosing import (
    SelectionRefused,
    availability_url,
    chosen_slots,
    confirm_context,
    selection_refusal,
    slot_in_words,
    slots_url,
)
from models import errors, fee_rules
from models.deadline_rules import payment_deadline_day
from models.reservation_rules import UNPAID_STATES
from web import clock
from web.data import read_session
from web.errors import ErrorItem, domain_error_item
from web.rendering import render_page
from web.steps import breadcrumb, step_heading
from web.tokens import MalformedToken, run_once

bp = Blueprint("apply", __name__, url_prefix="/apply")

DETAILS_STEP, CONFIRM_STEP, COMPLETE_STEP = "details", "confirm", "done"

PROBLEM_ERRORS = {
    SlotProblem.NOT_BOOKABLE: errors.SlotNotBookable,
    SlotProblem.REBOOKING_BLOCKED: errors.RebookingBlocked,
    SlotProblem.TAKEN: errors.SlotTaken,
}
PROBLEM_OF_ERROR = {cls: problem for problem, cls in PROBLEM_ERRORS.items()}


def _refusal_as_read(selection: Selection) -> errors.DomainError | None:
    """The error apply_for_slots would raise for the slots this selection already refuses
    (in its order: not bookable, 再予約不可, taken — by another group or by this one), or
    None when every chosen slot was free as read."""
    for problem in (SlotProblem.NOT_BOOKABLE, SlotProblem.REBOOKING_BLOCKED):
        if selection.refused.get(problem):
            return PROBLEM_ERRORS[problem](slots=sorted(line.slot for line in selection.refused[problem]))
    taken = selection.refused.get(SlotProblem.TAKEN, []) + selection.refused.get(SlotProblem.ALREADY_BOOKED, [])
    if taken:
        return errors.SlotTaken(slots=sorted(line.slot for line in taken))
    return None


# -- views ------------------------------------------------------------------------------


@bp.get("/details")
@login_required
def details():
    """詳細申請: the chosen slots and, per room, 利用目的, 利用人数, 参加費等の有無."""
    try:
        selection = _selection(request.args)
    except (SelectionRefused, errors.DomainError) as exc:
        return _refused(exc)
    return _details_page(
        selection, _Answers(selection, request.args, validate=False), problems=_refused_slot_errors(selection)
    )


@bp.get("/confirm")
@login_required
def confirm():
    """申込確認: check the answers, with a 変更 link for each and the fee of every slot."""
    try:
        selection = _selection(request.args)
    except (SelectionRefused, errors.DomainError) as exc:
        return _refused(exc)
    answers = _Answers(selection, request.args)
    if not answers.valid:
        return _details_page(selection, answers, problems=_refused_slot_errors(selection) + answers.errors)
    return _confirm_page(selection, answers, problems=_refused_slot_errors(selection))


@bp.post("")
@login_required
def submit():
    """申込: create the 仮予約 once; a second submit of the same form shows the first result."""
    now = clock.now()
    try:
        selection = _selection(request.form, now)
    except (SelectionRefused, errors.DomainError) as exc:
        return _refused(exc)
    # The answers of every chosen room: the operation, not this request's reading of the
    # database, decides which slots are still free (and a replayed form finds its first
    # result even though its slots are now taken by itself).
    answers = _Answers(selection, request.form, rooms=selection.chosen_rooms)
    if not answers.valid:
        return _details_page(selection, answers, problems=_refused_slot_errors(selection) + answers.errors)

    plans: list[ApplicationPlan] = []

    def check() -> None:
        # Once the token is known to be unused, and before the write lock: what this
        # request read refuses already is refused without writing (the operation would
        # refuse it the same way), and what 申込 writes is worked out from the catalogue.
        refusal = _refusal_as_read(selection)
        if refusal is not None:
            raise refusal
        plans.append(
            plan_application(
                read_session(),
                resident_id=current_user.id,
                slots=[line.slot for line in selection.chosen],
                answers=answers.by_room,
                group_class_id=answers.group_class_id,
                now=now,
                days_ahead=current_app.config["FIRST_COME_DAYS_AHEAD"],
                rooms={room.id: room for room in selection.chosen_rooms},
                statuses=selection.statuses,
                registration=current_user._get_current_object(),
            )
        )

    def apply(session) -> str:
        # Under the write lock only what other applications change: who holds the slots.
        application = book_application(session, plans[0], now=now)
        return url_for("apply.complete", application_id=application.id)

    try:
        return redirect(run_once(request.form.get("form_token"), current_user.id, apply, before=check), code=303)
    except MalformedToken:
        problem = ErrorItem(
            _("申込の受付に必要な情報が正しくありません。内容を確認して、もう一度「申込」を押してください。")
        )
        return _confirm_page(
            selection,
            _Answers(selection, request.form),
            problems=_refused_slot_errors(selection) + [problem],
            status=400,
        )
    except (errors.SlotTaken, errors.SlotNotBookable, errors.RebookingBlocked) as exc:
        return _some_slots_refused(selection, exc)
    except errors.DomainError as exc:
        return _refused(exc)


@bp.get("/complete/<int:application_id>")
@login_required
def complete(application_id: int):
    """予約申込 完了 (guide L26-L57)."""
    try:
        application = load_application(read_session(), application_id, resident_id=current_user.id)
    except errors.NotFound:
        abort(404)
    reservations = application.reservations
    # 注意事項 once per facility, naming its rooms (in the order they appear above).
    facilities = list({r.room.facility.id: r.room.facility for r in reservations}.values())
    rooms_of = {
        f.id: list({r.room.id: r.room for r in reservations if r.room.facility.id == f.id}.values()) for f in facilities
    }
    return render_page(
        "apply/complete.html",
        # guide: L26
        title=step_heading(COMPLETE_STEP, _("予約申込 完了")),
        **_breadcrumb(COMPLETE_STEP),
        application=application,
        reservations=reservations,
        facilities=facilities,
        rooms_of=rooms_of,
        total_yen=fee_rules.total_yen(r.total_fee_yen for r in reservations),
        deadlines={r.id: payment_deadline_day(r.payment_basis, r.use_date) for r in reservations},
        unpaid_states=UNPAID_STATES,
    )


# -- reading the request ----------------------------------------------------------------


def _selection(values: MultiDict, now: datetime | None = None) -> Selection:
    slots = chosen_slots(
        values, none_chosen=_("時間帯が選択されていません。時間帯別空き状況から、申込む時間帯を選択してください。")
    )
    return prepare_selection(
        read_session(),
        slots,
        resident_id=current_user.id,
        now=now or clock.now(),
        days_ahead=current_app.config["FIRST_COME_DAYS_AHEAD"],
        registration=current_user._get_current_object(),  # read by the login, with its 団体区分
    )


# -- rendering --------------------------------------------------------------------------


def _details_page(selection: Selection, answers: _Answers, *, problems: list[ErrorItem], status: int | None = None):
    if not selection.lines:
        return _nothing_left(problems, DETAILS_STEP, selection)
    return render_page(
        "apply/details.html",
        title=step_heading(DETAILS_STEP),
        errors=problems,
        status=status or _status_for(problems, selection),
        **_breadcrumb(DETAILS_STEP, selection),
        selection=selection,
        answers=answers,
        fees=quote_fees(read_session(), selection, group_class_id=answers.chosen_group_class_id),
        back_url=slots_url(selection.lines),
    )


def _confirm_page(selection: Selection, answers: _Answers, *, problems: list[ErrorItem], status: int | None = None):
    if not selection.lines:
        return _nothing_left(problems, CONFIRM_STEP, selection)
    fees = quote_fees(read_session(), selection, group_class_id=answers.group_class_id, answers=answers.by_room)
    context = confirm_context(selection, answers, fees, details_endpoint="apply.details")
    return render_page(
        "apply/confirm.html",
        title=step_heading(CONFIRM_STEP),
        errors=problems,
        status=status or _status_for(problems, selection),
        **_breadcrumb(CONFIRM_STEP, selection, details_url=context["details_url"]),
        **context,
    )


def _some_slots_refused(selection: Selection, exc: errors.DomainError):
    """Another group was quicker (or the slot closed meanwhile): 申込確認 again for the rest,
    with a fresh token, naming each slot that was refused in words."""
    problem = PROBLEM_OF_ERROR[type(exc)]
    refused = set(exc.facts.get("slots") or [])
    for line in [line for line in selection.lines if line.slot in refused]:
        selection.lines.remove(line)
        selection.refused.setdefault(problem, []).append(line)
    problems = _refused_slot_errors(selection)
    if not selection.lines:
        return _nothing_left(problems, CONFIRM_STEP, selection)
    return _confirm_page(selection, _Answers(selection, request.form), problems=problems)


def _refused(exc: Exception):
    """The selection as a whole cannot go on: say why, and the way back to the search."""
    shared = selection_refusal(exc)
    if shared is not None:
        problem, status = shared
    elif isinstance(exc, errors.WrongRegistrationKind):
        problem = domain_error_item(exc)
        status = 403
    elif isinstance(exc, errors.DomainError):
        problem = domain_error_item(exc)
        status = 422
    else:
        raise exc
    return render_page(
        "apply/refused.html",
        title=step_heading(DETAILS_STEP),
        error_heading=_("選択した時間帯は申込できません"),
        errors=[problem],
        status=status,
        **_breadcrumb(DETAILS_STEP),
    )


def _nothing_left(problems: list[ErrorItem], step: str, selection: Selection):
    """Every chosen slot was refused: nothing remains to apply for."""
    # 時間帯別空き状況 of the same rooms and days, to choose other slots there.
    return render_page(
        "apply/refused.html",
        title=step_heading(step),
        errors=problems + [ErrorItem(_("選択した時間帯はすべて申込できません。別の時間帯を選択してください。"))],
        status=409 if _is_conflict(selection) else 422,
        **_breadcrumb(step),
        back_url=slots_url(selection.chosen),
    )


def _refused_slot_errors(selection: Selection) -> list[ErrorItem]:
    items = []
    for problem in (
        SlotProblem.TAKEN,
        SlotProblem.ALREADY_BOOKED,
        SlotProblem.NOT_BOOKABLE,
        SlotProblem.REBOOKING_BLOCKED,
    ):
        lines = selection.refused.get(problem)
        if not lines:
            continue
        words = _("、").join(slot_in_words(line) for line in lines)
        if problem is SlotProblem.ALREADY_BOOKED:
            items.append(
                ErrorItem(
                    _(
                        "選択した時間帯は、既に申込済みです。マイメニューの「予約内容の確認・取消」で確認できます: %(slots)s",
                        slots=words,
                    )
                )
            )
        else:
            items.append(domain_error_item(PROBLEM_ERRORS[problem](), slots=words))
    return items


def _is_conflict(selection: Selection) -> bool:
    return bool(selection.refused.get(SlotProblem.TAKEN) or selection.refused.get(SlotProblem.ALREADY_BOOKED))


def _status_for(items: list[ErrorItem], selection: Selection) -> int:
    if not items:
        return 200
    return 409 if _is_conflict(selection) else 422


def _breadcrumb(current: str, selection: Selection | None = None, *, details_url: str | None = None) -> dict:
    """The guide's breadcrumb, each earlier step a link where it can be rebuilt."""
    urls = {"search": url_for("search.facilities")}
    if selection is not None:
        urls["availability"] = availability_url(selection.lines)
        urls["slots"] = slots_url(selection.lines)
    if details_url:
        urls["details"] = details_url
    return breadcrumb(current, urls, url_for("top.index"))
