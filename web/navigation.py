"""Where to go next: only paths on this site, so `next=` cannot send anyone elsewhere."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, current_app, g, request
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


def init_app(app: Flask) -> None:
    # Before the blueprints register their rules, so that every <int:…> uses it.
    app.url_map.converters["int"] = RowIdConverter
    app.jinja_env.globals.update(current_path=current_path, call_centre_hours=call_centre_hours)
