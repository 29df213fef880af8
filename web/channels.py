"""Channels (DESIGN "Channels"): profile × presentation and what each allows, and the
display preferences, set once per request on `g` (`g.channel`, `g.preferences`,
`g.locale`). The only module that knows the channels' names: everything else asks
`g.channel` (templates: `channel`) a named question such as `may_pay`."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from flask import Flask, Response, current_app, g, request, session

STANDARD, KIOSK = "standard", "kiosk"
NORMAL, READER = "normal", "reader"
PROFILES = (STANDARD, KIOSK)
PRESENTATIONS = (NORMAL, READER)
LOCALES = ("ja", "en")
TEXT_SIZES = ("standard", "large", "xlarge")
COLOURS = ("standard", "contrast", "inverted")

ONE_YEAR = 60 * 60 * 24 * 365


@dataclass(frozen=True)
class Channel:
    """Where a request comes from (profile) and how it is shown (presentation)."""

    profile: str = STANDARD
    presentation: str = NORMAL

    @property
    def is_kiosk(self) -> bool:
        """A locked-down terminal in a facility, used by one resident after another."""
        return self.profile == KIOSK

    @property
    def is_reader(self) -> bool:
        """読み上げ用ブラウザモード: one linear column, whole pages, steps numbered."""
        return self.presentation == READER

    @property
    def serves_card_payment(self) -> bool:
        """Whether this profile's instance has the card-payment routes at all (a kiosk
        answers everything under /payment with its refusal)."""
        return not self.is_kiosk

    @property
    def may_pay(self) -> bool:
        """Card payment — the settlement screens and the card page — only on the standard
        profile in the normal presentation (guide ch. 5, top; DESIGN "Channels"). Every
        other step, cancelling a paid booking included, works in every channel."""
        return self.serves_card_payment and not self.is_reader

    @property
    def loads_fragments(self) -> bool:
        """htmx partial updates; reader mode always loads whole pages."""
        return not self.is_reader

    @property
    def numbers_steps(self) -> bool:
        """Reader mode names where a step stands (手順 2/6) in the title and h1, since the
        breadcrumb is not read as a list of steps there."""
        return self.is_reader

    @property
    def keeps_preferences_in_session(self) -> bool:
        """On a kiosk the next person at the terminal starts afresh: preferences live in the
        server session, not in a cookie that outlives the visit."""
        return self.is_kiosk

    @property
    def stores_no_page(self) -> bool:
        """A kiosk keeps nothing in the browser's cache (no-store on every response)."""
        return self.is_kiosk

    @property
    def other_presentation(self) -> str:
        """What the header's 読み上げ switch changes to."""
        return NORMAL if self.is_reader else READER

    @property
    def layout(self) -> str:
        return f"layouts/{self.profile}_{self.presentation}.html"


def current_channel() -> Channel:
    """The request's channel; before the request's hooks ran (an error raised earlier), the
    instance's profile in the normal presentation."""
    return g.get("channel") or Channel(current_app.config["PROFILE"])


@dataclass(frozen=True)
class Preferences:
    presentation: str = NORMAL
    locale: str = "ja"
    text_size: str = "standard"
    colour: str = "standard"


_CHOICES = {"presentation": PRESENTATIONS, "locale": LOCALES, "text_size": TEXT_SIZES, "colour": COLOURS}


def read_preferences() -> Preferences:
    """The preferences as this profile keeps them: per browser (cookies) on the standard
    profile, per server session on a kiosk, so the next person at the terminal starts
    afresh; the language from the browser's Accept-Language when none is chosen."""
    stored = session if g.channel.keeps_preferences_in_session else request.cookies
    values = {}
    for name, key, choices in _STORED:
        # `in` first: Werkzeug's get raises and catches a KeyError for each absent cookie.
        value = stored[key] if key in stored else None  # noqa: SIM401
        if value in choices:
            values[name] = value
    if "locale" not in values:
        values["locale"] = _browser_locale(request.environ.get("HTTP_ACCEPT_LANGUAGE", ""))
    return _preferences(**values)


_STORED = tuple((name, f"pref_{name}", choices) for name, choices in _CHOICES.items())


# What each Accept-Language header (browsers send a handful of distinct ones) and each
# combination of preferences come to, worked out once per process.
_MEMO_ENTRIES = 512
_locale_memo: dict[str, str] = {}


def _browser_locale(header: str) -> str:
    try:
        return _locale_memo[header]
    except KeyError:
        best = request.accept_languages.best_match(LOCALES)
        # Japanese is the default; English only when the browser prefers it over Japanese.
        locale = "en" if best == "en" else "ja"
        if len(_locale_memo) >= _MEMO_ENTRIES:
            _locale_memo.clear()
        _locale_memo[header] = locale
        return locale


@functools.cache
def _preferences(**values: str) -> Preferences:
    return Preferences(**values)


@functools.cache
def _channel(profile: str, presentation: str = NORMAL) -> Channel:
    return Channel(profile, presentation)


def remember_preference(response: Response, name: str, value: str) -> None:
    if value not in _CHOICES[name]:
        raise ValueError(name)
    if g.channel.keeps_preferences_in_session:
        session[f"pref_{name}"] = value
    else:
        response.set_cookie(f"pref_{name}", value, max_age=ONE_YEAR, httponly=True, samesite="Lax")


def init_app(app: Flask, profile: str) -> None:
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}")
    app.config["PROFILE"] = profile

    def set_channel() -> None:
        g.channel = _channel(profile)  # the stored preferences depend on the profile
        prefs = read_preferences()
        g.channel = _channel(profile, prefs.presentation)
        g.preferences = prefs
        g.locale = prefs.locale

    # First of all hooks: CSRF and rate-limit refusals raised by earlier-registered hooks
    # must already speak the resident's language and use their layout.
    app.before_request_funcs.setdefault(None, []).insert(0, set_channel)

    @app.context_processor
    def channel_context() -> dict:
        if "channel" not in g:  # errors raised before the request hook ran
            g.channel, g.locale, g.preferences = Channel(profile), "ja", Preferences()
        return {
            "layout": g.channel.layout,
            "channel": g.channel,
            "preferences": g.preferences,
            "locale": g.locale,
        }
