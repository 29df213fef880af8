"""The steps from 施設の検索 to 申込完了 (guide L24), shared by the search and apply areas:
the breadcrumb, and the step number that reader mode puts in the title and h1."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from web.channels import current_channel

# guide: L24
MENU = _l("メニュー")
STEPS = [
    # guide: L24
    ("search", _l("施設の検索")),
    # guide: L24
    ("availability", _l("施設別空き状況")),
    # guide: L24
    ("slots", _l("時間帯別空き状況")),
    # guide: L24
    ("details", _l("詳細申請")),
    # guide: L24
    ("confirm", _l("申込確認")),
    # guide: L24
    ("done", _l("申込完了")),
]
STEP_KEYS = [key for key, _label in STEPS]


def step_label(step: str) -> str:
    return str(dict(STEPS)[step])


def step_heading(step: str, label: str | None = None) -> str:
    """The page's title and h1: the step's name (or the page's own heading, e.g. 予約申込 完了);
    in reader mode preceded by where it stands (手順 2/6 施設別空き状況), since the
    breadcrumb is not read as a list of steps there."""
    return numbered_step(label or step_label(step), STEP_KEYS.index(step) + 1, len(STEPS))


def numbered_step(label: str, n: int, total: int) -> str:
    """A step of any flow as reader mode names it in the title and h1 (手順 2/3 予約の取消 確認);
    elsewhere the label alone."""
    if current_channel().numbers_steps:
        return _("手順 %(n)s/%(total)s %(step)s", n=n, total=total, step=label)
    return label


def init_app(app) -> None:
    app.jinja_env.globals.update(numbered_step=numbered_step)


def breadcrumb(step: str, urls: dict[str, str], menu_url: str) -> dict:
    """Context for components/_breadcrumb.html: メニュー, then every step, the earlier ones
    linked where `urls` knows where they are."""
    steps = [(str(MENU), menu_url)] + [(str(label), urls.get(key)) for key, label in STEPS]
    return {"steps": steps, "current": STEP_KEYS.index(step) + 1}
