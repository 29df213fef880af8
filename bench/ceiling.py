"""The ceiling for bench.ward: a bare Flask app rendering one Jinja page of about 2.5 KB, so
that the site's figures can be read as multiples of what the framework itself costs on the
same machine in the same run. Served by gunicorn as the site is: `bench.ceiling:create_app()`."""

from __future__ import annotations

from flask import Flask, render_template
from jinja2 import DictLoader

PAGE = """<!doctype html>
<html lang="ja">
<head><meta charset="utf-8"><title>{{ title }}</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body>
<header><p><a href="/">{{ title }}</a></p>
<nav><ul>{% for link in links %}<li><a href="{{ link.href }}">{{ link.text }}</a></li>{% endfor %}</ul></nav></header>
<main><h1>{{ heading }}</h1>
<table><caption>{{ caption }}</caption>
<thead><tr><th scope="col">日付</th><th scope="col">時間帯</th><th scope="col">状態</th></tr></thead>
<tbody>{% for row in rows %}
<tr><th scope="row">{{ row.day }}</th><td>{{ row.band }}</td><td>{{ row.status }}</td></tr>{% endfor %}
</tbody></table></main>
<footer><p>{{ footer }}</p></footer>
</body></html>
"""

LINKS = [{"href": f"/section/{i}", "text": f"メニュー項目 {i}"} for i in range(8)]
ROWS = [
    {"day": f"2026年12月{d}日", "band": band, "status": "空き" if (d + i) % 3 else "予約済"}
    for d in range(1, 7)
    for i, band in enumerate(("9:00~12:00", "12:30~15:00", "15:30~18:00"))
]


def create_app() -> Flask:
    app = Flask(__name__)
    app.jinja_loader = DictLoader({"page.html": PAGE})

    @app.get("/")
    def index():
        return render_template(
            "page.html",
            title="目黒区施設予約システム",
            links=LINKS,
            heading="施設別空き状況",
            caption="駒場住区センター 第1会議室",
            rows=ROWS,
            footer="お問い合わせ 03-5431-5932",
        )

    return app
