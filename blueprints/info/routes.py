"""Public information: お知らせ, FAQ, ご利用の手引き, and each facility's address and access."""
from __future__ import annotations

from flask import Blueprint, abort
from flask_babel import gettext as _
from sqlalchemy import select

from blueprints.core.data import read_session
from blueprints.core.formats import localized
from blueprints.core.rendering import render_page
from models.facility import Facility
from models.notice import Notice

bp = Blueprint("info", __name__)


@bp.get("/notices")
def notices():
    items = read_session().scalars(select(Notice).order_by(Notice.published_on.desc(), Notice.id.desc())).all()
    return render_page("info/notices.html", title=_("お知らせ一覧"), notices=items)


@bp.get("/notices/<int:notice_id>")
def notice(notice_id: int):
    item = read_session().get(Notice, notice_id)
    if item is None:
        abort(404)
    return render_page("info/notice.html", title=localized(item, "title"), notice=item)


@bp.get("/facilities/<code>")
def facility(code: str):
    """地図で場所を確認: the address and access notes (no outside map service)."""
    item = read_session().scalar(select(Facility).where(Facility.code == code))
    if item is None:
        abort(404)
    return render_page("info/facility.html", title=_("施設の場所"), facility=item)


@bp.get("/faq")
def faq():
    return render_page("info/faq.html", title=_("FAQ / よくあるご質問"))


@bp.get("/guide")
def guide():
    return render_page("info/guide.html", title=_("ご利用の手引き"))
