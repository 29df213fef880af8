"""施設の検索 → 施設別空き状況 → 時間帯別空き状況, as a resident sees them: the facility
list, the day grid and the time bands, as pages and as htmx fragments, in reader mode, and
with bad input. The clock is frozen at Wednesday 2026-11-25 10:00 JST (tests/conftest.py)."""

from __future__ import annotations

import re
from datetime import date, timedelta
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import event, select

from blueprints.apply.operations import RoomAnswers, apply_for_slots
from bookings.slots import SlotRef
from models.account import Resident
from models.facility import Room
from tests.conftest import HTMX_HEADERS, csrf_token_from, frozen_now
from tests.pages import text

# Demo rooms (demo/catalogue.py), by their ids in the seeded database.
KOMABA_201 = 1  # 駒場住区センター (013)
KOMABA_202 = 2


# What the resident sees ---------------------------------------------------------------


class _Tables(HTMLParser):
    """Each table as {caption, head: [column texts], rows: [(row header, [cell texts])]}, with
    the text a sighted resident sees."""

    def __init__(self):
        super().__init__()
        self.tables, self._text, self._hidden = [], None, False

    def handle_starttag(self, tag, attrs):
        if "visually-hidden" in (dict(attrs).get("class") or ""):
            self._hidden = True  # seen by screen readers only (a span without children)
        elif tag == "table":
            self.tables.append({"caption": "", "head": [], "rows": []})
        elif tag in ("caption", "th", "td"):
            self._text = []
        elif tag == "tr" and self.tables:
            self._row = []

    def handle_data(self, data):
        if self._text is not None and not self._hidden:
            self._text.append(data)

    def handle_endtag(self, tag):
        if self._hidden:
            self._hidden = tag != "span"
            return
        if tag in ("caption", "th", "td") and self._text is not None:
            text = re.sub(r"\s+", " ", "".join(self._text)).strip()
            table = self.tables[-1]
            if tag == "caption":
                table["caption"] = text
            else:
                self._row.append(text)
            self._text = None
        elif tag == "tr" and self.tables:
            table = self.tables[-1]
            if not table["head"]:
                table["head"] = self._row
            else:
                table["rows"].append((self._row[0], self._row[1:]))


def tables(html: str) -> list[dict]:
    parser = _Tables()
    parser.feed(html)
    return parser.tables


def cell_text(html: str, caption: str, row: str, column: str) -> str:
    """The text of one grid cell, found by caption, row header start and column header."""
    table = next(t for t in tables(html) if t["caption"].startswith(caption))
    index = table["head"].index(column) - 1
    return next(cells[index] for header, cells in table["rows"] if header.startswith(row))


def label_of(html: str, control_id: str) -> str:
    """The accessible name a <label for=…> gives a control, as text."""
    match = re.search(rf'<label[^>]*for="{re.escape(control_id)}"[^>]*>(.*?)</label>', html, re.S)
    assert match, f"no label for {control_id}"
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", match.group(1))).strip()


def choice_label(html: str, name: str, value: str) -> str:
    """The accessible name of the checkbox `name`=`value`: its <label for=…>, or the label
    around it (施設別空き状況's cells), as text."""
    tag = checkbox(html, name, value)
    assert tag, f"no checkbox {name}={value}"
    box = re.search(r'id="([^"]+)"', tag)
    if box and re.search(rf'<label[^>]*for="{re.escape(box.group(1))}"', html):
        return label_of(html, box.group(1))
    at = html.index(tag)
    start = html.rindex("<label", 0, at)
    end = html.index("</label>", at)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", html[start:end])).strip()


def checkbox(html: str, name: str, value: str) -> str | None:
    """The <input> tag of one checkbox, or None when the page offers none."""
    match = re.search(rf'<input type="checkbox" name="{name}" value="{re.escape(value)}"[^>]*>', html)
    return match.group(0) if match else None


def checkbox_id(html: str, name: str, value: str) -> str:
    tag = checkbox(html, name, value)
    assert tag, f"no checkbox {name}={value}"
    return re.search(r'id="([^"]+)"', tag).group(1)


def error_summary(html: str) -> str:
    match = re.search(r'<div class="error-summary".*?</div>', html, re.S)
    assert match, "no error summary"
    return match.group(0)


def use_reader_mode(client):
    token = csrf_token_from(text(client.get("/settings/display")))
    client.post("/settings/reader", data={"csrf_token": token, "presentation": "reader", "next": "/"})


def assert_page_and_fragment(client, url, fragment_id):
    page, fragment = client.get(url), client.get(url, headers=HTMX_HEADERS)
    assert page.status_code == fragment.status_code
    assert "HX-Request" in page.headers["Vary"] and "HX-Request" in fragment.headers["Vary"]
    assert "<html" in text(page) and f'id="{fragment_id}"' in text(page)
    body = text(fragment)
    assert "<html" not in body and "<title>" in body
    assert body.lstrip().startswith("<title>")
    assert f'id="{fragment_id}"' in body and 'class="site-header"' not in body
    return page, fragment


# 施設の検索 ----------------------------------------------------------------------------


def test_a_category_lists_its_facilities_with_address_and_rooms(client):
    response = client.get("/search/facilities?category=community")
    assert response.status_code == 200
    page = text(response)
    assert "駒場住区センター" in page and "中目黒住区センター" in page
    assert "区民センター社会教育館" not in page
    assert "東京都目黒区駒場一丁目22番1号" in page
    assert "201【旧第1会議室】（定員 30人）" in page
    assert checkbox(page, "facility", "013") and checkbox(page, "facility", "014")
    assert 'action="/availability"' in page and "空き状況を表示" in page
    assert "カテゴリ「住区会議室」の施設: 2件" in page


@pytest.mark.parametrize(
    ("query", "shown", "not_shown"),
    [
        ("purpose=ballgame", ["目黒区民センター体育館"], ["駒場住区センター"]),
        ("room_type=japanese", ["駒場住区センター", "東山いこいの家"], ["中小企業センター"]),
        ("kana=か", ["駒場住区センター", "区民センター社会教育館"], ["中目黒住区センター", "東山いこいの家"]),
        ("category=sports", ["目黒区民センター体育館"], ["駒場住区センター"]),  # sports facilities appear too
        ("category=community&kana=な", ["中目黒住区センター"], ["駒場住区センター"]),  # criteria combine
        (
            "all=1",
            [
                "駒場住区センター",
                "区民センター社会教育館",
                "中目黒住区センター",
                "中小企業センター",
                "東山いこいの家",
                "目黒区民センター体育館",
            ],
            [],
        ),
    ],
)
def test_each_way_to_search_lists_the_matching_facilities(client, query, shown, not_shown):
    page = text(client.get(f"/search/facilities?{query}"))
    results = page[page.index('id="facility-results"') :]
    for name in shown:
        assert name in results
    for name in not_shown:
        assert name not in results


def test_a_criterion_that_matches_nothing_says_so(client):
    page = text(client.get("/search/facilities?category=school"))
    assert "条件に合う施設はありません。" in page
    assert 'name="facility"' not in page


def test_the_filter_form_updates_the_results_in_place_and_works_without_javascript(client):
    page = text(client.get("/search/facilities?all=1"))
    form = re.search(r'<form method="get" action="/search/facilities"[^>]*>', page).group(0)
    assert (
        'data-hx-get="/search/facilities"' in form
        and 'data-hx-target="#facility-results"' in form
        and 'data-hx-push-url="true"' in form
    )
    for label in ("カテゴリ", "使用目的", "施設種類", "施設名の行"):
        assert f">{label}</label>" in page
    assert '<button type="submit" class="button secondary">絞り込む</button>' in page
    # The select keeps the current choice after a plain GET.
    page = text(client.get("/search/facilities?kana=か"))
    assert '<option selected value="か">か行</option>' in page


def test_facility_list_as_page_and_as_fragment(client):
    _page, fragment = assert_page_and_fragment(client, "/search/facilities?kana=か", "facility-results")
    assert "施設名の行「か行」の施設: 2件" in text(fragment)
    assert 'data-announce="2件の施設が見つかりました。"' in text(fragment)


def test_the_breadcrumb_shows_the_guides_steps(client):
    page = text(client.get("/search/facilities?all=1"))
    crumb = re.search(r'<nav class="breadcrumb".*?</nav>', page, re.S).group(0)
    steps = re.findall(r"<li>(?:<a[^>]*>|<span[^>]*>)([^<]+)", crumb)
    assert steps == ["メニュー", "施設の検索", "施設別空き状況", "時間帯別空き状況", "詳細申請", "申込確認", "申込完了"]
    assert '<span aria-current="step">施設の検索</span>' in crumb


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("category=nope", "カテゴリは一覧から選択してください。"),
        ("purpose=%27%20OR%201%3D1%20--", "使用目的は一覧から選択してください。"),
        ("room_type=%00", "施設種類は一覧から選択してください。"),
        ("kana=ん", "施設名の行は一覧から選択してください。"),
        ("kana=abc", "施設名の行は一覧から選択してください。"),
    ],
)
def test_unknown_search_codes_get_a_clear_message(client, query, message):
    response = client.get(f"/search/facilities?{query}")
    assert response.status_code == 422
    page = text(response)
    assert "<title>エラー: 施設の検索" in page
    assert message in error_summary(page)
    assert 'name="facility"' not in page
    fragment = client.get(f"/search/facilities?{query}", headers=HTMX_HEADERS)
    assert fragment.status_code == 422 and message in error_summary(text(fragment))


def test_facilities_chosen_before_are_ticked_again(client):
    page = text(client.get("/search/facilities?all=1&facility=013&facility=039"))
    assert "checked" in checkbox(page, "facility", "013") and "checked" in checkbox(page, "facility", "039")
    assert "checked" not in checkbox(page, "facility", "014")


def test_showing_availability_with_no_facility_ticked_asks_for_one_on_the_same_list(client):
    response = client.get("/availability?category=community")
    assert response.status_code == 422
    page = text(response)
    assert "<title>エラー: 施設の検索" in page
    summary = error_summary(page)
    assert '<a href="#facility">施設を選択してください。</a>' in summary
    # The link leads to the first checkbox of the same list.
    assert checkbox_id(page, "facility", "013") == "facility"
    assert "中目黒住区センター" in page and "区民センター社会教育館" not in page


# 施設別空き状況 -------------------------------------------------------------------------


def test_the_day_grid_starts_tomorrow_for_one_week_by_default(client):
    response = client.get("/availability?facility=013")
    assert response.status_code == 200
    page = text(response)
    (table,) = tables(page)
    assert table["caption"] == "駒場住区センター"
    assert table["head"] == [
        "室場",
        "11/26(木)",
        "11/27(金)",
        "11/28(土)",
        "11/29(日)",
        "11/30(月)",
        "12/1(火)",
        "12/2(水)",
    ]
    assert [header for header, _cells in table["rows"]] == [
        "201【旧第1会議室】 定員 30人",
        "202【旧第2会議室】 定員 18人",
        "和室 定員 15人",
    ]
    assert "表示期間: 2026年11月26日(木)～2026年12月2日(水)" in page
    assert re.search(r'<input checked id="period-0" name="period" type="radio" value="1w">', page)
    assert 'name="from" type="date" value="2026-11-26"' in page


def test_the_grid_scrolls_inside_its_own_labelled_focusable_region(client):
    page = text(client.get("/availability?facility=013&facility=039"))
    regions = re.findall(r'<div class="table-scroll cards" role="region" aria-labelledby="([^"]+)" tabindex="0">', page)
    assert regions == ["grid-013", "grid-039"]
    assert '<caption id="grid-013">駒場住区センター</caption>' in page
    assert '<caption id="grid-039">区民センター社会教育館</caption>' in page


def test_day_grid_as_page_and_as_fragment(client):
    _page, fragment = assert_page_and_fragment(
        client, "/availability?facility=013&from=2026-12-10&period=2w", "availability"
    )
    body = text(fragment)
    assert 'data-announce="表示期間: 2026年12月10日(木)～2026年12月23日(水)"' in body
    assert "data-focus-on-swap" in body


@pytest.mark.parametrize(
    ("facility", "day", "column", "caption", "room"),
    [
        ("013", "2026-12-14", "12/14(月)", "駒場住区センター", "201【旧第1会議室】"),  # 2nd Monday
        ("013", "2026-12-28", "12/28(月)", "駒場住区センター", "201【旧第1会議室】"),  # 4th Monday
        ("039", "2026-12-29", "12/29(火)", "区民センター社会教育館", "702【旧第2研修室】"),  # year end
        ("051", "2027-01-03", "1/3(日)", "中小企業センター", "ホール"),
        ("081", "2026-11-29", "11/29(日)", "東山いこいの家", "大広間"),  # Sundays
        ("061", "2026-11-26", "11/26(木)", "目黒区民センター体育館", "競技場A面"),  # Thursdays
    ],
)
def test_closed_days_show_the_closed_status_in_words_and_cannot_be_chosen(client, facility, day, column, caption, room):
    page = text(client.get(f"/availability?facility={facility}&from={day}"))
    assert "休館日" in cell_text(page, caption, room, column)
    assert not re.search(rf'name="cell" value="\d+:{day}"', page)


def test_an_open_day_next_to_a_closed_one_can_be_chosen(client):
    page = text(client.get("/availability?facility=013&from=2026-12-14"))
    assert "休館日" in cell_text(page, "駒場住区センター", "201", "12/14(月)")
    assert cell_text(page, "駒場住区センター", "201", "12/15(火)") == "○空き"
    assert checkbox(page, "cell", f"{KOMABA_201}:2026-12-15") is not None


def test_a_day_with_one_booked_band_is_partly_free(client):
    # 201【旧第1会議室】 has a 仮予約 for 12:30~15:00 on Thursday 3 December.
    page = text(client.get("/availability?facility=013&from=2026-12-01"))
    assert "一部空き" in cell_text(page, "駒場住区センター", "201", "12/3(木)")
    assert cell_text(page, "駒場住区センター", "202", "12/3(木)").lstrip("○ ") == "空き"
    assert choice_label(page, "cell", f"{KOMABA_201}:2026-12-03") == "201【旧第1会議室】 2026年12月3日(木) △一部空き"


def test_a_cancelled_booking_leaves_its_day_free(client):
    # 201's 12:30~15:00 on Monday 7 December was cancelled (取消済): the day is free again.
    page = text(client.get("/availability?facility=013&from=2026-12-07"))
    assert cell_text(page, "駒場住区センター", "201", "12/7(月)") == "○空き"


def test_a_full_day_shows_no_free_and_cannot_be_chosen(app, client):
    book_whole_day(app, KOMABA_202, "2026-12-02")
    page = text(client.get("/availability?facility=013"))
    assert "空きなし" in cell_text(page, "駒場住区センター", "202", "12/2(水)")
    assert checkbox(page, "cell", f"{KOMABA_202}:2026-12-02") is None


def test_today_and_days_beyond_the_window_are_outside_the_application_period(client):
    page = text(client.get("/availability?facility=013&from=2026-11-25"))
    assert "申込期間外" in cell_text(page, "駒場住区センター", "201", "11/25(水)")
    assert checkbox(page, "cell", f"{KOMABA_201}:2026-11-25") is None
    assert checkbox(page, "cell", f"{KOMABA_201}:2026-11-26") is not None
    # The 90th day (Tue 23 Feb 2027) is the last that can be chosen.
    page = text(client.get("/availability?facility=013&from=2027-02-23"))
    assert cell_text(page, "駒場住区センター", "201", "2/23(火)") == "○空き"
    assert "申込期間外" in cell_text(page, "駒場住区センター", "201", "2/24(水)")
    assert checkbox(page, "cell", f"{KOMABA_201}:2027-02-24") is None


def test_every_cell_says_its_status_in_words_never_a_symbol_alone(client):
    page = text(client.get("/availability?facility=013&facility=061&from=2026-11-25&period=1m"))
    words = ("空き", "一部空き", "空きなし", "申込期間外", "休館日")
    for table in tables(page):
        for _header, cells in table["rows"]:
            assert all(any(word in cell for word in words) for cell in cells)
    # The symbols are explained by the legend.
    assert '<dt class="status-symbol">■</dt><dd>休館日</dd>' in page


def test_a_selectable_cell_is_named_by_room_date_and_status(client):
    page = text(client.get("/availability?facility=039&from=2026-12-01"))
    assert choice_label(page, "cell", "5:2026-12-01") == "702【旧第2研修室】 2026年12月1日(火) ○空き"
    # The symbol is hidden from speech; the words remain.
    tag = re.search(r'<label class="cell-choice"><input [^>]*value="5:2026-12-01".*?</label>', page, re.S).group(0)
    assert '<span class="status-symbol" aria-hidden="true">○</span>' in tag


def test_previous_and_next_period_links_page_through_the_grid(client):
    page = text(client.get("/availability?facility=013"))
    links = dict(
        re.findall(r'<a class="button secondary small" href="([^"]+)"[^>]*>(?:<span[^>]*>[^<]*</span>)?([^<]+)', page)
    )
    by_label = {label: href.replace("&amp;", "&") for href, label in links.items()}
    assert parse_qs(urlsplit(by_label["次の1週間"]).query) == {
        "facility": ["013"],
        "period": ["1w"],
        "from": ["2026-12-03"],
    }
    assert parse_qs(urlsplit(by_label["前の1週間"]).query)["from"] == ["2026-11-19"]
    following = text(client.get(by_label["次の1週間"]))
    assert tables(following)[0]["head"][1:] == [
        "12/3(木)",
        "12/4(金)",
        "12/5(土)",
        "12/6(日)",
        "12/7(月)",
        "12/8(火)",
        "12/9(水)",
    ]
    # The same links update the grid in place with htmx.
    assert re.search(
        r'href="[^"]*from=2026-12-03"\s+data-hx-get="[^"]*from=2026-12-03" data-hx-target="#availability" data-hx-swap="outerHTML" data-hx-push-url="true"',
        page,
    )


def test_a_month_shows_the_calendar_month_and_pages_by_months(client):
    page = text(client.get("/availability?facility=013&period=1m"))
    head = tables(page)[0]["head"][1:]
    assert len(head) == 30 and head[0] == "11/26(木)" and head[-1] == "12/25(金)"
    assert "from=2026-12-26" in page and "次の1ヶ月" in page
    two_weeks = tables(text(client.get("/availability?facility=013&period=2w")))[0]["head"][1:]
    assert len(two_weeks) == 14 and two_weeks[-1] == "12/9(水)"


def test_no_next_link_beyond_the_last_start_the_grid_accepts(client):
    # The grid may start up to 31 days after the last bookable day (2027-02-23).
    page = text(client.get("/availability?facility=013&from=2027-03-26"))
    assert "前の1週間" in page and "次の1週間" not in page
    page = text(client.get("/availability?facility=013&from=2026-10-26"))
    assert "次の1週間" in page and "前の1週間" not in page


def test_the_period_form_changes_start_and_period_in_place_and_without_javascript(client):
    page = text(client.get("/availability?facility=013&facility=039"))
    form = re.search(r'<form method="get" action="/availability" class="period-form".*?</form>', page, re.S).group(0)
    assert (
        'data-hx-get="/availability" data-hx-target="#availability" data-hx-swap="outerHTML" data-hx-push-url="true"'
        in form
    )
    assert (
        '<input type="hidden" name="facility" value="013">' in form
        and '<input type="hidden" name="facility" value="039">' in form
    )
    assert '<label for="from">開始日</label>' in form and "<legend>表示期間</legend>" in form


def test_a_facility_given_twice_is_shown_once(client):
    assert len(tables(text(client.get("/availability?facility=013&facility=013")))) == 1


def test_day_cells_chosen_before_are_ticked_again(client):
    page = text(client.get(f"/availability?facility=013&cell={KOMABA_201}:2026-11-27"))
    assert "checked" in checkbox(page, "cell", f"{KOMABA_201}:2026-11-27")
    assert "checked" not in checkbox(page, "cell", f"{KOMABA_201}:2026-11-28")


def test_next_step_carries_the_grid_so_that_back_can_return_to_it(client):
    page = text(client.get("/availability?facility=013&from=2026-12-01&period=2w"))
    form = re.search(r'<form method="get" action="/availability/slots".*?</form>', page, re.S).group(0)
    for hidden in ('name="facility" value="013"', 'name="from" value="2026-12-01"', 'name="period" value="2w"'):
        assert f'<input type="hidden" {hidden}>' in form
    assert "次へ進む" in form


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("facility=013&from=bad", "開始日は「2026-12-01」のように年-月-日で入力してください。"),
        ("facility=013&from=2026-02-30", "開始日は「2026-12-01」のように年-月-日で入力してください。"),
        (
            "facility=013&from=2020-01-01",
            "開始日は2026年10月26日(月)から2027年3月26日(金)までの日付を入力してください。",
        ),
        (
            "facility=013&from=2026-10-25",
            "開始日は2026年10月26日(月)から2027年3月26日(金)までの日付を入力してください。",
        ),
        (
            "facility=013&from=2027-03-27",
            "開始日は2026年10月26日(月)から2027年3月26日(金)までの日付を入力してください。",
        ),
        (
            "facility=013&from=9999-12-31",
            "開始日は2026年10月26日(月)から2027年3月26日(金)までの日付を入力してください。",
        ),
        ("facility=013&period=3w", "表示期間は1週間、2週間、1ヶ月から選択してください。"),
    ],
)
def test_a_bad_start_or_period_is_explained_next_to_the_form(client, query, message):
    response = client.get(f"/availability?{query}")
    assert response.status_code == 422
    page = text(response)
    assert "<title>エラー: 施設別空き状況" in page
    assert message in error_summary(page)
    assert "<table" not in page
    # The form is there to put it right, with the facility kept.
    assert '<input type="hidden" name="facility" value="013">' in page
    fragment = client.get(f"/availability?{query}", headers=HTMX_HEADERS)
    assert fragment.status_code == 422 and message in error_summary(text(fragment))


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("facility=999", "指定された施設が見つかりません: 999"),
        ("facility=013&facility=998", "指定された施設が見つかりません: 998"),
        ("facility=abc", "施設の指定が正しくありません。施設の検索からもう一度選択してください。"),
        ("facility=%00", "施設の指定が正しくありません。施設の検索からもう一度選択してください。"),
        ("&".join(f"facility={n:03d}" for n in range(100, 111)), "一度に選択できる施設は10件までです。"),
        ("", "施設を選択してください。"),
    ],
)
def test_bad_facilities_send_the_resident_back_to_choosing_them(client, query, message):
    response = client.get(f"/availability?{query}")
    assert response.status_code == 422
    page = text(response)
    assert "<title>エラー: 施設の検索" in page
    assert message in error_summary(page)
    assert checkbox(page, "facility", "013") is not None


def test_known_facilities_stay_ticked_when_another_is_unknown(client):
    page = text(client.get("/availability?facility=013&facility=998"))
    assert "checked" in checkbox(page, "facility", "013")


def test_ten_facilities_are_allowed(client):
    codes = ["013", "039", "014", "051", "081", "061"]
    response = client.get("/availability?" + "&".join(f"facility={c}" for c in codes + codes[:4]))
    assert response.status_code == 200 and len(tables(text(response))) == 6


def test_next_with_no_day_chosen_shows_the_same_grid_with_the_error(client):
    response = client.get("/availability/slots?facility=013&from=2026-12-01&period=2w")
    assert response.status_code == 422
    page = text(response)
    assert "<title>エラー: 施設別空き状況" in page
    assert '<a href="#cell">利用したい日を選択してください。</a>' in error_summary(page)
    assert tables(page)[0]["head"][1] == "12/1(火)" and len(tables(page)[0]["head"]) == 15
    # The link leads to the first day that can be chosen.
    assert checkbox_id(page, "cell", f"{KOMABA_201}:2026-12-01") == "cell"


def test_the_day_grid_is_read_in_few_queries_whatever_its_size(app, client):
    def count(url):
        statements = []
        engine = app.extensions["database"].engine
        listener = lambda *args: statements.append(args[2])  # noqa: E731
        event.listen(engine, "before_cursor_execute", listener)
        try:
            assert client.get(url).status_code == 200
        finally:
            event.remove(engine, "before_cursor_execute", listener)
        return len(statements)

    small = count("/availability?facility=013")
    # Every demo facility (10 rooms) over a month.
    large = count(
        "/availability?period=1m&" + "&".join(f"facility={c}" for c in ["013", "039", "014", "051", "081", "061"])
    )
    assert large == small
    # Facilities, rooms, bands, closed days, bookings; the lottery's month rows (with their
    # rooms) and, in a lottery month, its entries so far.
    assert large <= 8


# 時間帯別空き状況 -----------------------------------------------------------------------


def test_the_slots_of_a_chosen_day_show_status_capacity_and_base_fee(client):
    response = client.get(f"/availability/slots?facility=013&from=2026-12-01&period=1w&cell={KOMABA_201}:2026-12-03")
    assert response.status_code == 200
    page = text(response)
    (table,) = tables(page)
    assert table["caption"] == "駒場住区センター 201【旧第1会議室】（定員 30人）"
    assert table["head"] == ["利用日", "9:00~12:00", "12:30~15:00", "15:30~18:00", "18:30~21:30"]
    assert cell_text(page, "駒場住区センター 201", "2026/12/3(木)", "9:00~12:00") == "○空き 基本額 400円"
    assert cell_text(page, "駒場住区センター 201", "2026/12/3(木)", "12:30~15:00") == "×予約済"
    assert cell_text(page, "駒場住区センター 201", "2026/12/3(木)", "18:30~21:30") == "○空き 基本額 600円"
    assert "※この料金は基本額です。" in page
    assert checkbox(page, "slot", f"{KOMABA_201}:2026-12-03:2") is None
    box = checkbox_id(page, "slot", f"{KOMABA_201}:2026-12-03:1")
    assert label_of(page, box) == "201【旧第1会議室】 2026年12月3日(木) 9:00~12:00 ○空き"


def test_slots_of_several_rooms_and_days(client):
    cells = [f"{KOMABA_201}:2026-12-01", f"{KOMABA_202}:2026-12-01", f"{KOMABA_201}:2026-12-02", "9:2026-11-27"]
    page = text(client.get("/availability/slots?" + "&".join(f"cell={c}" for c in cells)))
    captions = [t["caption"] for t in tables(page)]
    assert captions == [
        "駒場住区センター 201【旧第1会議室】（定員 30人）",
        "駒場住区センター 202【旧第2会議室】（定員 18人）",
        "目黒区民センター体育館 競技場A面（定員 60人）",
    ]
    assert [row for row, _cells in tables(page)[0]["rows"]] == ["2026/12/1(火)", "2026/12/2(水)"]
    assert len(tables(page)[2]["head"]) == 7  # six bands for the sports court


def test_next_goes_to_the_application_details_and_back_to_the_grid(client):
    page = text(client.get(f"/availability/slots?facility=013&from=2026-12-01&period=2w&cell={KOMABA_201}:2026-12-03"))
    form = re.search(r'<form method="get" action="([^"]+)" class="slot-form"', page)
    assert form.group(1) == "/apply/details"
    assert "次へ進む" in page
    back = re.search(r'<a class="button secondary" href="([^"]+)">(?:<span[^>]*>[^<]*</span>)?前に戻る', page).group(1)
    query = parse_qs(urlsplit(back.replace("&amp;", "&")).query)
    assert query == {
        "facility": ["013"],
        "from": ["2026-12-01"],
        "period": ["2w"],
        "cell": [f"{KOMABA_201}:2026-12-03"],
    }
    # Back shows the same grid with the day still ticked.
    grid = text(client.get(back.replace("&amp;", "&")))
    assert "checked" in checkbox(grid, "cell", f"{KOMABA_201}:2026-12-03")


def test_back_without_the_grid_arguments_rebuilds_the_grid_from_the_chosen_days(client):
    page = text(client.get(f"/availability/slots?cell={KOMABA_201}:2026-12-10&cell=5:2026-12-03"))
    back = re.search(r'href="([^"]+)"><span aria-hidden="true">‹ </span>前に戻る', page).group(1)
    query = parse_qs(urlsplit(back.replace("&amp;", "&")).query)
    assert sorted(query["facility"]) == ["013", "039"] and query["from"] == ["2026-12-03"]


def test_slots_chosen_before_are_ticked_again(client):
    page = text(client.get(f"/availability/slots?cell={KOMABA_201}:2026-12-01&slot={KOMABA_201}:2026-12-01:3"))
    assert "checked" in checkbox(page, "slot", f"{KOMABA_201}:2026-12-01:3")
    assert "checked" not in checkbox(page, "slot", f"{KOMABA_201}:2026-12-01:1")


def test_slots_as_page_and_as_fragment(client):
    assert_page_and_fragment(client, f"/availability/slots?cell={KOMABA_201}:2026-12-01", "slots")


def test_a_day_that_filled_up_shows_its_bands_taken_and_no_next_button(app, client):
    book_whole_day(app, KOMABA_202, "2026-12-02")
    response = client.get(f"/availability/slots?cell={KOMABA_202}:2026-12-02")
    assert response.status_code == 200
    page = text(response)
    assert all(cell == "×予約済" for cell in tables(page)[0]["rows"][0][1])
    assert "選択した日に空いている時間帯はありません。" in page
    assert 'name="slot"' not in page and "次へ進む" not in page


@pytest.mark.parametrize(
    ("cell", "message"),
    [
        (
            f"{KOMABA_201}:2026-12-14",
            "駒場住区センター 201【旧第1会議室】 2026年12月14日(月)は休館日のため選択できません。",
        ),
        (
            f"{KOMABA_201}:2026-11-25",
            "駒場住区センター 201【旧第1会議室】 2026年11月25日(水)は申込期間外のため選択できません。",
        ),
        (
            f"{KOMABA_201}:2027-02-24",
            "駒場住区センター 201【旧第1会議室】 2027年2月24日(水)は申込期間外のため選択できません。",
        ),
        (
            f"{KOMABA_201}:9999-12-31",
            "駒場住区センター 201【旧第1会議室】 9999年12月31日(金)は申込期間外のため選択できません。",
        ),
        ("999:2026-12-01", "選択された日の情報が見つかりません。施設別空き状況からもう一度選択してください。"),
        (
            "99999999999999999999:2026-12-01",
            "選択された日の情報が見つかりません。施設別空き状況からもう一度選択してください。",
        ),
        ("x", "選択された日の情報が見つかりません。施設別空き状況からもう一度選択してください。"),
        (
            f"{KOMABA_201}:2026-02-30",
            "選択された日の情報が見つかりません。施設別空き状況からもう一度選択してください。",
        ),
        (
            f"{KOMABA_201}:2026-12-01:1",
            "選択された日の情報が見つかりません。施設別空き状況からもう一度選択してください。",
        ),
        ("-1:2026-12-01", "選択された日の情報が見つかりません。施設別空き状況からもう一度選択してください。"),
    ],
)
def test_forged_or_unbookable_days_get_a_clear_message_and_no_slots(client, cell, message):
    response = client.get(f"/availability/slots?cell={cell}")
    assert response.status_code == 422
    page = text(response)
    assert "<title>エラー: 時間帯別空き状況" in page
    assert message in error_summary(page)
    assert 'name="slot"' not in page
    assert "前に戻る" in page or "施設の検索に戻る" in page


def test_too_many_days_at_once_get_a_clear_message(client):
    start = frozen_now().date() + timedelta(days=1)
    cells = [f"{room}:{(start + timedelta(days=i)).isoformat()}" for room in (1, 2) for i in range(26)]
    response = client.get("/availability/slots?facility=013&" + "&".join(f"cell={c}" for c in cells))
    assert response.status_code == 422
    assert "一度に選択できる日は50件までです。" in error_summary(text(response))


# Reader mode ------------------------------------------------------------------------------


def test_reader_mode_reads_the_day_grid_as_sentences_with_the_step(client):
    use_reader_mode(client)
    response = client.get("/availability?facility=013&from=2026-12-01", headers=HTMX_HEADERS)
    page = text(response)
    assert "<html" in page  # whole pages in reader mode
    assert "<table" not in page
    assert "<title>手順 2/6 施設別空き状況 |" in page and "<h1>手順 2/6 施設別空き状況</h1>" in page
    assert choice_label(page, "cell", f"{KOMABA_201}:2026-12-01") == "201【旧第1会議室】 2026年12月1日(火) 空き"
    assert "<li>201【旧第1会議室】 2026年12月14日(月) 休館日</li>" not in page  # outside this week
    assert "201【旧第1会議室】 2026年12月3日(木) 一部空き" in page


def test_reader_mode_reads_slots_as_sentences_with_the_step(client):
    use_reader_mode(client)
    page = text(client.get(f"/availability/slots?cell={KOMABA_201}:2026-12-03"))
    assert "<table" not in page
    assert "<h1>手順 3/6 時間帯別空き状況</h1>" in page
    assert (
        label_of(page, checkbox_id(page, "slot", f"{KOMABA_201}:2026-12-03:1")) == "2026年12月3日(木) 9:00~12:00 空き"
    )
    assert "<li>2026年12月3日(木) 12:30~15:00 予約済</li>" in page


def test_reader_mode_facility_search_names_its_step(client):
    use_reader_mode(client)
    assert "<h1>手順 1/6 施設の検索</h1>" in text(client.get("/search/facilities?all=1"))


# English ----------------------------------------------------------------------------------


def test_english_pages_use_english_dates(client):
    token = csrf_token_from(text(client.get("/settings/display")))
    client.post("/settings/language", data={"csrf_token": token, "locale": "en", "next": "/"})
    page = text(client.get("/availability?facility=013"))
    assert '<html lang="en"' in page
    assert tables(page)[0]["head"][1] == "Thu 26 Nov"
    assert "Komaba Community Centre" in page
    page = text(client.get("/search/facilities?all=1"))
    assert '<option value="か">Ka' in page


# Helpers that change the demo data --------------------------------------------------------


def book_whole_day(app, room_id: int, day: str) -> None:
    """Another group books every band of the room on that day."""
    database = app.extensions["database"]
    with database.write() as session:
        room = session.get(Room, room_id)
        resident = session.scalar(select(Resident).where(Resident.registration_number == "00040676"))
        purpose = room.purposes[0]
        apply_for_slots(
            session,
            resident_id=resident.id,
            slots=[SlotRef(room.id, date.fromisoformat(day), band.id) for band in room.time_bands],
            answers={room.id: RoomAnswers(purpose.id, 1, False)},
            group_class_id=resident.group_classes[0].group_class_id,
            now=frozen_now(),
            days_ahead=90,
        )
