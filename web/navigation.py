"""Where to go next: only paths on this site, so `next=` cannot send anyone elsewhere."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, current_app, g, has_request_context, request
from werkzeug.routing import IntegerConverter

# The largest id a PostgreSQL INTEGER column holds.
MAX_ROW_ID = 2**31 - 1


def safe_next_url(value: str | None, fallback: str) -> str:
    """`value` if it is a path on this site (no scheme, no host, no backslash tricks, no
    control characters, which no Location header may carry)."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return fallback
    if any(ord(char) < 0x20 or ord(char) == 0x7F for char in value):
        return fallback
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return fallback
    return value


def current_path() -> str:
    """This page's path and query, for `next=` in header forms (htmx requests report the
    page they came from)."""
    htmx = getattr(request, "htmx", None)
    if htmx and htmx.current_url:
        parts = urlsplit(htmx.current_url)
        return parts.path + (f"?{parts.query}" if parts.query else "")
    return request.full_path.rstrip("?")


def call_centre_hours() -> str:
    return current_app.config["CALL_CENTRE_HOURS_EN" if g.get("locale") == "en" else "CALL_CENTRE_HOURS_JA"]


class RowIdConverter(IntegerConverter):
    """`<int:…>` in every route: only numbers a database id can be, so a forged huge id is
    a plain 404 instead of a database overflow error."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", MAX_ROW_ID)
        super().__init__(map, *args, **kwargs)


# How many built URLs a process remembers (a `next=` of every path asked for would grow
# without end): the memo starts afresh when full.
URL_MEMO_ENTRIES = 4096


def remember_built_urls(app: Flask) -> None:
    """`url_for` remembers what it built: a page builds the same forty-odd links (header,
    footer, static files under their hashed names) on every request, at 10–20 µs each
    (issue 12). The same arguments, host and script root give the same URL (the only
    url_defaults hook, the static names, depends on the arguments alone); what depends on
    the request's blueprint (".view") or asks for more (_external, _anchor, …), and any
    use outside a request, is built every time."""
    build = app.url_for
    memo: dict[tuple, str] = {}

    def url_for(endpoint: str, **values) -> str:
        if endpoint.startswith(".") or not has_request_context():
            return build(endpoint, **values)
        environ = request.environ
        try:
            key = (environ.get("HTTP_HOST"), environ.get("SCRIPT_NAME"), endpoint, *sorted(values.items()))
            return memo[key]
        except KeyError:
            if any(name.startswith("_") for name in values):
                return build(endpoint, **values)
            url = build(endpoint, **values)
            if len(memo) >= URL_MEMO_ENTRIES:
                memo.clear()
            memo[key] = url
            return url
        except TypeError:  # a value that is not hashable (a list of values)
            return build(endpoint, **values)

    app.url_for = url_for  # type: ignore[method-assign]  # flask.url_for calls current_app.url_for
    app.jinja_env.globals["url_for"] = url_for


def init_app(app: Flask) -> None:
    # Before the blueprints register their rules, so that every <int:…> uses it.
    app.url_map.converters["int"] = RowIdConverter
    app.jinja_env.globals.update(current_path=current_path, call_centre_hours=call_centre_hours)
