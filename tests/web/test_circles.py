"""集会・学校施設 and サークル(団体) 紹介 (issue 11, the guide's top-page links L306): our own
pages in every channel; a group opts in, edits and withdraws its own introduction on
利用者情報の更新・変更, and only valid 集会・学校 groups that chose to are listed, with only what
they wrote. Demo: 駒場サークル (40676) is introduced; 目黒団体 (40675) keeps one unpublished."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from models.account import Resident
from models.introduction import GroupIntroduction
from tests.conftest import AuthActions, csrf_token_from, frozen_now
from tests.pages import main_of, text, words

EDIT = "/mymenu/profile/introduction"
WITHDRAW = "/mymenu/profile/introduction/withdraw"
CIRCLES = "/circles"
FACILITIES = "/assembly-facilities"


def introduction(app, number: str) -> GroupIntroduction | None:
    with app.extensions["database"].read_session() as s:
        return s.scalar(
            select(GroupIntroduction)
            .join(Resident, Resident.id == GroupIntroduction.resident_id)
            .where(Resident.registration_number == number)
        )


def version_in(html: str, form_action: str) -> str:
    form = html.split(f'action="{form_action}"', 1)[1].split("</form>", 1)[0]
    return re.search(r'name="version"[^>]*value="([^"]*)"|value="([^"]*)"[^>]*name="version"', form).group(1)


def form_data(client, **fields) -> dict:
    page = text(client.get(EDIT))
    data = {
        "csrf_token": csrf_token_from(page),
        "version": version_in(page, EDIT),
        "published": "y",
        "activity": "music",
        "description": "合唱のサークルです。",
        "meets": "毎週水曜日 19:00~21:00",
        "contact": "見学はメール choir@example.jp まで",
    }
    data.update(fields)
    return {k: v for k, v in data.items() if v is not None}


def listed_names(client, url=CIRCLES) -> list[str]:
    return re.findall(r'<h2 class="circle-name"[^>]*>([^<]+)</h2>', text(client.get(url)))


# The top page's link row ---------------------------------------------------------------------


@pytest.mark.parametrize("reader", [False, True])
def test_the_top_page_links_both_pages_like_the_guides_row(client, reader):
    if reader:
        client.set_cookie("pref_presentation", "reader")
    page = text(client.get("/"))
    assert re.search(r'<a href="/assembly-facilities">集会・学校施設</a>', page)
    assert re.search(r'<a href="/circles">サークル\(団体\) 紹介</a>', page)
    assert 'href="https://www.city.meguro.tokyo.jp/"' in page


def test_the_kiosk_shows_both_pages_without_leaving_its_origin(kiosk_app):
    kiosk = kiosk_app.test_client()
    top = text(kiosk.get("/"))
    assert 'href="/assembly-facilities"' in top and 'href="/circles"' in top
    assert "目黒区ホームページ" not in top
    for url in (FACILITIES, CIRCLES, CIRCLES + "?activity=arts"):
        response = kiosk.get(url)
        assert response.status_code == 200, url
        assert not re.findall(r'(?:href|action|src)="(?:https?:)?//', text(response)), url
    assert "駒場サークル" in text(kiosk.get(CIRCLES))


# 集会・学校施設 ----------------------------------------------------------------------------------


def test_the_facilities_page_lists_assembly_facilities_by_category_with_rooms_and_availability(client):
    page = text(client.get(FACILITIES))
    body = words(main_of(page))
    assert "<h1>集会・学校施設</h1>" in page
    headings = re.findall(r'<h2 id="category-[^"]+">([^<]+)</h2>', page)
    assert headings[0] == "社会教育・文化会館・青少年プラザ" and "スポーツ施設" not in headings
    assert "区民センター社会教育館" in body and "702【旧第2研修室】（定員" in body
    assert 'href="/availability?facility=039"' in page
    assert 'href="/facilities/039"' in page
    assert "体育館" not in headings
    assert 'class="table-scroll cards"' in page and 'data-label="室場（定員）"' in page


def test_the_facilities_page_in_english(client):
    client.set_cookie("pref_locale", "en")
    page = text(client.get(FACILITIES))
    assert '<html lang="en"' in page and "<h1>Assembly and school facilities</h1>" in page
    assert "Rooms (capacity)" in page


# サークル(団体) 紹介: what is listed --------------------------------------------------------------


def test_the_demo_lists_only_the_group_that_chose_to_be_introduced(client):
    page = text(client.get(CIRCLES))
    assert listed_names(client) == ["駒場サークル"]
    assert "水彩画のサークル" in page and "komaba-suisai@example.jp" in page
    assert "目黒区の歴史と文化を学ぶ会" not in page  # 目黒団体's, kept unpublished
    assert "1団体のうち 1～1団体目を表示しています。" in words(page)


def test_only_what_the_group_wrote_is_shown_never_the_registrations_contact(app, client, auth):
    auth.login()
    assert client.post(EDIT, data=form_data(client, contact="")).status_code == 303
    page = text(client.get(CIRCLES))
    assert "目黒団体" in listed_names(client)
    assert "meguro-dantai@example.jp" not in page  # the registration's email
    assert "連絡方法</dt>" in page  # 駒場サークル typed one; 目黒団体 did not
    block = page.split(">目黒団体</h2>", 1)[1].split("</li>", 1)[0]
    assert "連絡方法" not in block


def test_opting_in_lists_the_group_and_withdrawing_removes_it(app, client, auth):
    auth.login()
    profile = text(client.get("/mymenu/profile"))
    assert 'href="/mymenu/profile/introduction"' in profile and "掲載はしていません" in profile
    answer = client.post(EDIT, data=form_data(client))
    assert answer.status_code == 303 and answer.headers["Location"] == "/mymenu/profile"
    assert "「サークル(団体) 紹介」に掲載しています。" in text(client.get("/mymenu/profile"))
    assert listed_names(client) == ["目黒団体", "駒場サークル"]
    assert "合唱のサークルです。" in text(client.get(CIRCLES))

    edit = text(client.get(EDIT))
    withdrawn = client.post(WITHDRAW, data={"csrf_token": csrf_token_from(edit), "version": version_in(edit, WITHDRAW)})
    assert withdrawn.status_code == 303
    assert "紹介を取り下げました。" in text(client.get("/mymenu/profile"))
    assert listed_names(client) == ["駒場サークル"]
    assert introduction(app, "00040675") is None


def test_saving_without_the_tick_keeps_the_text_off_the_page(app, client, auth):
    AuthActions(client).login(number="40676")
    assert client.post(EDIT, data=form_data(client, published=None)).status_code == 303
    assert listed_names(client) == []
    assert introduction(app, "00040676").description == "合唱のサークルです。"


def test_an_expired_registration_is_not_listed(app, client):
    with app.extensions["database"].write() as s:
        komaba = s.scalar(select(Resident).where(Resident.registration_number == "00040676"))
        komaba.registration_expires_on = frozen_now().date() - timedelta(days=1)
    assert listed_names(client) == []
    assert "紹介を掲載している団体はありません。" in text(client.get(CIRCLES))


def test_a_sports_registration_cannot_be_introduced(app, client):
    AuthActions(client).login(number="50001", kind="sports")
    page = text(client.get(EDIT))
    assert "集会・学校の利用者登録をした団体です" in page and "<textarea" not in page
    refused = client.post(
        EDIT,
        data={"csrf_token": csrf_token_from(page), "version": "0", "activity": "music", "description": "x"},
    )
    assert refused.status_code == 403 and "集会・学校の利用者登録をした団体です" in text(refused)
    assert introduction(app, "00050001") is None


def test_the_activity_filter_and_the_next_page(app, client):
    with app.extensions["database"].write() as s:
        komaba = s.scalar(select(Resident).where(Resident.registration_number == "00040676"))
        for i in range(55):
            twin = Resident(
                registration_kind="assembly",
                registration_number=f"9{i:07d}",
                name=f"合唱団{i:02d}",
                password_hash=komaba.password_hash,
                registration_expires_on=komaba.registration_expires_on,
            )
            s.add(twin)
            s.flush()
            s.add(
                GroupIntroduction(
                    resident_id=twin.id,
                    published=True,
                    activity="music",
                    description="歌います",
                    updated_at=frozen_now(),
                )
            )
    first = text(client.get(CIRCLES))
    assert len(listed_names(client)) == 50
    assert "56団体のうち 1～50団体目を表示しています。" in words(first)
    assert re.search(r'<a class="button secondary" href="/circles\?page=2">次へ</a>', first)
    second = listed_names(client, CIRCLES + "?page=2")
    assert len(second) == 6 and "駒場サークル" in second
    assert 'href="/circles">前へ</a>' in text(client.get(CIRCLES + "?page=2"))
    arts = listed_names(client, CIRCLES + "?activity=arts")
    assert arts == ["駒場サークル"]
    music = text(client.get(CIRCLES + "?activity=music"))
    assert "駒場サークル" not in listed_names(client, CIRCLES + "?activity=music")
    assert re.search(r'href="/circles\?activity=music&amp;page=2">次へ</a>', music)
    # Nonsense in the query shows the first page of every field, never an error.
    assert client.get(CIRCLES + "?page=abc&activity=<x>").status_code == 200


# サークル(団体) 紹介: the form refuses what it must, and changes nothing then -------------------------


def test_another_groups_introduction_cannot_be_written_from_ones_own_form(app, client, auth):
    before = introduction(app, "00040676")
    komaba_id = before.resident_id
    auth.login()
    data = form_data(client, resident_id=str(komaba_id), description="乗っ取り")
    assert client.post(EDIT, data=data).status_code == 303
    after = introduction(app, "00040676")
    assert (after.description, after.version) == (before.description, before.version)
    assert introduction(app, "00040675").description == "乗っ取り"


def test_a_withdrawal_only_ever_removes_ones_own(app, client, auth):
    auth.login()
    edit = text(client.get(EDIT))
    data = {
        "csrf_token": csrf_token_from(edit),
        "version": "1",
        "resident_id": str(introduction(app, "00040676").resident_id),
    }
    assert client.post(WITHDRAW, data=data).status_code == 303
    assert introduction(app, "00040676") is not None and introduction(app, "00040675") is None


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"description": "あ" * 401}, "紹介文は400文字以内で入力してください。"),
        ({"description": "  "}, "紹介文を入力してください。"),
        ({"meets": "い" * 201}, "活動場所・日時は200文字以内で入力してください。"),
        ({"contact": "う" * 201}, "連絡方法は200文字以内で入力してください。"),
        ({"activity": "<script>"}, "活動分野を一覧から選択してください。"),
        ({"activity": None}, "活動分野を一覧から選択してください。"),
        ({"version": "abc"}, "この画面の内容が正しくありません。"),
        ({"published": "maybe"}, "値が正しくありません"),
        ({"description": "見学\x00歓迎"}, "紹介文に使えない文字が含まれています。"),
        ({"contact": "\u202emoc.elpmaxe@liam"}, "連絡方法に使えない文字が含まれています。"),
    ],
)
def test_bad_input_is_refused_with_a_message_and_nothing_changes(app, client, auth, fields, message):
    before = introduction(app, "00040675")
    auth.login()
    refused = client.post(EDIT, data=form_data(client, **fields))
    assert refused.status_code == 422
    assert message in words(text(refused)) and "<title>エラー:" in text(refused)
    after = introduction(app, "00040675")
    assert (after.description, after.published, after.version) == (before.description, before.published, before.version)
    assert listed_names(client) == ["駒場サークル"]


def test_a_replayed_form_changes_nothing_the_second_time(app, client, auth):
    auth.login()
    data = form_data(client, description="一度目")
    assert client.post(EDIT, data=data).status_code == 303
    assert client.post(EDIT, data=form_data(client, description="二度目")).status_code == 303
    replay = client.post(EDIT, data=data)
    assert replay.status_code == 422 and "変更は行っていません。" in words(text(replay))
    assert introduction(app, "00040675").description == "二度目"
    # The form keeps what was typed, with the current version: sending it again is deliberate.
    assert "一度目" in text(replay)


def test_a_missing_csrf_token_changes_nothing(app, client, auth):
    auth.login()
    data = form_data(client, description="トークンなし")
    del data["csrf_token"]
    assert client.post(EDIT, data=data).status_code in (400, 422)
    assert introduction(app, "00040675").description != "トークンなし"


def test_what_a_group_types_is_shown_as_text_never_as_markup(client):
    AuthActions(client).login(number="40676")
    markup = '<script>alert(1)</script><a href="https://evil.example/">見学</a>'
    assert client.post(EDIT, data=form_data(client, description=markup, meets="一行目\r\n二行目")).status_code == 303
    page = text(client.get(CIRCLES))
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert 'href="https://evil.example/"' not in page
    assert "一行目\n二行目" in page  # line breaks kept (shown by white-space: pre-line)


def test_the_circles_page_and_the_form_in_english(client):
    client.set_cookie("pref_locale", "en")
    page = text(client.get(CIRCLES))
    assert "<h1>Clubs and groups</h1>" in page
    assert '<h2 class="circle-name" lang="ja">駒場サークル</h2>' in page
    assert "Art, crafts and writing" in page
    AuthActions(client).login()
    form = text(client.get(EDIT))
    assert "Your group&#39;s introduction" in form or "Your group's introduction" in form
    assert "Field of activity" in form
