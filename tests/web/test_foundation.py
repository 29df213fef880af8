"""The shared web layer: pages and fragments, Vary, errors, CSRF, channels, languages."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from tests.conftest import HTMX_HEADERS, csrf_token_from


def test_top_page_shows_notices_newest_first_and_the_search_tabs(client):
    page = client.get("/").get_data(as_text=True)
    assert "目黒区施設予約システム へようこそ" in page
    first = page.index("年末年始（12月29日～1月3日）は全施設が休館します")
    second = page.index("令和9年4月からスポーツ施設の貸切使用料が変わります")
    assert first < second
    assert "2026年11月22日" in page
    for tab in ("カテゴリから探す", "使用目的から探す", "施設種類から探す", "施設名から探す", "一覧から探す"):
        assert tab in page
    assert "お知らせをすべて表示" in page


def test_a_tab_is_a_whole_page_or_only_its_fragment_for_htmx(client):
    page = client.get("/?tab=name")
    fragment = client.get("/?tab=name", headers=HTMX_HEADERS)
    assert page.status_code == fragment.status_code == 200
    assert "HX-Request" in page.headers["Vary"] and "HX-Request" in fragment.headers["Vary"]
    assert "<html" in page.get_data(as_text=True)
    body = fragment.get_data(as_text=True)
    assert "<html" not in body and 'id="search-panel"' in body and "か行" in body
    assert "<title>施設名から探す" not in body  # the title names the page, not the tab
    assert "<title>" in body


def test_a_history_restore_gets_the_whole_page(client):
    response = client.get("/?tab=name", headers={**HTMX_HEADERS, "HX-History-Restore-Request": "true"})
    assert "<html" in response.get_data(as_text=True)


def test_unknown_page_is_a_404_in_the_users_language(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert "ページが見つかりません" in response.get_data(as_text=True)
    assert "<title>エラー: " in response.get_data(as_text=True)


def test_a_post_without_csrf_token_changes_nothing_and_explains(client):
    response = client.post("/settings/language", data={"locale": "en", "next": "/"})
    assert response.status_code == 400
    assert "フォームの有効期限が切れたか" in response.get_data(as_text=True)
    assert "pref_locale" not in response.headers.get("Set-Cookie", "")


def test_language_switch_is_remembered_and_the_page_is_english(client):
    token = csrf_token_from(client.get("/settings/display").get_data(as_text=True))
    response = client.post("/settings/language", data={"csrf_token": token, "locale": "en", "next": "/?tab=name"})
    assert response.status_code == 303 and response.headers["Location"] == "/?tab=name"
    page = client.get("/").get_data(as_text=True)
    assert '<html lang="en"' in page
    assert "Search by category" in page


def test_language_switch_refuses_to_redirect_off_site(client):
    token = csrf_token_from(client.get("/settings/display").get_data(as_text=True))
    response = client.post("/settings/language", data={"csrf_token": token, "locale": "en", "next": "//evil.example/"})
    assert response.headers["Location"] == "/"


def test_reader_toggle_switches_presentation_and_drops_htmx(client):
    token = csrf_token_from(client.get("/settings/display").get_data(as_text=True))
    client.post("/settings/reader", data={"csrf_token": token, "presentation": "reader", "next": "/"})
    page = client.get("/").get_data(as_text=True)
    assert "presentation-reader" in page
    assert "htmx.min.js" not in page
    assert 'aria-pressed="true"' in page
    # Reader mode always answers with whole pages, even to an htmx request.
    assert "<html" in client.get("/?tab=name", headers=HTMX_HEADERS).get_data(as_text=True)


def test_every_page_carries_a_strict_content_security_policy(client):
    csp = client.get("/").headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp


def test_htmx_is_served_from_the_pinned_npm_package(client):
    response = client.get("/vendor/htmx.min.js")
    assert response.status_code == 200
    assert b"2.0.11" in response.data


def test_a_request_body_over_a_megabyte_is_refused_in_words(client):
    token = csrf_token_from(client.get("/settings/display").get_data(as_text=True))
    response = client.post(
        "/settings/language", data={"csrf_token": token, "locale": "en", "next": "x" * (1024 * 1024)}
    )
    assert response.status_code == 413
    assert "送信された内容が大きすぎます" in response.get_data(as_text=True)
    assert '<html lang="ja"' in client.get("/").get_data(as_text=True)  # nothing changed


def test_static_files_have_content_hashed_names_cached_for_a_year(app, client):
    page = client.get("/").get_data(as_text=True)
    css = re.search(r'href="(/static/css/site\.([0-9a-f]{12})\.css)"', page)
    script = re.search(r'src="(/vendor/htmx\.min\.[0-9a-f]{12}\.js)"', page)
    assert css and script
    digest = hashlib.sha256((Path(app.static_folder) / "css" / "site.css").read_bytes()).hexdigest()[:12]
    assert css.group(2) == digest  # a changed file gets a new name
    for url in (css.group(1), script.group(1)):
        response = client.get(url)
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    plain = client.get("/static/css/site.css")
    assert plain.status_code == 200 and plain.headers["Cache-Control"] == "no-cache"
    assert client.get("/static/css/site.000000000000.css").status_code == 404


def test_static_collect_writes_the_hashed_names_for_nginx(app, tmp_path):
    result = app.test_cli_runner().invoke(args=["static-collect", str(tmp_path / "public")])
    assert result.exit_code == 0, result.output
    page = app.test_client().get("/").get_data(as_text=True)
    for path in re.findall(r'(?:href|src)="(/(?:static|vendor)/[^"]+)"', page):
        assert (tmp_path / "public" / path.lstrip("/")).is_file(), path


def test_the_site_never_compiles_catalogues_into_its_source_tree(database_url, tmp_path, monkeypatch):
    """A read-only deployment: with the .mo files missing, the site compiles its own copy
    into the instance folder and still speaks English."""
    import shutil

    from app import create_app
    from tests.conftest import make_config
    from web import i18n

    source = tmp_path / "locales"
    shutil.copytree(i18n.LOCALES_DIR, source, ignore=shutil.ignore_patterns("*.mo"))
    monkeypatch.setattr(i18n, "LOCALES_DIR", source)
    monkeypatch.setattr(i18n, "_directory", i18n._directory)  # restored afterwards
    app = create_app("standard", make_config(database_url, tmp_path))
    try:
        assert not list(source.rglob("*.mo"))
        assert list((tmp_path / "instance" / "locales").rglob("messages.mo"))
        page = app.test_client().get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)
        assert "Meguro City Facility Reservation System" in page
    finally:
        app.extensions["database"].dispose()


def test_the_layout_pieces_shared_by_every_page_follow_the_language_and_host(app):
    """The footer, the head's links and the header's fixed links are rendered once per
    language and reused (issue 12): each language still gets its own, and a site answering
    under another host or path prefix gets its own links."""
    client = app.test_client()
    for lang, footer, guide in (
        ("ja", "目黒区施設予約システム — お問い合わせ", ">ご利用の手引き<"),
        ("en", "Enquiries: call centre", ">User guide<"),
        ("ja", "目黒区施設予約システム — お問い合わせ", ">ご利用の手引き<"),
    ):
        page = client.get("/faq", headers={"Accept-Language": lang}).get_data(as_text=True)
        assert footer in page and guide in page, lang
    prefixed = client.get("/faq", environ_overrides={"SCRIPT_NAME": "/yoyaku"}).get_data(as_text=True)
    assert 'href="/yoyaku/guide"' in prefixed and 'href="/yoyaku/static/css/site.' in prefixed
    plain = client.get("/faq").get_data(as_text=True)
    assert 'href="/guide"' in plain and "/yoyaku/" not in plain


def test_the_top_pages_reused_panel_shows_changed_data_at_once(app, client):
    """The search panel's HTML is reused while what it shows is the same (issue 12): a
    changed choice shows on the next request."""
    from sqlalchemy import select

    from models.facility import Purpose
    from web.data import database

    before = client.get("/?tab=purpose").get_data(as_text=True)
    assert client.get("/?tab=purpose").get_data(as_text=True) == before
    with app.app_context(), database().write() as s:
        purpose = s.scalars(select(Purpose).order_by(Purpose.ordinal)).first()
        old_name, purpose.name_ja = purpose.name_ja, "テスト用の使用目的"
    after = client.get("/?tab=purpose").get_data(as_text=True)
    assert "テスト用の使用目的" in after and f">{old_name}<" not in after
