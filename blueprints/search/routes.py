"""施設の検索 → 施設別空き状況 → 時間帯別空き状況 (placeholder until built)."""
from __future__ import annotations

from flask import Blueprint
from flask_babel import gettext as _

from blueprints.core.rendering import render_page

bp = Blueprint("search", __name__)


@bp.get("/search/facilities")
def facilities():
    return render_page("mymenu/coming_soon.html", title=_("施設の検索"), heading=_("施設の検索"))


@bp.get("/availability")
def availability():
    return render_page("mymenu/coming_soon.html", title=_("施設別空き状況"), heading=_("施設別空き状況"))
