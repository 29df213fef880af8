"""アクセシビリティ方針: the claim and the figures follow the gate's results file, and a
missing or damaged file is "no results", never an error page."""

from __future__ import annotations

import json

import pytest

from tests.conftest import AuthActions, csrf_token_from


def results(**changes) -> dict:
    document = {
        "schema": 1,
        "generated_at": "2026-11-25T20:58:31+09:00",
        "axe_tags": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"],
        "tools": [{"name": "axe-core", "version": "4.14.1"}, {"name": "Chromium", "version": "156.0.8078.79"}],
        "channels": ["standard", "reader", "kiosk"],
        "languages": ["ja", "en"],
        "routes": {"endpoints": 37, "pages": 109},
        "checks": [
            {"id": "axe", "pages": 109, "states": 0, "runs": 1488, "violations": 0},
            {"id": "error_states", "pages": 0, "states": 13, "runs": 60, "violations": 0},
            {"id": "reflow_320", "pages": 109, "states": 0, "runs": 372, "violations": 0},
        ],
        "violations_total": 0,
        "violations": [],
        "complete": True,
        "errors": [],
    }
    document.update(changes)
    return document


@pytest.fixture
def results_file(app, tmp_path):
    path = tmp_path / "accessibility-results.json"
    app.config["ACCESSIBILITY_RESULTS"] = str(path)
    return path


def page_text(client, url="/accessibility") -> str:
    response = client.get(url)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_a_clean_complete_run_is_published_as_partial_conformance(client, results_file):
    results_file.write_text(json.dumps(results()), encoding="utf-8")
    page = page_text(client)
    assert "<h1>アクセシビリティ方針</h1>" in page
    # Tools decide only some success criteria: never 準拠 on their word alone.
    assert "JIS X 8341-3:2016 の適合レベル AA（WCAG 2.2 のレベル AA を含む）に一部準拠しています。" in page
    assert "に準拠しています。" not in page
    assert "2026年11月25日" in page
    assert "109 ページ（画面の種類 37）" in page
    assert "標準の画面、読み上げ用ブラウザモード、キオスク端末" in page
    assert "日本語、英語" in page
    assert "axe-core 4.14.1" in page and "wcag22aa" in page
    assert "画面幅 320px でページ全体が横にスクロールしないこと（日本語）" in page
    assert "1,488" in page and "入力エラーの画面 13" in page
    assert "自動試験で見つかった問題はありません。" in page
    assert "人による達成基準ごとの確認は、まだ行っていません。" in page
    assert "一部が最後まで実行できませんでした" not in page
    assert "コールセンター 03-5431-5932" in page


def test_problems_found_and_an_unfinished_run_are_shown(client, results_file):
    problem = {
        "check": "axe",
        "page": "/search/availability?f=1",
        "channel": "reader",
        "language": "en",
        "rule": "color-contrast",
        "target": "#main > p",
        "detail": "[serious]",
    }
    results_file.write_text(
        json.dumps(
            results(
                violations_total=1,
                violations=[problem],
                complete=False,
                errors=["forms[kiosk-ja]: TimeoutException"],
            )
        ),
        encoding="utf-8",
    )
    page = page_text(client)
    assert "一部準拠しています。" in page
    assert "自動試験で 1 件の問題が見つかっています。" in page
    assert "color-contrast" in page and "/search/availability?f=1" in page and "読み上げ用ブラウザモード、英語" in page
    assert "前回の試験は一部が最後まで実行できませんでした。" in page


@pytest.mark.parametrize(
    "content", [None, "{not json", json.dumps({"schema": 2}), json.dumps(results(checks=[{"id": "axe", "pages": -1}]))]
)
def test_without_usable_results_the_claim_is_only_consideration(client, results_file, content):
    if content is not None:
        results_file.write_text(content, encoding="utf-8")
    page = page_text(client)
    assert "JIS X 8341-3:2016 の適合レベル AA（WCAG 2.2 のレベル AA を含む）に配慮しています。" in page
    assert "試験の結果はまだありません。" in page


def test_the_page_in_english(client, results_file):
    results_file.write_text(json.dumps(results()), encoding="utf-8")
    token = csrf_token_from(client.get("/settings/display").get_data(as_text=True))
    client.post("/settings/language", data={"csrf_token": token, "locale": "en", "next": "/accessibility"})
    page = page_text(client)
    assert '<html lang="en"' in page
    assert "Accessibility policy" in page
    assert "partially conforms" in page.lower()
    assert "Japanese and English" in page
    assert "25 Nov 2026" in page


def test_every_page_links_to_the_policy_in_its_footer(client, kiosk_app):
    for page in (page_text(client, "/"), page_text(client, "/login"), page_text(kiosk_app.test_client(), "/")):
        assert 'href="/accessibility">アクセシビリティ方針</a>' in page
    AuthActions(client).login()
    assert 'href="/accessibility">アクセシビリティ方針</a>' in page_text(client, "/mymenu/")


def test_the_kiosk_names_its_own_idle_times(kiosk_app):
    kiosk_app.config.update(KIOSK_IDLE_WARN_SECONDS=90.0, KIOSK_IDLE_RESET_SECONDS=120.0)
    page = page_text(kiosk_app.test_client())
    assert "操作がないまま 120 秒たつと" in page and "90 秒たったところで確認の画面が出て" in page
