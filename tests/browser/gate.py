"""The accessibility gate (issue 5): which pages it visits, the forms it sends in their error
state, what it checks on each in a real browser, and the results file that アクセシビリティ方針
shows.

The pages come from `app.url_map`: every GET route, filled with demo ids by
tests/web/test_every_route.py's demo_values() (one booking of each kind a page shows
differently), plus what the routes' own pages link to for routes whose state lives in the
query string, plus the pages only a POST flow leads to (申込完了, 取消完了, 決済完了, 備品 完了)
through their GET URLs with ids that the same operations made in the test's database."""

from __future__ import annotations

import fcntl
import json
import os
import re
import sys
import time
import uuid
from collections import deque
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone
from importlib import metadata
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from axe_selenium_python import Axe
from selenium.common.exceptions import WebDriverException
from sqlalchemy import select

from blueprints.cancel.operations import cancel_reservations
from blueprints.equipment.operations import EquipmentRequest, change_equipment
from config import ROOT
from demo.card_payments import confirm_and_open_card_page, pay_on_card_page, record_return
from demo.seed import seed_equipment_demo
from lottery.entries import withdraw_entries
from mail.delivery import Refusal, claim_next, mark_undeliverable
from models.account import Resident
from models.facility import Facility
from models.lottery import LotteryEntry
from models.payment import Settlement, SettlementStatus
from models.reservation import Reservation
from models.reservation_rules import ReservationState
from payments.provider import provider_client
from payments.settlement import open_settlement
from tests.browser.accessibility import AXE_OPTIONS, AXE_SCRIPT, AXE_VERSION, WCAG_TAGS, assert_no_horizontal_scroll
from tests.browser.navigation import page_change
from tests.browser.target_size import small_targets
from tests.conftest import AuthActions
from tests.web.card_support import URLS, clock, pay_by_card, settings
from tests.web.test_every_route import PageParser, demo_values, get_routes, same_site_urls, urls_for_rule

RESULTS_FILE = ROOT / "docs" / "accessibility-results.json"
CHANNELS = ("standard", "reader", "kiosk")
LANGUAGES = ("ja", "en")
LOGGED_OUT, RESIDENT = "logged out", "00040675"
LOGIN = {"number": "40675", "kind": "assembly"}
NOT_PAGES = {"static", "vendor", "health.healthz", "health.readyz", "health.metrics"}  # files and probes, not pages
# Routes that answer a GET only with a redirect or a problem page, by design: the card
# company's return needs a session it made, and the kiosk refuses everything under /payment.
# 次へ進む of 予約内容の確認・取消 only redirects to the next step or says why it cannot.
PROBLEM_ONLY = {"payment.return_from_provider", "cancel.start"}
KIOSK_PROBLEM_ONLY = PROBLEM_ONLY | {"payment.select", "payment.refused"}
DISCOVERY_BUDGET = 150  # links followed to find a route's page that lives in a query string
MAX_TABS = 120  # Tab presses per page when looking for focus hidden under something fixed
WIDE, PHONE, NARROW = 1280, 360, 320
LONGEST = "longest names"  # representative_values' facility codes with the longest names
JST = timezone(timedelta(hours=9))

# What each check is, in the results file (アクセシビリティ方針 names them in words).
CHECKS = (
    "axe",
    "axe_360",
    "error_states",
    "target_size",
    "fits_phone",
    "fits_1280",
    "reflow_320",
    "text_200",
    "focus_not_obscured",
    "valid_html",
)
FIT_WIDTHS = (PHONE, NARROW)  # fits_phone, after fits_1280 at the crawl's own width (WIDE)


# -- what a POST flow leaves behind ---------------------------------------------------------


@dataclass(frozen=True)
class FlowResults:
    """Things only a POST flow makes, made by the site's own operations in the test's
    database: card payments through the served card company, equipment on a card-paid
    booking (一部支払済), a 仮予約 and a card-paid 本予約 cancelled (取消完了 with and without
    a refund), and a settlement waiting at 注意事項."""

    card_paid: tuple[str, ...]
    card_paid_active: str  # still 本予約, card-paid: the card-paid cancel pages
    cancelled: tuple[str, ...]  # cancelled just now by the resident
    completed_settlement: int
    open_settlement: int
    reset_url: str  # a mailed password-reset link, not yet used
    email_confirm_url: str  # a mailed email-confirmation link, not yet used
    # The lottery (issue 9): an entry of 目黒団体 withdrawn just now (取下げ完了), one still
    # open (取下げ確認), and a slot open for entries it has not entered (詳細申請, 抽選申込確認).
    withdrawn_entry: str = ""
    open_entry: str = ""
    lottery_slot: str = ""
    lottery_purpose: int = 0


def make_flow_results(app) -> FlowResults:
    """Runs once per test database (the app must be wired to the served card company)."""
    card_paid = list(pay_by_card(app))  # 702 35 days, 201 18 days, 702 9 days, 201 4 days ahead
    database = app.extensions["database"]
    now = clock(app)
    centre = settings(app).call_centre
    with app.app_context():
        with database.write() as session:
            seed_equipment_demo(session, now)  # a projector on the 35-day one: 一部支払済
        with database.write() as session:
            meguro = session.scalar(select(Resident).where(Resident.registration_number == "00040675"))
            provisional = session.scalars(
                select(Reservation)
                .where(Reservation.resident_id == meguro.id, Reservation.state == ReservationState.PROVISIONAL)
                .order_by(Reservation.use_date.desc(), Reservation.id)
            ).all()
            # A 702 仮予約 with a projector, then paid by card below: equipment paid by card
            # (the guide's メッセージ before 備品（付帯品）予約).
            with_equipment = next(r for r in provisional if r.room.facility.equipment_items)
            projector = next(i for i in with_equipment.room.facility.equipment_items if i.name_ja == "プロジェクター")
            change_equipment(
                session,
                resident_id=meguro.id,
                number=with_equipment.number,
                request=EquipmentRequest({projector.id: 1}, with_equipment.starts_at, with_equipment.ends_at),
                expected_version=with_equipment.version,
                now=now,
            )
            resident_id, equipped = meguro.id, with_equipment.number
            to_cancel = [provisional[-1], session.scalar(select(Reservation).where(Reservation.number == card_paid[2]))]
            for booking in to_cancel:
                cancel_reservations(
                    session,
                    resident_id=meguro.id,
                    versions={booking.number: booking.version},
                    reason="会議の日程が変更になったため",
                    agreed=True,
                    now=now,
                )
            cancelled = tuple(booking.number for booking in to_cancel)
            # 確定 pressed on another 仮予約: its settlement waits at 注意事項.
            waiting = next(r for r in provisional if r.number not in cancelled and r.number != equipped)
            opened = open_settlement(
                session, resident_id=meguro.id, number=waiting.number, expected_version=waiting.version, now=now
            ).id
        page = confirm_and_open_card_page(
            database, provider_client(app.config), URLS, centre, now, resident_id=resident_id, number=equipped
        )
        record_return(database, provider_client(app.config), centre, now, pay_on_card_page(page, URLS.return_url))
        # Two notices whose mail was given up, so that メッセージ shows why: the receiving
        # server refused the address of the first, the content of the next.
        for reason in (Refusal.ADDRESS, Refusal.CONTENT):
            mark_undeliverable(database, claim_next(database, now), reason, f"550 refused ({reason.value})", now)
        reset_url, email_confirm_url = _account_links(app, database, now)
        with database.read_session() as session:
            completed = session.scalar(
                select(Settlement.id)
                .where(Settlement.resident_id == resident_id, Settlement.status == SettlementStatus.COMPLETED)
                .order_by(Settlement.id)
            )
    withdrawn, still_open, slot, purpose = _lottery_flow(database, now)
    return FlowResults(
        card_paid=tuple(card_paid + [equipped]),
        card_paid_active=card_paid[1],
        cancelled=cancelled,
        completed_settlement=completed,
        open_settlement=opened,
        reset_url=reset_url,
        email_confirm_url=email_confirm_url,
        withdrawn_entry=withdrawn,
        open_entry=still_open,
        lottery_slot=slot,
        lottery_purpose=purpose,
    )


def _account_links(app, database, now) -> tuple[str, str]:
    """The links of a password-reset mail and of an email-confirmation mail for 00040675, made
    by the site's own operations (their pages exist only behind such links)."""
    from flask import url_for

    from blueprints.auth.operations import request_email_change, request_reset
    from mail.compose import call_centre_for

    centre = call_centre_for(app.config, "ja")
    links: dict[str, str] = {}
    with app.test_request_context(), database.write() as session:
        request_reset(
            session,
            kind="assembly",
            number="00040675",
            email="meguro-dantai@example.jp",
            now=now,
            link_for=lambda token: links.setdefault("reset", url_for("auth.reset", token=token)),
            centre=centre,
        )
        meguro = session.scalar(select(Resident).where(Resident.registration_number == "00040675"))
        request_email_change(
            session,
            resident_id=meguro.id,
            epoch=meguro.session_version,
            new_email="meguro-new@example.jp",
            now=now,
            link_for=lambda token: links.setdefault("email", url_for("auth.confirm_email", token=token)),
            centre=centre,
        )
    return links["reset"], links["email"]


def _lottery_flow(database, now) -> tuple[str, str, str, int]:
    """目黒団体 withdraws one of its open entries (the demo gives it two in the open month);
    the slot another group entered is one it can enter itself."""
    with database.write() as session:
        meguro = session.scalar(select(Resident).where(Resident.registration_number == "00040675"))
        open_entries = session.scalars(
            select(LotteryEntry)
            .where(LotteryEntry.state == ReservationState.LOTTERY_ENTRY)
            .order_by(LotteryEntry.use_date, LotteryEntry.id)
        ).all()
        mine = [e for e in open_entries if e.resident_id == meguro.id]
        if len(mine) < 2:
            return "", "", "", 0
        theirs = next(e for e in open_entries if e.resident_id != meguro.id and e.room_id != mine[0].room_id)
        withdraw_entries(session, resident_id=meguro.id, public_ids=[mine[-1].public_id], now=now)
        slot = f"{theirs.room_id}:{theirs.use_date.isoformat()}:{theirs.time_band_id}"
        return mine[-1].public_id, mine[0].public_id, slot, theirs.purpose_id


# -- the pages -----------------------------------------------------------------------------


@dataclass(frozen=True)
class GatePage:
    url: str
    endpoint: str
    visitor: str  # LOGGED_OUT or RESIDENT
    status: int


def booking_kind(reservation: Reservation) -> tuple:
    """What makes a booking's pages differ: its state, how it was paid, its equipment."""
    return (
        reservation.state,
        reservation.cancel_kind,
        reservation.is_counter_paid,
        reservation.live_charge is not None,
        bool(reservation.equipment_lines),
        reservation.room.facility.category.lends_equipment,
        reservation.held_yen != reservation.due_yen,
    )


def representative_values(app) -> dict[str, list]:
    """demo_values() with one booking of each kind (and one facility of each category, one
    settlement of each status) instead of all of them: the same templates in the same
    states, in a fraction of the time."""
    session = app.extensions["database"].read_session()
    try:
        with app.app_context():
            values = demo_values(session)
            meguro = session.scalar(select(Resident).where(Resident.registration_number == "00040675"))
            kinds: dict[tuple, Reservation] = {}
            for reservation in session.scalars(
                select(Reservation).where(Reservation.resident_id == meguro.id).order_by(Reservation.id)
            ):
                kinds.setdefault(booking_kind(reservation), reservation)
            bookings = list(kinds.values())
            values["number"] = [r.number for r in bookings]
            values["reservation_id"] = [r.id for r in bookings]
            values["application_id"] = sorted({r.application_id for r in bookings if r.application_id})
            by_category: dict[int, str] = {}
            for facility in session.scalars(select(Facility).order_by(Facility.code)):
                by_category.setdefault(facility.category_id, facility.code)
            # The demo data's longest names (issue 11: phones), in either language, of a
            # facility and of a room: their pages and grids are the widest.
            facilities = session.scalars(select(Facility).order_by(Facility.code)).all()
            rooms = [room for facility in facilities for room in facility.rooms]
            longest = {
                max(facilities, key=lambda f: len(f.name_en)).code,
                max(facilities, key=lambda f: len(f.name_ja)).code,
                max(rooms, key=lambda r: len(r.facility.name_en + r.name_en)).facility.code,
                max(rooms, key=lambda r: len(r.facility.name_ja + r.name_ja)).facility.code,
            }
            values["code"] = values["facility_code"] = sorted(set(by_category.values()) | longest)
            values[LONGEST] = sorted(longest)
            statuses: dict[SettlementStatus, int] = {}
            for settlement in session.scalars(
                select(Settlement).where(Settlement.resident_id == meguro.id).order_by(Settlement.id)
            ):
                statuses.setdefault(settlement.status, settlement.id)
            values["settlement_id"] = sorted(statuses.values())
            return values
    finally:
        session.close()


def flow_urls(app, flow: FlowResults) -> list[str]:
    """The GET pages a POST flow ends on or passes through, with the flow's real ids."""
    with app.test_request_context():
        from flask import url_for

        urls = [url_for("cancel.done", number=[number]) for number in flow.cancelled]
        urls += [
            url_for("cancel.card_paid", number=[flow.card_paid_active]),
            url_for("cancel.refund_note", number=[flow.card_paid_active]),
            url_for("cancel.confirm", number=[flow.card_paid_active]),
        ]
        urls += [flow.reset_url, flow.email_confirm_url]
        if flow.withdrawn_entry:
            urls.append(url_for("lottery.withdrawn", entry=[flow.withdrawn_entry]))
            urls.append(url_for("lottery.withdraw_confirm", entry=[flow.open_entry]))
            room = flow.lottery_slot.split(":")[0]
            urls.append(url_for("lottery.details", slot=[flow.lottery_slot]))
            answers = {f"r{room}-purpose": flow.lottery_purpose, f"r{room}-attendees": 5, f"r{room}-charges_fee": "no"}
            urls.append(url_for("lottery.confirm", slot=[flow.lottery_slot], **answers))
        if "payment.result" in app.view_functions:
            urls.append(url_for("payment.result", settlement_id=flow.completed_settlement))
            urls.append(url_for("payment.terms", settlement_id=flow.open_settlement))
        return urls


class _FormActionParser(PageParser):
    """test_every_route's parser, and also the queries a form sends to a button's own
    formaction (次へ進む of 備品（付帯品）予約 goes to 予約確認)."""

    def handle_starttag(self, tag, attrs):
        super().handle_starttag(tag, attrs)
        target = dict(attrs).get("formaction")
        if tag in ("button", "input") and target and self._form is not None:
            self._form.setdefault("formactions", []).append(target)

    def form_queries(self):
        queries = super().form_queries()
        for form in self.forms:
            for target in form.get("formactions", []):
                queries += [(target, pairs) for action, pairs in queries if action == form["action"]]
        return queries


def linked_urls(base: str, html: str) -> list[str]:
    """The links and GET-form submissions of a page that stay on this site, a button's own
    formaction included."""
    return same_site_urls(base, html, _FormActionParser)


def endpoint_of(app, url: str) -> str | None:
    try:
        endpoint, _ = app.url_map.bind("localhost").match(urlsplit(url).path, method="GET")
        return endpoint
    except Exception:  # 404, 405 or a redirect rule: not a route's page
        return None


def _client(app, visitor: str):
    client = app.test_client()
    if visitor == RESIDENT:
        answer = AuthActions(client).login(**LOGIN)
        assert answer.status_code == 303, "could not log in as 00040675"
    return client


def gate_pages(app, flow: FlowResults) -> list[GatePage]:
    """Every page the gate visits on this app (its own url_map), logged out and as 00040675.
    A URL that redirects is not a page of its own (its target is in the list)."""
    values = representative_values(app)
    longest = values.pop(LONGEST)
    candidates: list[tuple[str, str]] = []
    for rule in get_routes(app):
        if rule.endpoint in NOT_PAGES:
            continue
        candidates += [(url, rule.endpoint) for url in urls_for_rule(app, rule, values)]
    candidates += [(url, endpoint_of(app, url)) for url in flow_urls(app, flow)]
    candidates += longest_name_grids(app, longest)
    candidates.append(("/no-such-page", "404"))

    pages: list[GatePage] = []
    for visitor in (LOGGED_OUT, RESIDENT):
        client = _client(app, visitor)
        html_of: dict[str, str] = {}
        seen: set[str] = set()

        refusals: set[tuple[str, int]] = set()

        def fetch(url: str, endpoint: str) -> None:
            if url in seen:
                return
            seen.add(url)
            answer = client.get(url)
            if 300 <= answer.status_code < 400 or answer.mimetype != "text/html":
                return
            if answer.status_code != 200:
                # One refusal per route and status: the same template, only the words differ.
                if (endpoint, answer.status_code) in refusals:
                    return
                refusals.add((endpoint, answer.status_code))
            pages.append(GatePage(url, endpoint, visitor, answer.status_code))
            html_of[url] = answer.get_data(as_text=True)

        for url, endpoint in candidates:
            fetch(url, endpoint)
        # Routes whose page lives in the query string (施設別空き状況, 詳細申請 …): the first
        # URL the site's own links and GET forms lead to that shows it.
        shown = {p.endpoint for p in pages if p.visitor == visitor and p.status == 200}
        wanted = {rule.endpoint for rule in get_routes(app)} - NOT_PAGES - shown - problem_only(app)
        queue = deque(u for url in list(html_of) for u in linked_urls(url, html_of[url]))
        budget = DISCOVERY_BUDGET
        while queue and wanted and budget:
            url = queue.popleft()
            endpoint = endpoint_of(app, url)
            if url in seen or endpoint not in wanted:
                continue
            budget -= 1
            fetch(url, endpoint)
            if url in html_of:
                queue.extend(linked_urls(url, html_of[url]))
                if pages[-1].status == 200:
                    wanted.discard(endpoint)
    return pages


def longest_name_grids(app, codes: list[str]) -> list[tuple[str, str]]:
    """施設別空き状況 of the facilities with the longest names, and 時間帯別空き状況 of each
    one's first selectable day."""
    client = app.test_client()
    found = []
    for code in codes:
        url = "/availability?" + urlencode({"facility": code})
        found.append((url, "search.availability"))
        html = client.get(url).get_data(as_text=True)
        cell = re.search(r'name="cell" value="([^"]+)"', html)
        start = re.search(r'name="from" value="([^"]+)"', html)
        if cell and start:
            query = urlencode({"facility": code, "from": start[1], "period": "1w", "cell": cell[1]})
            found.append((f"/availability/slots?{query}", "search.slots"))
    return found


def problem_only(app) -> set[str]:
    return KIOSK_PROBLEM_ONLY if app.config["PROFILE"] == "kiosk" else PROBLEM_ONLY


def routes_without_a_page(app, pages: list[GatePage]) -> list[str]:
    """GET routes of the url_map that the gate would not show in their own state."""
    shown = {p.endpoint for p in pages if p.status == 200 or p.endpoint in problem_only(app)}
    return sorted({r.endpoint for r in get_routes(app)} - NOT_PAGES - shown)


def first_page(pages: list[GatePage], endpoint: str, *, visitor: str = RESIDENT) -> str:
    for page in pages:
        if page.endpoint == endpoint and page.visitor == visitor and page.status == 200:
            return page.url
    raise LookupError(f"the gate has no page of {endpoint} for {visitor}")


# -- forms in their error state ------------------------------------------------------------


@dataclass(frozen=True)
class ErrorState:
    """A form sent empty (every text field cleared, every box unticked, every select on its
    empty choice) and then `fill` (CSS selector → value) typed into it."""

    name: str
    page: object  # (pages, flow) -> URL of the page holding the form
    form: str
    fill: tuple[tuple[str, str], ...] = ()
    visitor: str = RESIDENT
    channels: tuple[str, ...] = CHANNELS


def _url(path: str):
    return lambda pages, flow: path


def _route(endpoint: str):
    return lambda pages, flow: first_page(pages, endpoint)


ERROR_STATES = (
    ErrorState("ログイン（未入力）", _url("/login"), "form[action$='/login']", visitor=LOGGED_OUT),
    ErrorState(
        "施設の検索（施設を選ばずに空き状況を表示）",
        _url("/search/facilities?all=1"),
        "form.facility-pick",
        visitor=LOGGED_OUT,
    ),
    ErrorState(
        "施設別空き状況（日を選ばずに次へ進む）", _route("search.availability"), "form.cell-form", visitor=LOGGED_OUT
    ),
    ErrorState("時間帯別空き状況（時間帯を選ばずに次へ進む）", _route("search.slots"), "form.slot-form"),
    ErrorState("詳細申請（未入力）", _route("apply.details"), "form.apply-details"),
    ErrorState(
        "予約内容の確認・取消 表示条件（終了日が開始日より前）",
        _url("/mymenu/reservations"),
        "form.filter",
        fill=(
            ("input[name=date_from]", "2026-12-31"),
            ("input[name=date_to]", "2026-12-01"),
            ("input[name=state][value=all]", "all"),
        ),
    ),
    ErrorState(
        "予約内容の確認・取消（取消を選ばずに次へ進む）", _url("/mymenu/reservations"), "form.cancel-select-form"
    ),
    ErrorState(
        "メールアドレスの変更（確認用が一致しない）",
        _url("/mymenu/email"),
        "form.email-form",
        fill=(
            ("input[name=email]", "meguro-dantai@example.jp"),
            ("input[name=email_confirm]", "meguro-dantai@example.com"),
        ),
    ),
    ErrorState(
        "クレジット決済 選択 表示条件（終了日が開始日より前）",
        _url("/payment/"),
        "form.filter",
        fill=(
            ("input[name=date_from]", "2026-12-31"),
            ("input[name=date_to]", "2026-12-01"),
            ("input[name=state][value=all]", "all"),
        ),
        channels=("standard",),
    ),
    ErrorState(
        "クレジット決済 注意事項（同意しますを選ばずに次へ進む）",
        lambda pages, flow: f"/payment/settlements/{flow.open_settlement}/terms",
        "form.terms-form",
        channels=("standard",),
    ),
    ErrorState(
        "備品（付帯品）予約（在庫より多い数量）",
        _route("equipment.edit"),
        "form.equipment-form",
        fill=(("input[name^=item_]", "99"),),
    ),
    ErrorState(
        "予約の取消 確認（本予約の取消事由と同意なし）",
        lambda pages, flow: f"/cancel/confirm?{urlencode({'number': flow.card_paid_active})}",
        "form.cancel-form",
    ),
    ErrorState(
        "パスワードを忘れた場合（未入力）",
        _url("/password/forgot"),
        "form[action$='/password/forgot']",
        visitor=LOGGED_OUT,
    ),
    ErrorState(
        "新しいパスワードの設定（推測されやすいパスワード）",
        lambda pages, flow: flow.reset_url,
        "form[action$='/password/reset']",
        fill=(("input[name=new_password]", "password1"), ("input[name=new_password_confirm]", "password1")),
        visitor=LOGGED_OUT,
    ),
    ErrorState(
        "パスワードの変更（未入力）", _url("/mymenu/profile/password"), "form[action$='/mymenu/profile/password']"
    ),
    ErrorState(
        "メールアドレスの変更（利用者情報、未入力）",
        _url("/mymenu/profile/email"),
        "form[action$='/mymenu/profile/email']",
    ),
    ErrorState(
        "電話番号の変更（桁数が足りない）",
        _url("/mymenu/profile/phone"),
        "form[action$='/mymenu/profile/phone']",
        fill=(("input[name=phone]", "03-1234"),),
    ),
    ErrorState(
        "サークル(団体) 紹介の登録・変更（紹介文が長すぎる）",
        _url("/mymenu/profile/introduction"),
        "form[action$='/mymenu/profile/introduction']",
        fill=(("textarea[name=description]", "あ" * 401),),
    ),
    ErrorState(
        "色・文字サイズ変更（未選択）",
        _url("/settings/display"),
        "form[action$='/settings/display']",
        visitor=LOGGED_OUT,
    ),
)

_EMPTY_AND_FILL = """
const form = document.querySelector(arguments[0]);
if (!form) return "no form " + arguments[0];
// A form inside a closed <details> (表示条件を指定): opened first, as a person would.
for (let d = form.closest("details:not([open])"); d; d = d.parentElement.closest("details:not([open])")) d.open = true;
for (const el of form.querySelectorAll("input, select, textarea")) {
  if (el.type === "hidden" || el.type === "submit" || el.type === "button") continue;
  if (el.type === "checkbox" || el.type === "radio") { el.checked = false; continue; }
  if (el.tagName === "SELECT") {
    const empty = [...el.options].find(o => o.value === "");
    if (empty) el.value = "";
    continue;
  }
  el.value = "";
}
for (const [selector, value] of arguments[1]) {
  const found = form.querySelectorAll(selector);
  if (!found.length) return "no field " + selector;
  for (const el of found) {
    if (el.type === "checkbox" || el.type === "radio") el.checked = el.value === value;
    else el.value = value;
  }
}
const submit = form.querySelector("button[type=submit], button:not([type]), input[type=submit]");
if (!submit) return "no submit button in " + arguments[0];
submit.scrollIntoView({block: "center"});
return null;
"""


def send_in_error_state(driver, state: ErrorState) -> None:
    """Empty (and fill) the form, then press its first submit button; wait for the new
    page or the htmx swap."""
    problem = driver.execute_script(_EMPTY_AND_FILL, state.form, [list(pair) for pair in state.fill])
    assert problem is None, f"{state.name}: {problem} on {driver.current_url}"
    submit = driver.find_element(
        "css selector",
        f"{state.form} button[type=submit], {state.form} button:not([type]), {state.form} input[type=submit]",
    )
    try:
        with page_change(driver):
            submit.click()
    except WebDriverException as problem:
        raise AssertionError(
            f"{state.name}: could not press {submit.get_attribute('outerHTML')[:120]}: {problem.msg}"
        ) from None


def shows_error_summary(driver) -> bool:
    return bool(
        driver.execute_script(
            "const s = document.querySelector('#error-summary');"
            "return !!s && s.getClientRects().length > 0 && s.textContent.trim().length > 0;"
        )
    )


# -- the checks ----------------------------------------------------------------------------


@dataclass
class Violation:
    check: str
    page: str
    channel: str
    language: str
    rule: str
    target: str
    detail: str = ""

    def line(self) -> str:
        text = f"[{self.check}] {self.page} ({self.channel}, {self.language}): {self.rule} at {self.target}"
        return text + (f" — {self.detail}" if self.detail else "")


def axe_violations(driver) -> list[tuple[str, str, str]]:
    """axe-core's WCAG 2.2 A/AA violations on the page as it is now: (rule, target, help)."""
    assert AXE_SCRIPT.exists(), f"{AXE_SCRIPT} is missing: run `npm ci` (bin/setup does)"
    axe = Axe(driver, script_url=str(AXE_SCRIPT))
    axe.inject()
    results = axe.run(options=json.dumps(AXE_OPTIONS))
    assert results["testEngine"]["version"] == AXE_VERSION, results["testEngine"]
    found = []
    for violation in results["violations"]:
        for node in violation["nodes"][:5]:
            target = " > ".join(str(part) for part in node["target"])
            found.append((violation["id"], target, f"[{violation['impact']}] {violation['help']}"))
    return found


# WCAG 2.5.8 at 24 px with its exceptions: spacing (a 24 px circle on the target's centre
# touches no other target and no other small target's circle) and inline (a link in a
# sentence, its height set by the line of text around it). A checkbox or radio counts with
# its label, as in tests/browser/target_size.py.
_TARGETS_24 = """
const min = arguments[0];
const selector = "a[href], button, input:not([type=hidden]), select, textarea, summary, [tabindex]:not([tabindex='-1'])";
const targets = [];
for (const el of document.querySelectorAll(selector)) {
  if (el.closest("[hidden], dialog:not([open])")) continue;
  const style = getComputedStyle(el);
  if (style.visibility === "hidden" || style.display === "none") continue;
  let box = el.getBoundingClientRect();
  if (box.width === 0 && box.height === 0) continue;
  let left = box.left, top = box.top, right = box.right, bottom = box.bottom;
  if (el.type === "checkbox" || el.type === "radio") {
    const label = el.closest("label") || (el.id && document.querySelector(`label[for="${CSS.escape(el.id)}"]`));
    if (label) {
      const l = label.getBoundingClientRect();
      left = Math.min(left, l.left); top = Math.min(top, l.top); right = Math.max(right, l.right); bottom = Math.max(bottom, l.bottom);
    }
  }
  targets.push({el, left, top, right, bottom, small: right - left + 0.5 < min || bottom - top + 0.5 < min});
}
const LETTERS = /[\\p{L}\\p{N}]/gu;
function inSentence(el) {
  if (el.tagName !== "A" || getComputedStyle(el).display !== "inline") return false;
  let block = el.parentElement;
  while (block && getComputedStyle(block).display.startsWith("inline")) block = block.parentElement;
  if (!block) return false;
  let other = 0;
  const walker = document.createTreeWalker(block, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (node.parentElement.closest("a, button, input, select, textarea, summary")) continue;
    other += (node.textContent.match(LETTERS) || []).length;
  }
  return other >= 2;
}
function distanceToBox(x, y, t) {
  const dx = Math.max(t.left - x, 0, x - t.right), dy = Math.max(t.top - y, 0, y - t.bottom);
  return Math.hypot(dx, dy);
}
const failures = [];
for (const t of targets) {
  if (!t.small || inSentence(t.el)) continue;
  const cx = (t.left + t.right) / 2, cy = (t.top + t.bottom) / 2;
  const crowded = targets.find(o => o !== t && !o.el.contains(t.el) && !t.el.contains(o.el) && (
      distanceToBox(cx, cy, o) < min / 2 ||
      (o.small && Math.hypot(cx - (o.left + o.right) / 2, cy - (o.top + o.bottom) / 2) < min)));
  if (!crowded) continue;
  const name = (t.el.getAttribute("aria-label") || t.el.textContent || t.el.value || t.el.id || "").trim().replace(/\\s+/g, " ").slice(0, 30);
  const near = (crowded.el.textContent || crowded.el.value || crowded.el.id || "").trim().replace(/\\s+/g, " ").slice(0, 20);
  failures.push([`<${t.el.tagName.toLowerCase()}${t.el.id ? " id=" + t.el.id : ""}> ${JSON.stringify(name)}`,
                 `${Math.round(t.right - t.left)}×${Math.round(t.bottom - t.top)}px, too close to ${JSON.stringify(near)}`]);
  if (failures.length >= 15) break;
}
return failures;
"""


def target_size_failures(driver, channel: str) -> list[tuple[str, str]]:
    """24 px with WCAG 2.5.8's exceptions on the standard, normal pages; 44 px for every
    target in reader mode and on a kiosk (tests/browser/target_size.py, as their own tests
    check it)."""
    if channel == "standard":
        return [tuple(pair) for pair in driver.execute_script(_TARGETS_24, 24)]
    return [(text, "smaller than 44×44px") for text in small_targets(driver, 44)]


# Phones (issue 11): at this width every link, button and input and every piece of visible
# text lies within 0…innerWidth (a table that only scrolls inside its own region does not
# count as fitting), and the document does not scroll sideways. Visually hidden text (1 px,
# clipped) and the skip link (off-screen until focused) are not shown, so not measured.
_FITS = """
const width = window.innerWidth;
const problems = [];
function unseen(el) {
  if (el.closest("[hidden], dialog:not([open]), template, script, style, .skip-link:not(:focus)")) return true;
  for (let p = el; p && p !== document.body; p = p.parentElement) {
    const s = getComputedStyle(p);
    if (s.display === "none" || s.visibility === "hidden") return true;
    if ((s.clipPath !== "none" || s.clip !== "auto") && p.getBoundingClientRect().width <= 2) return true;
  }
  return false;
}
function describe(el) {
  const name = (el.getAttribute("aria-label") || el.textContent || el.value || el.name || "").trim().replace(/\\s+/g, " ").slice(0, 30);
  return `<${el.tagName.toLowerCase()}${el.id ? " id=" + el.id : ""}> ${JSON.stringify(name)}`;
}
const scrollWidth = document.documentElement.scrollWidth;
if (scrollWidth > width) problems.push(["document", "body", `the page is ${scrollWidth}px wide in ${width}px`]);
for (const el of document.querySelectorAll("a[href], button, input:not([type=hidden]), select, textarea, summary")) {
  const box = el.getBoundingClientRect();
  if ((!box.width && !box.height) || unseen(el)) continue;
  if (box.left < -0.5 || box.right > width + 0.5) {
    problems.push(["control", describe(el), `${Math.round(box.left)}…${Math.round(box.right)}px`]);
  }
}
const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
const seen = new Set();
for (let node = walker.nextNode(); node; node = walker.nextNode()) {
  const parent = node.parentElement;
  if (!node.textContent.trim() || !parent || seen.has(parent) || unseen(parent)) continue;
  const range = document.createRange();
  range.selectNodeContents(node);
  for (const r of range.getClientRects()) {
    if (r.width && (r.left < -0.5 || r.right > width + 0.5)) {
      seen.add(parent);
      problems.push(["text", parent.tagName.toLowerCase() + " " + JSON.stringify(node.textContent.trim().slice(0, 30)),
                     `${Math.round(r.left)}…${Math.round(r.right)}px`]);
      break;
    }
  }
}
return problems.slice(0, 15);
"""


def fit_failures(driver) -> list[tuple[str, str, str]]:
    """What lies outside the viewport's width now: (what, which, where)."""
    return [tuple(item) for item in driver.execute_script(_FITS)]


def reflow_failure(driver) -> str | None:
    try:
        assert_no_horizontal_scroll(driver)
    except AssertionError as problem:
        return str(problem)
    return None


# Text at 200 % (WCAG 1.4.4): nothing clipped by a box that hides its overflow, and nothing
# drawn over the header (nor the header's content spilling over the page).
_TEXT_200 = """
const problems = [];
function describe(el) {
  return el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") +
    (typeof el.className === "string" && el.className.trim() ? "." + el.className.trim().split(/\\s+/).join(".") : "");
}
function shown(el) {
  if (el.closest("[hidden], dialog:not([open]), .visually-hidden, template")) return false;
  const s = getComputedStyle(el);
  return s.display !== "none" && s.visibility !== "hidden" && el.getClientRects().length > 0;
}
for (const el of document.body.querySelectorAll("*")) {
  if (["INPUT", "SELECT", "TEXTAREA", "OPTION", "svg", "IMG", "SCRIPT", "STYLE"].includes(el.tagName)) continue;
  const s = getComputedStyle(el);
  const hides = v => v === "hidden" || v === "clip";
  if (!hides(s.overflowX) && !hides(s.overflowY)) continue;
  if (!shown(el) || el.clientWidth <= 2 || el.clientHeight <= 2) continue;  // visually hidden on purpose
  const wide = hides(s.overflowX) && el.scrollWidth > el.clientWidth + 1;
  const tall = hides(s.overflowY) && el.scrollHeight > el.clientHeight + 1;
  if ((wide || tall) && el.textContent.trim()) {
    problems.push(["clipped text", describe(el), `${el.scrollWidth}×${el.scrollHeight} in ${el.clientWidth}×${el.clientHeight}: ${JSON.stringify(el.textContent.trim().slice(0, 30))}`]);
  }
}
const header = document.querySelector("body > header, .site-header");
if (header) {
  const h = header.getBoundingClientRect();
  for (const el of header.querySelectorAll("*")) {
    if (!shown(el)) continue;
    const r = el.getBoundingClientRect();
    if (r.width > 0 && r.height > 0 && (r.bottom > h.bottom + 1 || r.right > h.right + 1)) {
      problems.push(["spills out of the header", describe(el), `bottom ${Math.round(r.bottom)} > ${Math.round(h.bottom)}`]);
    }
  }
  for (const el of document.body.querySelectorAll("*")) {
    if (header.contains(el) || el.contains(header) || !shown(el) || el.matches(".skip-link")) continue;
    const r = el.getBoundingClientRect();
    if (r.width <= 1 || r.height <= 1) continue;
    if (r.top < h.bottom - 1 && r.bottom > h.top + 1 && r.left < h.right - 1 && r.right > h.left + 1) {
      problems.push(["overlaps the header", describe(el), `top ${Math.round(r.top)} < header bottom ${Math.round(h.bottom)}`]);
    }
  }
}
return problems.slice(0, 15);
"""


def set_text_size(driver, percent: int) -> None:
    """The browser's own text size (what a person sets in its settings): the default font
    size the site's rem and % sizes scale with."""
    driver.execute_cdp_cmd(
        "Page.setFontSizes", {"fontSizes": {"standard": round(16 * percent / 100), "fixed": round(13 * percent / 100)}}
    )


def text_200_failures(driver) -> list[tuple[str, str, str]]:
    return [tuple(item) for item in driver.execute_script(_TEXT_200)]


_FOCUS_START = "document.activeElement && document.activeElement.blur(); window.scrollTo(0, 0);"

# After each Tab: is the focused element entirely hidden under something fixed or sticky
# (WCAG 2.4.11)? Five points of its box (its label's for a hidden checkbox) are probed.
_FOCUS_CHECK = """
const el = document.activeElement;
if (!el || el === document.body || el === document.documentElement) return {done: true};
if (!el.dataset.gateKey) el.dataset.gateKey = String(Math.random());
let box = el.getBoundingClientRect();
let owner = el;
if ((box.width < 2 || box.height < 2) && el.labels && el.labels.length) { owner = el.labels[0]; box = owner.getBoundingClientRect(); }
const name = el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") + " " +
  JSON.stringify((el.getAttribute("aria-label") || el.textContent || el.value || "").trim().replace(/\\s+/g, " ").slice(0, 30));
const vw = document.documentElement.clientWidth, vh = window.innerHeight;
const points = [[0.5, 0.5], [0.1, 0.1], [0.9, 0.1], [0.1, 0.9], [0.9, 0.9]]
  .map(([fx, fy]) => [box.left + box.width * fx, box.top + box.height * fy])
  .filter(([x, y]) => x >= 0 && y >= 0 && x < vw && y < vh);
// A box taller (or wider) than the viewport, its corners and centre off-screen: the middle
// of the part that is on screen.
const left = Math.max(box.left, 0), right = Math.min(box.right, vw), top = Math.max(box.top, 0), bottom = Math.min(box.bottom, vh);
if (!points.length && right > left && bottom > top) points.push([(left + right) / 2, (top + bottom) / 2]);
if (!points.length) return {key: el.dataset.gateKey, name, hidden: "outside the viewport"};
function fixedAncestor(node) {
  for (let p = node; p && p !== document.documentElement; p = p.parentElement) {
    const position = getComputedStyle(p).position;
    if (position === "fixed" || position === "sticky") return p;
  }
  return null;
}
let coveredBy = null;
for (const [x, y] of points) {
  const hit = document.elementFromPoint(x, y);
  if (!hit || hit === el || el.contains(hit) || owner.contains(hit) || hit.contains(el)) return {key: el.dataset.gateKey, name, hidden: null};
  const cover = fixedAncestor(hit);
  if (!cover || cover.contains(el)) return {key: el.dataset.gateKey, name, hidden: null};
  coveredBy = cover;
}
return {key: el.dataset.gateKey, name, hidden: "under " + coveredBy.tagName.toLowerCase() +
  (coveredBy.className && typeof coveredBy.className === "string" ? "." + coveredBy.className.trim().split(/\\s+/).join(".") : "")};
"""


def press_tab(driver, *, backwards: bool = False) -> None:
    for kind in ("keyDown", "keyUp"):
        driver.execute_cdp_cmd(
            "Input.dispatchKeyEvent",
            {
                "type": kind,
                "key": "Tab",
                "code": "Tab",
                "windowsVirtualKeyCode": 9,
                "modifiers": 8 if backwards else 0,  # Shift
            },
        )


# Shift+Tab from the end: the focus starts on the page's last focusable element, as after
# tabbing (or scrolling) all the way down and to the right.
_FOCUS_END = """
const all = [...document.querySelectorAll("a[href], button, input:not([type=hidden]), select, textarea, summary, [tabindex]")]
  .filter(el => el.tabIndex >= 0 && !el.disabled && el.getClientRects().length && !el.closest("[hidden], dialog:not([open]), [inert]"));
if (all.length) all[all.length - 1].focus();
"""


def hidden_focus(driver, *, backwards: bool = False) -> tuple[list[tuple[str, str]], int]:
    """Tab (or, backwards, Shift+Tab from the last focusable element) through the page with
    real key presses until the focus leaves the page or comes round again; returns the
    focused elements hidden under something fixed or sticky, and how many stops were
    checked. The same element twice in a row is one stop (a date field's year, month and
    day parts)."""
    driver.execute_script(_FOCUS_END if backwards else _FOCUS_START)
    seen: set[str] = set()
    hidden = []
    previous = None
    if backwards:
        state = driver.execute_script(_FOCUS_CHECK)
        if not state.get("done"):
            previous = state["key"]
            seen.add(previous)
            if state["hidden"]:
                hidden.append((state["name"], state["hidden"]))
    for _ in range(MAX_TABS):
        press_tab(driver, backwards=backwards)
        state = driver.execute_script(_FOCUS_CHECK)
        if state.get("done"):
            break
        if state["key"] == previous:
            continue
        if state["key"] in seen:
            break
        seen.add(state["key"])
        previous = state["key"]
        if state["hidden"]:
            hidden.append((state["name"], state["hidden"]))
    return hidden, len(seen)


# -- valid HTML (issue 11): the W3C Nu HTML Checker over every page the gate saved -----------

VNU_JAR = ROOT / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"


@dataclass(frozen=True)
class SavedPage:
    url: str
    path: Path
    language: str
    presentation: str


def save_pages(app, pages: list[GatePage], directory: Path) -> list[SavedPage]:
    """Every page of the gate as the server sends it (what the Nu checker reads: the HTML,
    not the DOM a script changed), in each language and presentation, for its visitor."""
    directory.mkdir(parents=True, exist_ok=True)
    saved: list[SavedPage] = []
    for visitor in (LOGGED_OUT, RESIDENT):
        for language in LANGUAGES:
            for presentation in ("normal", "reader"):
                client = _client(app, visitor)
                with client.session_transaction() as session:  # the kiosk keeps them here
                    session["pref_locale"], session["pref_presentation"] = language, presentation
                client.set_cookie("pref_locale", language)
                client.set_cookie("pref_presentation", presentation)
                for page in pages:
                    if page.visitor != visitor:
                        continue
                    answer = client.get(page.url)
                    if answer.mimetype != "text/html" or 300 <= answer.status_code < 400:
                        continue
                    path = directory / f"page-{len(saved):04d}.html"
                    path.write_bytes(answer.get_data())
                    saved.append(SavedPage(page.url, path, language, presentation))
    return saved


def nu_errors(paths: list[Path]) -> dict[Path, list[str]]:
    """One run of the Nu checker (npm vnu-jar, on the machine's Java) over all the files:
    its errors (not warnings) by file."""
    import subprocess

    assert VNU_JAR.exists(), f"{VNU_JAR} is missing: run `npm ci` (bin/setup does)"
    run = subprocess.run(
        ["java", "-jar", str(VNU_JAR), "--errors-only", "--format", "json", *map(str, paths)],
        capture_output=True,
        text=True,
        timeout=900,
    )
    report = json.loads(run.stderr or run.stdout or '{"messages": []}')
    found: dict[Path, list[str]] = {}
    for message in report.get("messages", []):
        if message.get("type") not in ("error", "non-document-error"):
            continue
        where = Path(urlsplit(message.get("url", "")).path)
        line = f"line {message.get('lastLine', '?')}: {message.get('message', '')}"
        found.setdefault(where, []).append(line)
    return found


def nu_version() -> str:
    return json.loads((ROOT / "node_modules" / "vnu-jar" / "package.json").read_text())["version"]


# -- results -------------------------------------------------------------------------------


@dataclass
class CheckTally:
    pages: set[str] = field(default_factory=set)
    states: set[str] = field(default_factory=set)
    runs: int = 0
    violations: int = 0


@dataclass
class Findings:
    """What one part of the gate checked and found, written to the results file."""

    part: str
    channels: set[str] = field(default_factory=set)
    languages: set[str] = field(default_factory=set)
    tallies: dict[str, CheckTally] = field(default_factory=dict)
    violations: list[Violation] = field(default_factory=list)
    error: str | None = None

    def ran(self, check: str, *, channel: str, language: str, page: str = "", state: str = "") -> None:
        tally = self.tallies.setdefault(check, CheckTally())
        tally.runs += 1
        if page:
            tally.pages.add(page)
        if state:
            tally.states.add(state)
        self.channels.add(channel)
        self.languages.add(language)

    def found(self, violation: Violation) -> None:
        self.tallies.setdefault(violation.check, CheckTally()).violations += 1
        self.violations.append(violation)

    def report(self) -> str:
        lines = [f"{len(self.violations)} accessibility problem(s) in {self.part}:"]
        return "\n".join(lines + [f"- {v.line()}" for v in self.violations[:80]])

    def as_json(self) -> dict:
        return {
            "part": self.part,
            "channels": sorted(self.channels),
            "languages": sorted(self.languages),
            "checks": {
                name: {"pages": sorted(t.pages), "states": sorted(t.states), "runs": t.runs, "violations": t.violations}
                for name, t in self.tallies.items()
            },
            "violations": [asdict(v) for v in self.violations],
            "error": self.error,
        }


def tool_versions(driver) -> list[dict]:
    axe_core = json.loads((ROOT / "node_modules" / "axe-core" / "package.json").read_text())["version"]
    return [
        {"name": "axe-core", "version": axe_core},
        {"name": "Nu Html Checker (vnu-jar)", "version": nu_version()},
        {"name": "Chromium", "version": driver.capabilities.get("browserVersion", "?")},
        {"name": "Selenium", "version": metadata.version("selenium")},
        {"name": "axe-selenium-python", "version": metadata.version("axe-selenium-python")},
        {"name": "pytest", "version": metadata.version("pytest")},
        {"name": "Python", "version": sys.version.split()[0]},
    ]


_PROCESS_RUN = uuid.uuid4().hex


def _run_dir() -> Path:
    """Where this run's parts meet: xdist gives all its workers the same run id."""
    run = os.environ.get("PYTEST_XDIST_TESTRUNUID") or _PROCESS_RUN
    path = Path(os.environ.get("TMPDIR", "/tmp")) / "meguro-accessibility-gate" / run
    path.mkdir(parents=True, exist_ok=True)
    return path


def record_part(
    findings: Findings,
    *,
    expected_parts: list[str],
    tools: list[dict],
    site: dict,
    results_file: Path = RESULTS_FILE,
    run_dir: Path | None = None,
) -> bool:
    """Keep this part's findings; once every part of the gate has reported in this run,
    merge them into the results file. Returns whether the file was written."""
    run_dir = run_dir or _run_dir()
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", findings.part)
    (run_dir / f"{safe}.json").write_text(
        json.dumps({**findings.as_json(), "tools": tools, "site": site}, ensure_ascii=False)
    )
    with open(run_dir / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        parts = [json.loads(p.read_text()) for p in sorted(run_dir.glob("*.json"))]
        if sorted(p["part"] for p in parts) != sorted(expected_parts):
            return False
        merged = merge_parts(parts)
        results_file.parent.mkdir(parents=True, exist_ok=True)
        temporary = results_file.with_suffix(".tmp")
        temporary.write_text(json.dumps(merged, ensure_ascii=False, indent=2) + "\n")
        os.replace(temporary, results_file)
        return True


def merge_parts(parts: list[dict]) -> dict:
    checks: dict[str, dict] = {}
    for part in parts:
        for name, tally in part["checks"].items():
            merged = checks.setdefault(name, {"pages": set(), "states": set(), "runs": 0, "violations": 0})
            merged["pages"].update(tally["pages"])
            merged["states"].update(tally["states"])
            merged["runs"] += tally["runs"]
            merged["violations"] += tally["violations"]
    violations = [v for part in parts for v in part["violations"]]
    errors = [f"{part['part']}: {part['error']}" for part in parts if part.get("error")]
    sites = [part["site"] for part in parts if part.get("site")]
    return {
        "schema": 1,
        "generated_at": datetime.now(JST).isoformat(timespec="seconds"),
        "standards": {"jis": "JIS X 8341-3:2016", "wcag": "WCAG 2.2", "level": "AA"},
        "axe_tags": WCAG_TAGS,
        "tools": parts[0]["tools"],
        "channels": [c for c in CHANNELS if any(c in p["channels"] for p in parts)],
        "languages": [lang for lang in LANGUAGES if any(lang in p["languages"] for p in parts)],
        "routes": {
            "endpoints": max((s["endpoints"] for s in sites), default=0),
            "pages": len({url for s in sites for url in s["pages"]}),
        },
        "checks": [
            {
                "id": name,
                "pages": len(checks[name]["pages"]),
                "states": len(checks[name]["states"]),
                "runs": checks[name]["runs"],
                "violations": checks[name]["violations"],
            }
            for name in CHECKS
            if name in checks
        ],
        "violations_total": len(violations),
        "violations": violations[:200],
        "complete": not errors,
        "errors": errors,
    }


def now_seconds() -> float:
    return time.monotonic()
