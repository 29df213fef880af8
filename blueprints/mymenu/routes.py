"""マイメニュー: the resident's own bookings, group classes and messages."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from blueprints.mymenu.forms import EmailForm
from blueprints.mymenu.operations import (
    RESEND_WINDOW,
    change_email,
    find_reservation,
    list_group_classes,
    list_messages,
    list_reservations,
    waiting_refunds,
)
from bookings.conditions import ListConditions
from bookings.forms import ReservationFilterForm, conditions_given
from models import errors
from models.account import Resident
from models.passwords import verify_password
from web.clock import now, today
from web.data import read_session, write_session
from web.errors import ErrorItem, form_errors
from web.navigation import safe_next_url
from web.rendering import render_page
from web.steps import numbered_step

bp = Blueprint("mymenu", __name__, url_prefix="/mymenu")


@bp.get("/")
@login_required
def index():
    refunds = waiting_refunds(read_session(), resident_id=current_user.id, now=now())
    return render_page("mymenu/index.html", title=_("マイメニュー"), refunds=refunds)


@bp.get("/messages")
@login_required
def messages():
    entries = list_messages(read_session(), resident_id=current_user.id, now=now())
    return render_page(
        "mymenu/messages.html", title=_("メッセージの確認"), entries=entries, resend_days=RESEND_WINDOW.days
    )


@bp.get("/reservations")
@login_required
def reservations():
    """予約内容の確認・取消 (guide L313-L338): bookings by facility and room, narrowed by 表示条件."""
    form = ReservationFilterForm(formdata=request.args, date_from=today())
    filtered = conditions_given(request.args)
    if form.validate():
        conditions = form.conditions
        problems = []
        list_args = (
            {
                "date_from": _iso(form.date_from.data),
                "date_to": _iso(form.date_to.data),
                "state": form.state.data,
            }
            if filtered
            else {}
        )
    else:
        # Bad conditions change nothing: the list keeps its default conditions.
        conditions = ListConditions.from_day(today())
        problems = form_errors(form)
        list_args = {}
    listing = list_reservations(read_session(), resident_id=current_user.id, conditions=conditions, now=now())
    list_url = url_for("mymenu.reservations", **list_args)
    return render_page(
        "mymenu/reservations.html",
        fragment="mymenu/_reservations.html",
        title=numbered_step(_("予約内容の確認・取消"), 1, 3),
        errors=problems,
        form=form,
        conditions=conditions,
        listing=listing,
        filter_open=filtered or bool(problems),
        back=list_url if list_args else None,
    )


@bp.get("/reservations/<number>")
@login_required
def reservation(number: str):
    """詳細: one booking, its fees and 納付状況. Someone else's number is simply not found."""
    list_url = url_for("mymenu.reservations")
    back = safe_next_url(request.args.get("back"), list_url)
    if urlsplit(back).path != list_url:
        back = list_url
    try:
        detail = find_reservation(read_session(), resident_id=current_user.id, number=number)
    except errors.NotFound:
        return render_page(
            "mymenu/reservation_missing.html",
            title=_("予約が見つかりません"),
            error_heading=_("予約が見つかりません"),
            errors=[
                ErrorItem(
                    _("指定された予約は見つかりません。予約内容の確認・取消の一覧から、もう一度選択してください。")
                )
            ],
            status=404,
            back=back,
        )
    return render_page(
        "mymenu/reservation.html",
        title=_("予約内容の詳細 %(number)s", number=detail.reservation.number),
        detail=detail,
        back=back,
    )


@bp.route("/email", methods=["GET", "POST"])
@login_required
def email():
    """メールアドレスの変更 (guide L69-L84): card payment needs an address (rule 7); the
    payment screens send residents without one here, and back to `next` afterwards."""
    fallback = url_for("mymenu.index")
    form = EmailForm(next=safe_next_url(request.args.get("next"), fallback))
    if request.method == "GET" and current_user.email:
        form.email.data = form.email_confirm.data = current_user.email
    if form.validate_on_submit() and _password_given(form):
        with write_session() as session:
            change_email(session, resident_id=current_user.id, email=form.email.data, now=now())
        return redirect(safe_next_url(form.next.data, fallback), code=303)
    next_url = safe_next_url(form.next.data, fallback)
    return render_page(
        "mymenu/email.html",
        # guide: L71
        title=_("メールアドレスの変更"),
        errors=form_errors(form),
        form=form,
        next_url=next_url,
        for_payment=urlsplit(next_url).path.startswith(url_for("payment.select")),
        needs_password=bool(current_user.email),
        mail_from=current_app.config["MAIL_FROM"],
    )


@bp.get("/group-classes")
@login_required
def group_classes():
    """登録済利用者団体区分: the group's 団体区分 with expiries, and the registration's."""
    summary = list_group_classes(
        read_session(), resident_id=current_user.id, now=now(), registration=current_user._get_current_object()
    )
    return render_page("mymenu/group_classes.html", title=_("登録済利用者団体区分"), summary=summary)


def _password_given(form: EmailForm) -> bool:
    """Changing an address already registered asks for the current password (checked
    outside any write transaction); registering the first one does not (the guide's gate)."""
    if not current_user.email:
        return True
    password = form.current_password.data or ""
    if not password:
        form.current_password.errors = [_("現在のパスワードを入力してください。")]
        return False
    resident = read_session().get(Resident, current_user.id)
    if resident is None or not verify_password(resident.password_hash, password):
        form.current_password.errors = [_("現在のパスワードが正しくありません。")]
        return False
    return True


def _iso(day) -> str:
    return day.isoformat() if day else ""
