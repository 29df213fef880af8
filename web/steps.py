"""A flow's steps as the guide's breadcrumbs name them: the breadcrumb, and the step number
that reader mode puts in the title and h1. `Flow` serves every flow; the steps from
施設の検索 to 申込完了 (guide L24) are defined here because the search and apply areas
share them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from web.channels import current_channel


@dataclass(frozen=True)
class Flow:
    """The steps of one flow, メニュー first, as its breadcrumb shows them. Reader mode numbers
    the steps from `numbered_from` on (手順 n/total), the ones a resident walks through."""

    labels: tuple
    numbered_from: int = 1

    def breadcrumb(self, current: int, links: Mapping[int, str | None]) -> dict:
        """Context for components/_breadcrumb.html: every step, the earlier ones linked where
        `links` knows where they are."""
        steps = [(str(label), links.get(i) if i < current else None) for i, label in enumerate(self.labels)]
        return {"steps": steps, "current": current}

    def label(self, step: int) -> str:
        return str(self.labels[step])

    def heading(self, step: int, label: str | None = None) -> str:
        """The page's title and h1: the step's name (or the page's own heading); numbered in
        reader mode."""
        total = len(self.labels) - self.numbered_from
        return numbered_step(label or self.label(step), step - self.numbered_from + 1, total)


def numbered_step(label: str, n: int, total: int) -> str:
    """A step of any flow as reader mode names it in the title and h1 (手順 2/3 予約の取消 確認);
    elsewhere the label alone."""
    if current_channel().numbers_steps:
        return _("手順 %(n)s/%(total)s %(step)s", n=n, total=total, step=label)
    return label


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


APPLY_FLOW = Flow((MENU, *(label for _key, label in STEPS)))


def step_label(step: str) -> str:
    return APPLY_FLOW.label(STEP_KEYS.index(step) + 1)


def step_heading(step: str, label: str | None = None) -> str:
    """The page's title and h1: the step's name (or the page's own heading, e.g. 予約申込 完了);
    in reader mode preceded by where it stands (手順 2/6 施設別空き状況), since the
    breadcrumb is not read as a list of steps there."""
    return APPLY_FLOW.heading(STEP_KEYS.index(step) + 1, label)


def init_app(app) -> None:
    app.jinja_env.globals.update(numbered_step=numbered_step)


def breadcrumb(step: str, urls: dict[str, str], menu_url: str) -> dict:
    """The search and apply steps' breadcrumb, the earlier steps linked where `urls` (by step
    key) knows where they are."""
    links = {0: menu_url} | {STEP_KEYS.index(key) + 1: url for key, url in urls.items()}
    return APPLY_FLOW.breadcrumb(STEP_KEYS.index(step) + 1, links)
