"""Public information: お知らせ, FAQ, ご利用の手引き, アクセシビリティ方針, and each facility's
address and access."""

from __future__ import annotations

from pathlib import Path

from babel.lists import format_list
from flask import Blueprint, abort, current_app, request
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from blueprints.info.gate_results import load_gate_results
from models.account import Resident
from models.account_rules import RegistrationKind
from models.conformance_rules import conformance_rule
from models.facility import Facility, FacilityCategory
from models.introduction import GroupIntroduction
from models.introduction_rules import CIRCLES_PER_PAGE, is_activity
from models.notice import Notice
from web import channels
from web.clock import today
from web.data import read_session
from web.formats import localized
from web.rendering import render_page

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


@bp.get("/assembly-facilities")
def assembly_facilities():
    """集会・学校施設 (the guide's top-page link, L306): every facility a 集会・学校 registration
    books, grouped by the search's categories, with address, access, rooms and capacities and
    a link to each facility's 施設別空き状況."""
    categories = read_session().scalars(
        select(FacilityCategory)
        .where(FacilityCategory.registration_kind == RegistrationKind.ASSEMBLY)
        .order_by(FacilityCategory.ordinal)
        .options(selectinload(FacilityCategory.facilities).selectinload(Facility.rooms))
    )
    return render_page(
        "info/assembly_facilities.html",
        title=_("集会・学校施設"),
        categories=[c for c in categories if c.facilities],
    )


@bp.get("/circles")
def circles():
    """サークル(団体) 紹介 (the guide's top-page link, L306): the 集会・学校 groups that chose
    to be introduced and whose registration is valid today (introduction_rules.is_listed, said
    here as a query), by name, CIRCLES_PER_PAGE a page; only what each group wrote."""
    activity = request.args.get("activity", "")
    if not is_activity(activity):
        activity = ""
    page = request.args.get("page", 1, type=int)
    page = page if page and 1 <= page <= 100_000 else 1
    s = read_session()
    listed = (
        select(GroupIntroduction)
        .join(Resident, Resident.id == GroupIntroduction.resident_id)
        .where(
            GroupIntroduction.published.is_(True),
            Resident.registration_kind == RegistrationKind.ASSEMBLY,
            Resident.registration_expires_on >= today(),
        )
    )
    if activity:
        listed = listed.where(GroupIntroduction.activity == activity)
    total = s.scalar(select(func.count()).select_from(listed.subquery())) or 0
    rows = s.scalars(
        listed.options(selectinload(GroupIntroduction.resident))
        .order_by(Resident.name, Resident.id)
        .offset((page - 1) * CIRCLES_PER_PAGE)
        .limit(CIRCLES_PER_PAGE)
    ).all()
    return render_page(
        "info/circles.html",
        title=_("サークル(団体) 紹介"),
        introductions=rows,
        total=total,
        activity=activity,
        page_number=page,
        first_number=(page - 1) * CIRCLES_PER_PAGE + 1,
        has_next=page * CIRCLES_PER_PAGE < total,
    )


@bp.get("/faq")
def faq():
    return render_page("info/faq.html", title=_("FAQ / よくあるご質問"))


@bp.get("/guide")
def guide():
    return render_page("info/guide.html", title=_("ご利用の手引き"))


# No success criterion has yet been verified by people one by one (tools decide only some
# of them), so the claim cannot be 準拠 whatever the automatic results say.
ALL_CRITERIA_VERIFIED = False

# What each automatic check of the gate is, in words (the results file names them by id).
CHECK_LABELS = {
    "axe": _l("axe-core による WCAG 2.2 レベル A・AA のルール検査（画面幅 1280px）"),
    "axe_360": _l("同じルール検査を画面幅 360px で（日本語）"),
    "error_states": _l("入力エラーの画面（各フォームを未入力または誤った内容で送信した状態）のルール検査"),
    "target_size": _l("操作できる部分の大きさ（24px 以上。読み上げ用ブラウザモードとキオスク端末では 44px 以上）"),
    "fits_phone": _l(
        "画面幅 360px と 320px で、リンク・ボタン・入力欄と文字がすべて画面の幅に収まり、ページが横にスクロールしないこと"
    ),
    "fits_1280": _l("画面幅 1280px で、同じくすべてが画面の幅に収まること（英語の画面を含む）"),
    "reflow_320": _l("画面幅 320px でページ全体が横にスクロールしないこと（日本語）"),
    "text_200": _l("文字の大きさ 200% で、文字が切れたりヘッダーに重なったりしないこと（日本語）"),
    "focus_not_obscured": _l(
        "Tab キー（と Shift+Tab キーで戻る方向）で移動したフォーカスが、固定表示の部分に隠れないこと（日本語）"
    ),
    "valid_html": _l("W3C Nu HTML Checker で、すべてのページの HTML にエラーがないこと"),
}
CHANNEL_LABELS = {
    channels.STANDARD: _l("標準の画面"),
    channels.READER: _l("読み上げ用ブラウザモード"),
    channels.KIOSK: _l("キオスク端末"),
}
LANGUAGE_LABELS = {"ja": _l("日本語"), "en": _l("英語")}


@bp.get("/accessibility")
def accessibility():
    """アクセシビリティ方針: the policy, the claim the gate's latest results support, what is
    and is not checked, the known limitations and whom to contact."""
    results = load_gate_results(Path(current_app.config["ACCESSIBILITY_RESULTS"]))
    claim = conformance_rule(
        tested=results is not None,
        complete=bool(results and results.complete),
        violations=results.violations_total if results else 0,
        all_criteria_verified=ALL_CRITERIA_VERIFIED,
    )
    return render_page(
        "info/accessibility.html",
        title=_("アクセシビリティ方針"),
        results=results,
        claim=claim.value,
        all_criteria_verified=ALL_CRITERIA_VERIFIED,
        check_labels=CHECK_LABELS,
        channel_labels=CHANNEL_LABELS,
        language_labels=LANGUAGE_LABELS,
        channels_text=_listed(CHANNEL_LABELS.get(c, c) for c in results.channels) if results else "",
        languages_text=_listed(LANGUAGE_LABELS.get(lang, lang) for lang in results.languages) if results else "",
        tools_text=_listed(f"{name} {version}" for name, version in results.tools) if results else "",
    )


def _listed(items) -> str:
    """日本語、英語 / Japanese and English: a list in the reader's language."""
    return format_list([str(item) for item in items], locale=get_locale())
