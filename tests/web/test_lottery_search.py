"""The lottery in 施設別空き状況, 時間帯別空き状況 and on the top page (DESIGN "Lottery"): a
lottery room's slot shows where its month stands, symbol and words, with the entries so far;
the calendar is said in words. The clock is frozen at 2026-11-25 10:00 JST: the demo's
2027-02 is open for entries (the 和室 of 駒場住区センター, 701, the hall), 2027-01 was drawn
yesterday and opens to first come on 2026-11-29."""

from __future__ import annotations

from tests.conftest import HTMX_HEADERS, csrf_token_from
from tests.pages import main_of, text, words
from tests.web.test_search import (
    assert_page_and_fragment,
    cell_text,
    checkbox,
    choice_label,
    use_reader_mode,
)

WASHITSU = 3  # 駒場住区センター 和室, a lottery room
KOMABA_201 = 1  # first come
WASHITSU_BANDS = (9, 10, 11, 12)


def test_the_day_grid_shows_a_lottery_day_with_its_entries_so_far(client):
    page = text(client.get("/availability?facility=013&from=2027-02-01&period=1w"))
    # 駒場サークル entered the 和室 on 2/5: one entry so far.
    assert cell_text(page, "駒場住区センター", "和室", "2/5(金)") == "◎抽選受付中 申込1件"
    assert cell_text(page, "駒場住区センター", "和室", "2/4(木)") == "◎抽選受付中 申込0件"
    # The first-come room beside it is as ever.
    assert cell_text(page, "駒場住区センター", "201", "2/5(金)") == "○空き"
    # A lottery day can be chosen, named by room, date, status and count.
    box = checkbox(page, "cell", f"{WASHITSU}:2027-02-05")
    assert box and choice_label(page, "cell", f"{WASHITSU}:2027-02-05") == "和室 2027年2月5日(金) ◎抽選受付中 申込1件"
    # The legend and the calendar in words.
    assert "◎ 抽選受付中" in words(page) and "▽ 先着受付前" in words(page)
    assert (
        "2027年2月利用分の抽選 (抽選受付中): 抽選申込 2026/11/23(月) 09:00～2026/12/3(木) 00:00、"
        "抽選結果の発表日 2026/12/7(月) 09:00、一般空き申込 2026/12/12(土) 09:00から"
    ) in words(page)


def test_a_drawn_month_waits_for_first_come_and_cannot_be_chosen(client):
    page = text(client.get("/availability?facility=013&from=2027-01-11&period=1w"))
    assert cell_text(page, "駒場住区センター", "和室", ["2027", "1/12(火)"][1]) == "▽先着受付前"
    assert checkbox(page, "cell", f"{WASHITSU}:2027-01-12") is None
    assert "2027年1月利用分の抽選 (抽選結果発表済み・一般空き申込の開始前)" in words(page)
    # Asked for anyway (a forged or old link): the time-band page says why not.
    response = client.get(f"/availability/slots?cell={WASHITSU}:2027-01-12&facility=013")
    assert "和室 2027年1月12日(火)は先着受付前のため選択できません。" in words(text(response))


def test_a_month_without_lottery_rooms_shows_no_calendar(client):
    page = text(client.get("/availability?facility=013"))
    assert "抽選受付中" not in main_of(page).split("記号の見方")[0]
    assert "利用分の抽選" not in words(page)


def test_the_time_bands_of_a_lottery_day_can_be_entered_with_their_counts(client):
    url = f"/availability/slots?cell={WASHITSU}:2027-02-05&facility=013"
    page, _ = assert_page_and_fragment(client, url, "slots")
    page = text(page)
    assert cell_text(page, "駒場住区センター 和室", "2027/2/5", "15:30~18:00") == "◎抽選受付中 申込1件 基本額 300円"
    assert cell_text(page, "駒場住区センター 和室", "2027/2/5", "9:00~12:00").startswith("◎抽選受付中 申込0件")
    assert checkbox(page, "slot", f"{WASHITSU}:2027-02-05:11")
    # The form goes to 抽選申込's 詳細申請, with the lottery's own button; no first-come button.
    assert 'action="/lottery/details"' in page
    assert "抽選申込へ進む" in words(page) and "次へ進む" not in words(page)
    assert "抽選申込 2026/11/23(月) 09:00～2026/12/3(木) 00:00" in words(page)


def test_first_come_and_lottery_slots_side_by_side_have_a_button_each(client):
    page = text(client.get(f"/availability/slots?cell={WASHITSU}:2027-02-05&cell={KOMABA_201}:2027-02-05&facility=013"))
    assert 'action="/apply/details"' in page
    assert 'formaction="/lottery/details"' in page
    assert "次へ進む" in words(page) and "抽選申込へ進む" in words(page)


def test_reader_mode_says_the_lottery_status_and_count_in_sentences(client):
    use_reader_mode(client)
    page = text(client.get(f"/availability/slots?cell={WASHITSU}:2027-02-05&facility=013"))
    assert "2027年2月5日(金) 15:30~18:00 抽選受付中 申込1件" in words(page)
    grid = text(client.get("/availability?facility=013&from=2027-02-01&period=1w"))
    assert "和室 2027年2月5日(金) 抽選受付中 申込1件" in words(grid)


def test_the_top_page_announces_the_lottery_calendar_and_lists_facilities_open_for_entries(client):
    top = words(text(client.get("/")))
    assert "抽選の日程" in top
    assert "2027年2月利用分の抽選 (抽選受付中): 抽選申込 2026/11/23(月) 09:00～2026/12/3(木) 00:00" in top
    assert "2027年1月利用分の抽選 (抽選結果発表済み・一般空き申込の開始前)" in top
    listing = text(client.get("/?tab=list"))
    assert "抽選に申込可能な施設" in words(listing)
    assert "駒場住区センター（和室: 2027年2月）" in words(listing)
    assert "中小企業センター（ホール: 2027年2月）" in words(listing)
    fragment = text(client.get("/?tab=list", headers=HTMX_HEADERS))
    assert "抽選に申込可能な施設" in fragment and "<html" not in fragment


def use_english(client):
    token = csrf_token_from(text(client.get("/settings/display")))
    client.post("/settings/language", data={"csrf_token": token, "locale": "en", "next": "/"})


def test_the_grid_and_the_calendar_in_english(client):
    use_english(client)
    page = words(text(client.get("/availability?facility=013&from=2027-02-01&period=1w")))
    assert "Japanese-style room Friday 5 February 2027 ◎ Open for the lottery entries so far: 1" in page
    assert "Lottery for February 2027 (Open for the lottery):" in page
