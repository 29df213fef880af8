"""トップページ: お知らせ, the five search tabs, マイメニュー."""

from __future__ import annotations

import functools
from datetime import timedelta

from flask import Blueprint, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import CompoundSelect, Select, exists, literal, select, union_all

from lottery.schedule import announced_months, open_lottery_rooms
from models.facility import Facility, FacilityCategory, Purpose, Room, RoomType
from models.notice import Notice
from models.search_rules import KANA_ROW_ROMAJI, KANA_ROWS
from models.time_rules import jst_day
from web.clock import now
from web.data import read_session
from web.rendering import render_page

bp = Blueprint("top", __name__)

# 空き照会/抽選・先着空き予約の申込: the five ways to search (guide §5-2 ②, L296).
SEARCH_TABS = [
    ("category", _l("カテゴリから探す")),
    ("purpose", _l("使用目的から探す")),
    ("type", _l("施設種類から探す")),
    ("name", _l("施設名から探す")),
    ("list", _l("一覧から探す")),
]
NOTICES_ON_TOP = 5


@bp.get("/")
def index():
    tab = request.args.get("tab", "category")
    if tab not in dict(SEARCH_TABS):
        tab = "category"
    s = read_session()
    moment = now()
    choices = _choices(s)
    context = {
        # The lottery's calendar in words (DESIGN "Lottery"): the months to announce (their
        # dates; which rooms each draws is not shown here).
        "lottery_calendar": [(m, m.phase(moment)) for m in announced_months(s, now=moment, with_rooms=False)],
        "lottery_facilities": _lottery_facilities(s, moment) if tab == "list" else [],
        "lottery_from": _lottery_from(s, moment) if tab == "list" else None,
        "tabs": SEARCH_TABS,
        "tab": tab,
        "notices": s.scalars(_latest_notices()).all(),
        "categories": choices["category"],
        # A category no facility belongs to says so before the click (issue 11).
        "stocked_categories": {row.id for row in choices["category"] if row.stocked},
        "purposes": choices["purpose"],
        "room_types": choices["type"],
        "kana_rows": list(KANA_ROWS),
        "kana_romaji": KANA_ROW_ROMAJI,
        "facilities": s.scalars(select(Facility).order_by(Facility.kana)).all() if tab == "list" else [],
    }
    # What the search panel and the calendar show, by value: their HTML is rendered once for
    # each (shared_piece) and again whenever any of it changes. 一覧から探す (facilities with
    # their rooms) is rendered every time.
    context["lottery_calendar_key"] = tuple((m.use_month, m.dates, phase) for m, phase in context["lottery_calendar"])
    context["search_panel_key"] = (
        None if tab == "list" else (tab, tuple(choices["category"]), tuple(choices["purpose"]), tuple(choices["type"]))
    )
    return render_page("top/index.html", fragment="top/_search_panel.html", title=_("トップページ"), **context)


@functools.cache
def _latest_notices() -> Select:
    """Built once: a statement is immutable, and building one costs more than running it."""
    return select(Notice).order_by(Notice.published_on.desc(), Notice.id.desc()).limit(NOTICES_ON_TOP)


@functools.cache
def _choices_statement() -> CompoundSelect:
    def kind(name: str, model, stocked):
        return select(
            literal(name).label("kind"),
            model.id.label("id"),
            model.code.label("code"),
            model.name_ja.label("name_ja"),
            model.name_en.label("name_en"),
            model.ordinal.label("ordinal"),
            stocked.label("stocked"),
        )

    return union_all(
        kind("category", FacilityCategory, exists().where(Facility.category_id == FacilityCategory.id)),
        kind("purpose", Purpose, literal(True)),
        kind("type", RoomType, literal(True)),
    )


def _choices(session) -> dict[str, list]:
    """The tabs' choices — categories (with whether any facility belongs to each), purposes,
    room types — in one statement (issue 12: each was a query of its own), each kind in its
    order. Rows with id, code, name_ja, name_en (what `localized` reads)."""
    choices: dict[str, list] = {"category": [], "purpose": [], "type": []}
    for row in sorted(session.execute(_choices_statement()).all(), key=lambda r: (r.ordinal, r.id)):
        choices[row.kind].append(row)
    return choices


def _lottery_facilities(session, moment) -> list:
    """抽選に申込可能な施設: each facility with a room open for entries now, with those rooms
    and their months."""
    open_rooms = open_lottery_rooms(session, now=moment)
    if not open_rooms:
        return []
    rooms = session.scalars(select(Room).where(Room.id.in_(open_rooms))).all()
    by_facility: dict[int, tuple[Facility, list]] = {}
    for room in sorted(rooms, key=lambda r: (r.facility.kana, r.facility.code, r.ordinal, r.id)):
        by_facility.setdefault(room.facility_id, (room.facility, []))[1].append((room, open_rooms[room.id]))
    return list(by_facility.values())


def _lottery_from(session, moment):
    """Where 抽選に申込可能な施設's grid starts: the first day of the earliest month open for
    entries (not before tomorrow)."""
    open_rooms = open_lottery_rooms(session, now=moment)
    months = [m.use_month for months in open_rooms.values() for m in months]
    if not months:
        return None
    return max(min(months), jst_day(moment) + timedelta(days=1))
