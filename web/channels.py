"""Channels (DESIGN "Channels"): profile × presentation, and the display preferences,
set once per request on `g`."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, Response, g, request, session

PROFILES = ("standard", "kiosk")
PRESENTATIONS = ("normal", "reader")
LOCALES = ("ja", "en")
TEXT_SIZES = ("standard", "large", "xlarge")
COLOURS = ("standard", "contrast", "inverted")

ONE_YEAR = 60 * 60 * 24 * 365


@dataclass(frozen=True)
class Preferences:
    presentation: str = "normal"
    locale: str = "ja"
    text_size: str = "standard"
    colour: str = "standard"


_CHOICES = {"presentation": PRESENTATIONS, "locale": LOCALES, "text_size": TEXT_SIZES, "colour": COLOURS}


def _stored(name: str) -> str | None:
    """A preference as this profile keeps it: per browser (cookie) on the standard profile,
    per server session on a kiosk, so the next person at the terminal starts afresh."""
    if g.profile == "kiosk":
        return session.get(f"pref_{name}")
    return request.cookies.get(f"pref_{name}")


def read_preferences() -> Preferences:
    values = {}
    for name, choices in _CHOICES.items():
        value = _stored(name)
        if value in choices:
            values[name] = value
    if "locale" not in values:
        best = request.accept_languages.best_match(LOCALES)
        # Japanese is the default; English only when the browser prefers it over Japanese.
        values["locale"] = "en" if best == "en" else "ja"
    return Preferences(**values)


def remember_preference(response: Response, name: str, value: str) -> None:
    if value not in _CHOICES[name]:
        raise ValueError(name)
    if g.profile == "kiosk":
        session[f"pref_{name}"] = value
    else:
        response.set_cookie(f"pref_{name}", value, max_age=ONE_YEAR, httponly=True, samesite="Lax")


def layout_template() -> str:
    return f"layouts/{g.profile}_{g.presentation}.html"


def init_app(app: Flask, profile: str) -> None:
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}")
    app.config["PROFILE"] = profile

    def set_channel() -> None:
        g.profile = profile
        prefs = read_preferences()
        g.preferences = prefs
        g.presentation = prefs.presentation
        g.locale = prefs.locale

    # First of all hooks: CSRF and rate-limit refusals raised by earlier-registered hooks
    # must already speak the resident's language and use their layout.
    app.before_request_funcs.setdefault(None, []).insert(0, set_channel)

    @app.context_processor
    def channel_context() -> dict:
        if "profile" not in g:  # errors raised before the request hook ran
            g.profile, g.presentation, g.locale, g.preferences = profile, "normal", "ja", Preferences()
        return {
            "layout": layout_template(),
            "profile": g.profile,
            "presentation": g.presentation,
            "preferences": g.preferences,
            "locale": g.locale,
        }
