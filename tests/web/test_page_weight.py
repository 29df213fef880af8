"""Issue 12's weight budget: the first load of a page — its HTML and every stylesheet, script
and image it names, each compressed as the production nginx sends them (gzip at the level
deploy/nginx/meguro.conf.in sets) — stays within 60 KB, and its JavaScript within 20 KB. The heaviest pages
are here: the 施設別空き状況 grid for a month of the largest scale facility (six rooms), in
both languages and both presentations, and the lists of a group with bookings, as a
resident on a phone meets them."""

from __future__ import annotations

import gzip
import re
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from models.facility import Facility, Room
from tests.conftest import csrf_token_from, frozen_now
from tests.pages import text
from tests.web.card_support import database

PAGE_BUDGET = 60 * 1024
JS_BUDGET = 20 * 1024
# What a browser fetches on a first load: stylesheets, scripts, icons and images.
SUBRESOURCE = re.compile(r'<(?:link|script|img)\b[^>]*?\b(?:href|src)="(/[^"]+)"')


NGINX_CONF = Path(__file__).resolve().parents[2] / "deploy" / "nginx" / "meguro.conf.in"


def nginx_level() -> int:
    """nginx's gzip_comp_level as deployed (nginx's default is 1)."""
    found = re.search(r"^\s*gzip_comp_level\s+(\d)\s*;", NGINX_CONF.read_text(), re.MULTILINE)
    return int(found.group(1)) if found else 1


def gzipped(body: bytes) -> int:
    return len(gzip.compress(body, compresslevel=nginx_level()))


def choose(client, setting: str, field: str, value: str) -> None:
    """The header's setting, as a resident chooses it (a form post, CSRF token included)."""
    token = csrf_token_from(text(client.get("/settings/display")))
    answer = client.post(f"/settings/{setting}", data={"csrf_token": token, field: value, "next": "/"})
    assert answer.status_code == 303


def first_load(client, url: str) -> tuple[int, int, list[str]]:
    """(bytes of everything gzipped, bytes of the JavaScript gzipped, the subresources)."""
    page = client.get(url)
    assert page.status_code == 200, url
    html = text(page)
    total = gzipped(page.get_data())
    js = 0
    names = sorted(set(SUBRESOURCE.findall(html)))
    for name in names:
        asset = client.get(name)
        assert asset.status_code == 200, name
        size = gzipped(asset.get_data())
        total += size
        if name.endswith(".js") or asset.mimetype in ("text/javascript", "application/javascript"):
            js += size
    return total, js, names


@pytest.fixture
def largest_month(app):
    """The grid's month for the scale facility with the most rooms (the third of the scale
    data has six, like the bench's)."""
    assert app.test_cli_runner().invoke(args=["seed-scale", "--factor", "0.075"]).exit_code == 0
    with database(app).read_session() as s:
        code, rooms = s.execute(
            select(Facility.code, func.count(Room.id))
            .join(Room, Room.facility_id == Facility.id)
            .group_by(Facility.code)
            .order_by(func.count(Room.id).desc(), Facility.code)
            .limit(1)
        ).one()
    assert rooms >= 6
    start = (frozen_now() + timedelta(days=1)).date()
    return f"/availability?facility={code}&period=1m&from={start.isoformat()}"


@pytest.mark.parametrize("locale", ["ja", "en"])
@pytest.mark.parametrize("presentation", ["normal", "reader"])
@pytest.mark.parametrize("logged_in", [False, True])
def test_the_largest_grid_month_loads_within_the_budget(client, auth, largest_month, locale, presentation, logged_in):
    if logged_in:
        auth.login()
    choose(client, "language", "locale", locale)
    choose(client, "reader", "presentation", presentation)
    total, js, names = first_load(client, largest_month)
    assert f'<html lang="{locale}"' in text(client.get(largest_month))
    assert any(".js" in n for n in names) and any(".css" in n for n in names), names
    assert total <= PAGE_BUDGET, f"{largest_month} ({locale}, {presentation}): {total} bytes gzipped with {names}"
    assert js <= JS_BUDGET, f"{largest_month}: {js} bytes of JavaScript gzipped"


@pytest.mark.parametrize(
    "url",
    [
        "/",
        "/mymenu/reservations",
        "/mymenu/lottery",
        "/payment/",
        "/search/facilities",
        "/assembly-facilities",
    ],
)
def test_the_top_page_and_the_lists_load_within_the_budget(client, auth, url):
    auth.login()
    total, js, names = first_load(client, url)
    assert total <= PAGE_BUDGET, f"{url}: {total} bytes gzipped with {names}"
    assert js <= JS_BUDGET, f"{url}: {js} bytes of JavaScript gzipped"
