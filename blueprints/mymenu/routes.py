"""マイメニュー: the resident's own bookings, group classes and messages."""
from __future__ import annotations

from flask import Blueprint
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import select

from blueprints.core.data import read_session
from blueprints.core.rendering import render_page
from models.notice import Message

bp = Blueprint("mymenu", __name__, url_prefix="/mymenu")

# Entries of later issues say 準備中 until they exist.
COMING_SOON = {
    "lottery": _l("抽選申込の確認・取消"),
    "payment": _l("クレジット決済"),
    "profile": _l("利用者情報の更新・変更"),
}


@bp.get("/")
@login_required
def index():
    return render_page("mymenu/index.html", title=_("マイメニュー"))


@bp.get("/messages")
@login_required
def messages():
    items = read_session().scalars(
        select(Message).where(Message.resident_id == current_user.id).order_by(Message.created_at.desc())
    ).all()
    return render_page("mymenu/messages.html", title=_("メッセージの確認"), messages=items)


@bp.get("/<any(lottery, payment, profile):entry>")
@login_required
def coming_soon(entry: str):
    return render_page("mymenu/coming_soon.html", title=str(COMING_SOON[entry]), heading=COMING_SOON[entry])


@bp.get("/reservations")
@login_required
def reservations():
    return render_page("mymenu/coming_soon.html", title=_("予約内容の確認・取消"), heading=_("予約内容の確認・取消"))
