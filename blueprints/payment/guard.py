"""The payment guard (DESIGN "Architecture" and "Channels", guide L9 and L11): card payment
is refused in the reader presentation and on the kiosk, each with the guide's sentence,
the reason and the way forward; and it needs a registered mail address (rule 7).

The return and notify endpoints are exempt: they move no money by themselves, and the
resident's browser or the card company must always be able to reach them."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.urls import iri_to_uri

from web.channels import current_channel
from web.extensions import csrf
from web.rendering import redirect_whole_page, render_page

# Endpoints every channel may reach (DESIGN "Architecture": they move no money).
EXEMPT_ENDPOINTS = frozenset({"payment.return_from_provider", "payment.notify"})


def continue_url() -> str:
    """Where the resident was going, as a page they can load again: this GET (an htmx GET
    here pushes its own URL, so it is the page too), or for a POST the page at the same
    address (every payment form posts to the page it is on). Percent-encoded: it goes into
    the HX-Redirect header, where a server may send ASCII only (gunicorn refuses the rest)."""
    if request.method == "GET":
        return iri_to_uri(request.full_path.rstrip("?"))
    return iri_to_uri(request.path)


def _refusal(response: Response) -> Response:
    """An htmx request is sent to load the refusal as a whole page; the body carries it too."""
    if getattr(request, "htmx", None):
        response.headers["HX-Redirect"] = continue_url()
    return response


def refuse_reader_presentation() -> Response | None:
    """before_request of the payment blueprint (registered only where the profile serves card
    payment): no settlement screen in reader mode."""
    if request.endpoint in EXEMPT_ENDPOINTS or current_channel().may_pay:
        return None
    return _refusal(
        render_page(
            "payment/reader_refused.html",
            # guide: L9
            title=_("読み上げ用ブラウザモードからはクレジット決済は行えません"),
            status=403,
            next_url=continue_url(),
        )
    )


def require_email() -> Response | None:
    """before_request of the payment blueprint: without a mail address, register one first
    and come back to the same step (rule 7, guide L69). Logged-out visitors are left to
    login_required."""
    if request.endpoint in EXEMPT_ENDPOINTS or not current_user.is_authenticated or current_user.email:
        return None
    return redirect_whole_page(url_for("mymenu.email", next=continue_url()))


# The kiosk instance registers this instead of the payment routes. It keeps the name
# `payment` and the endpoint `select` so that the menus shared by every channel
# (マイメニュー, 申込完了) link to the same place; everything under /payment is refused.
kiosk_bp = Blueprint("payment", __name__, url_prefix="/payment")


def own_device_qr(url: str) -> str:
    """A QR code of `url` as an SVG data URI (the CSP allows data: images only). segno is
    imported here, when a refusal (reader mode, the kiosk) first draws one: a worker that
    shows none does without its 0.6 MB ("Worker memory")."""
    import segno

    return segno.make(url, error="m").svg_data_uri(scale=5, border=4, dark="#000", light="#fff")


@kiosk_bp.route("/", methods=["GET", "POST"], endpoint="select")
@kiosk_bp.route("/<path:rest>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"], endpoint="refused")
@csrf.exempt
def kiosk_refusal(rest: str | None = None) -> Response:
    """施設にあるキオスク端末からはクレジット決済は行えません: the way forward is the
    resident's own phone, by a QR code of the public クレジット決済 選択 page (no credential:
    they log in there themselves)."""
    own_url = current_app.config["PUBLIC_BASE_URL"].rstrip("/") + "/payment/"
    return _refusal(
        render_page(
            "payment/kiosk_refused.html",
            # guide: L11
            title=_("施設にあるキオスク端末からはクレジット決済は行えません"),
            status=403,
            own_url=own_url,
            qr_uri=own_device_qr(own_url),
        )
    )
