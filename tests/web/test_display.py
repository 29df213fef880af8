"""色・文字サイズ変更 (issue 5): text size 標準/大/特大 and colour 標準/高コントラスト/白黒反転,
applied as classes on <html> that switch CSS custom properties, in every channel; remembered
per browser (a year-long cookie) on the standard profile and per session on a kiosk. Bad
input gets a message at the field and changes nothing."""

from __future__ import annotations

import re

import pytest

from config import ROOT
from tests.conftest import csrf_token_from

TEXT_SIZES = {"standard": "標準", "large": "大", "xlarge": "特大"}
COLOURS = {"standard": "標準", "contrast": "高コントラスト", "inverted": "白黒反転"}


def html_classes(page: str) -> set[str]:
    return set(re.search(r'<html lang="\w+" class="([^"]*)"', page).group(1).split())


def checked_value(page: str, name: str) -> str | None:
    match = re.search(rf'<input checked id="{name}-\d" name="{name}"[^>]*value="([^"]+)"', page)
    return match.group(1) if match else None


def change(client, **data):
    page = client.get("/settings/display?next=/guide").get_data(as_text=True)
    return client.post("/settings/display", data={"csrf_token": csrf_token_from(page), "next": "/guide", **data})


def error_summary(page: str) -> str:
    match = re.search(r'<div class="error-summary".*?</div>', page, re.S)
    assert match, "no error summary"
    return match.group(0)


def test_the_page_offers_both_choices_with_the_current_ones_checked(client):
    page = client.get("/settings/display").get_data(as_text=True)
    assert "<h1>色・文字サイズ変更</h1>" in page and "<title>色・文字サイズ変更 | " in page
    assert "<legend>文字サイズ" in page and "<legend>色" in page
    for value, label in {**TEXT_SIZES}.items():
        assert re.search(rf'value="{value}"> <label for="text_size-\d">{label}</label>', page)
    for value, label in COLOURS.items():
        assert re.search(rf'value="{value}"> <label for="colour-\d">{label}</label>', page)
    assert checked_value(page, "text_size") == "standard" and checked_value(page, "colour") == "standard"
    assert "この設定はお使いのブラウザに保存されます。" in page


@pytest.mark.parametrize("text_size", list(TEXT_SIZES))
@pytest.mark.parametrize("colour", list(COLOURS))
def test_each_choice_is_remembered_and_applied_on_every_page(client, text_size, colour):
    response = change(client, text_size=text_size, colour=colour)
    assert response.status_code == 303
    assert response.headers["Location"] == "/settings/display?saved=1&next=/guide"
    cookies = response.headers.getlist("Set-Cookie")
    for name, value in (("text_size", text_size), ("colour", colour)):
        cookie = next(c for c in cookies if c.startswith(f"pref_{name}="))
        assert f"pref_{name}={value}" in cookie and "Max-Age=31536000" in cookie and "HttpOnly" in cookie
    saved = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "表示の設定を変更しました。" in saved
    assert checked_value(saved, "text_size") == text_size and checked_value(saved, "colour") == colour
    assert 'href="/guide">前の画面に戻る</a>' in saved
    for path in ("/", "/guide", "/availability?facility=013", "/login"):
        assert {f"text-{text_size}", f"colour-{colour}"} <= html_classes(client.get(path).get_data(as_text=True)), path


def test_the_choices_apply_in_reader_mode_too(client):
    change(client, text_size="xlarge", colour="inverted")
    token = csrf_token_from(client.get("/").get_data(as_text=True))
    client.post("/settings/reader", data={"csrf_token": token, "presentation": "reader", "next": "/"})
    assert {"text-xlarge", "colour-inverted", "presentation-reader"} <= html_classes(
        client.get("/guide").get_data(as_text=True)
    )


def test_the_choices_apply_on_a_kiosk_for_the_session_only(kiosk_app):
    kiosk = kiosk_app.test_client()
    page = kiosk.get("/settings/display").get_data(as_text=True)
    assert "この設定は、ご利用を終了するか、しばらく操作がないと元に戻ります。" in page
    assert "お使いのブラウザに保存されます" not in page
    response = change(kiosk, text_size="large", colour="contrast")
    assert response.status_code == 303
    assert not [c for c in response.headers.getlist("Set-Cookie") if c.startswith("pref_")]
    assert {"text-large", "colour-contrast", "profile-kiosk"} <= html_classes(kiosk.get("/").get_data(as_text=True))
    assert {"text-standard", "colour-standard"} <= html_classes(kiosk_app.test_client().get("/").get_data(as_text=True))


@pytest.mark.parametrize(
    ("data", "messages"),
    [
        ({}, {"#text_size-0": "文字サイズを選択してください。", "#colour-0": "色を選択してください。"}),
        ({"text_size": "large"}, {"#colour-0": "色を選択してください。"}),
        ({"text_size": "huge", "colour": "standard"}, {"#text_size-0": "文字サイズは一覧から選択してください。"}),
        ({"text_size": "large", "colour": "<script>"}, {"#colour-0": "色は一覧から選択してください。"}),
    ],
    ids=["nothing chosen", "no colour", "unknown size", "forged colour"],
)
def test_bad_input_is_explained_at_the_field_and_changes_nothing(client, data, messages):
    response = change(client, **data)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "<title>エラー: 色・文字サイズ変更 | " in page
    summary = error_summary(page)
    for anchor, message in messages.items():
        assert f'<a href="{anchor}">{message}</a>' in summary
        assert f"</span>{message}</p>" in page  # at the field too
    assert not [c for c in response.headers.getlist("Set-Cookie") if c.startswith("pref_")]
    assert {"text-standard", "colour-standard"} <= html_classes(client.get("/").get_data(as_text=True))


def test_bad_input_in_english_is_explained_in_english(client):
    client.set_cookie("pref_locale", "en")
    page = change(client, text_size="huge", colour="standard").get_data(as_text=True)
    assert "Not a valid choice" not in page


def test_a_post_without_the_csrf_token_changes_nothing(client):
    response = client.post("/settings/display", data={"text_size": "xlarge", "colour": "inverted"})
    assert response.status_code == 400
    assert {"text-standard", "colour-standard"} <= html_classes(client.get("/").get_data(as_text=True))


@pytest.mark.parametrize("target", ["//evil.example/", "https://evil.example/", "/\\evil.example"])
def test_next_never_leaves_the_site(client, target):
    page = client.get("/settings/display", query_string={"next": target}).get_data(as_text=True)
    assert 'href="/">前の画面に戻る</a>' in page
    token = csrf_token_from(page)
    response = client.post(
        "/settings/display", data={"csrf_token": token, "next": target, "text_size": "large", "colour": "standard"}
    )
    assert response.headers["Location"] == "/settings/display?saved=1&next=/"


@pytest.mark.parametrize(("name", "value"), [("pref_text_size", "gigantic"), ("pref_colour", "rainbow")])
def test_a_forged_preference_cookie_falls_back_to_the_standard(client, name, value):
    client.set_cookie(name, value)
    assert {"text-standard", "colour-standard"} <= html_classes(client.get("/").get_data(as_text=True))


def test_every_theme_and_size_sets_its_custom_properties():
    """The classes the server writes are the ones the stylesheet switches."""
    css = (ROOT / "static" / "css" / "site.css").read_text(encoding="utf-8")
    for size in ("large", "xlarge"):
        assert re.search(rf"html\.text-{size}\s*\{{[^}}]*--base-size:", css), size
    for colour in ("contrast", "inverted"):
        block = re.search(rf"html\.colour-{colour}\s*\{{([^}}]*)\}}", css)
        assert block, colour
        for prop in ("--text", "--bg", "--link", "--border", "--error"):
            assert f"{prop}:" in block.group(1), (colour, prop)
