"""Header settings: language, 読み上げ (reader presentation), 色・文字サイズ変更."""

from __future__ import annotations

from flask import Blueprint, g, redirect, request, url_for
from flask_babel import gettext as _

from blueprints.settings.forms import DisplayForm
from web.channels import LOCALES, PRESENTATIONS, remember_preference
from web.errors import form_errors
from web.navigation import safe_next_url
from web.rendering import render_page
from web.sessions import same_origin_post

bp = Blueprint("settings", __name__, url_prefix="/settings")


def _back():
    return redirect(safe_next_url(request.form.get("next"), url_for("top.index")), code=303)


@bp.post("/language")
@same_origin_post
def language():
    choice = request.form.get("locale")
    response = _back()
    if choice in LOCALES:
        remember_preference(response, "locale", choice)
    return response


@bp.post("/reader")
@same_origin_post
def reader():
    choice = request.form.get("presentation")
    response = _back()
    if choice in PRESENTATIONS:
        remember_preference(response, "presentation", choice)
    return response


@bp.route("/display", methods=["GET", "POST"])
def display():
    form = DisplayForm(
        text_size=g.preferences.text_size,
        colour=g.preferences.colour,
        next=safe_next_url(request.args.get("next"), url_for("top.index")),
    )
    if form.validate_on_submit():
        response = redirect(
            url_for("settings.display", saved=1, next=safe_next_url(form.next.data, url_for("top.index"))), code=303
        )
        remember_preference(response, "text_size", form.text_size.data)
        remember_preference(response, "colour", form.colour.data)
        return response
    return render_page(
        "settings/display.html",
        # guide: L282
        title=_("色・文字サイズ変更"),
        form=form,
        saved=request.args.get("saved") == "1",
        back_url=safe_next_url(form.next.data or request.args.get("next"), url_for("top.index")),
        errors=form_errors(form),
    )
