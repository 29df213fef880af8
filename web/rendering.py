"""The one way to answer with HTML: the whole page, or only its fragment for htmx."""

from __future__ import annotations

import sys
from collections.abc import Callable
from urllib.parse import urlencode

from flask import Flask, Response, current_app, g, make_response, redirect, render_template, request, session
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from jinja2 import pass_context
from jinja2.utils import concat
from markupsafe import Markup, escape

from web.bounded_memo import BoundedMemo
from web.channels import current_channel
from web.errors import ErrorItem
from web.navigation import current_path


def wants_fragment() -> bool:
    """An htmx request that is not a history restore, outside reader mode (which always
    loads whole pages)."""
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.history_restore_request and current_channel().loads_fragments


def render_page(
    page: str,
    *,
    fragment: str | None = None,
    title: str,
    errors: list[ErrorItem] | None = None,
    status: int | None = None,
    **context,
) -> Response:
    """Render `page` (which extends the channel's layout and includes `fragment`), or only
    `fragment` for an htmx request. Errors make the title start with エラー: / Error: and
    the status 422 unless told otherwise."""
    errors = errors or []
    template = fragment if (fragment and wants_fragment()) else page
    body = render_template(template, title=title, errors=errors, is_fragment=template == fragment, **context)
    response = make_response(body, status or (422 if errors else 200))
    response.vary.add("HX-Request")
    return response


def redirect_whole_page(target: str) -> Response:
    """A redirect that replaces the whole page: 302 after a GET, 303 (See Other) after a POST,
    so that the browser follows with a GET; for htmx, 204 with HX-Redirect, because a
    followed redirect would swap the other page into a fragment's place. The target must be ASCII (percent-encoded): it goes into a
    header, where gunicorn refuses anything else."""
    if getattr(request, "htmx", None):
        response = current_app.response_class(status=204)
        response.headers["HX-Redirect"] = target
        return response
    return redirect(target, code=302 if request.method in ("GET", "HEAD") else 303)


def _fill_holes(html: str, csrf: bool) -> str:
    """Put this page's path and (`csrf`: there is a session or a login) the session's CSRF
    token in the places header_nav's memo holds for them (str's replace: Markup's would
    escape what it looks for)."""
    path = current_path()
    html = html.replace("<next>", str(escape(path)))
    # As url_for writes a query: url_for("auth.login", next=path) is the rule's URL + this.
    html = html.replace("<query>", str(escape(urlencode([("next", path)], safe="!$'()*,/:;?@"))))
    if csrf:
        html = html.replace("<csrf>", str(escape(generate_csrf())))
    return html


def _frame_bytes(value: tuple[int, bytes, bytes]) -> int:
    return sys.getsizeof(value[1]) + sys.getsizeof(value[2])


class PageFrames(BoundedMemo[tuple, tuple[int, bytes, bytes]]):
    """Whole pages rendered around a placeholder for their body, split there, UTF-8, with
    header_nav's holes left in (page_frame): at most `max_bytes` of them per process, least
    recently used out first."""

    def __init__(self, max_bytes: int):
        super().__init__(max_bytes, sizeof=_frame_bytes)


# At most this much of page frames per app and process (a few dozen pages' frames).
PAGE_FRAME_BYTES = 256 * 1024


def page_frame(body: bytes, placeholder: str, key: tuple, render: Callable[[], Response]) -> Response:
    """The whole page around `body` (escaped HTML, UTF-8): `render()` renders it (with
    render_page) with `placeholder` where the body goes, and `body` is put in its place. For
    an anonymous visitor on the standard profile the page around the placeholder is kept
    (PageFrames), per `key` — which must hold every value of the page's own that the
    rendering reads (its template, title, the URL's parts …) — and per what the layout
    reads of the request: the language, channel, preferences, host, script root and whether
    there is a session. header_nav's holes (this page's path, the CSRF token) stay in the
    kept frame and are filled per request, as header_nav fills them. Logged in (the header
    names the resident) and on kiosks (the idle dialog writes the path and token itself),
    the page is rendered every time."""
    marker = placeholder.encode()
    if current_user.is_authenticated or g.channel.is_kiosk or wants_fragment():
        response = render()
        before, _sep, after = response.get_data().partition(marker)
        response.set_data(b"".join((before, body, after)))
        return response
    has_session = bool(session)
    environ = request.environ
    memo_key = (
        key,
        g.locale,
        g.channel,
        g.preferences,
        environ.get("HTTP_HOST"),
        environ.get("SCRIPT_NAME"),
        has_session,
    )
    frames: PageFrames = current_app.extensions["page_frames"]
    frame = frames.get(memo_key)
    if frame is None:
        g.frame_holes = True
        try:
            rendered = render()
        finally:
            g.pop("frame_holes", None)
        before, _sep, after = rendered.get_data().partition(marker)
        frame = (rendered.status_code, before, after)
        frames.set(memo_key, frame)
    status, before, after = frame
    head = _fill_holes(before.decode(), has_session).encode()
    response = make_response(b"".join((head, body, after)), status)
    response.vary.add("HX-Request")
    return response


# Where frame_head puts the page's title (an escaped title never holds "<").
TITLE_HOLE = "<!--frame-title-->"

# How many page starts (frame_head) a process keeps: each about 3 KB (a str of some 1,400
# characters, Japanese ones two bytes each), at most about 150 KB in all.
FRAME_HEADS = 48

# How many rendered pieces a process keeps (pieces × languages × hosts × their data).
SHARED_PIECES = 1024


def init_app(app: Flask) -> None:
    """`shared_piece(name, key)` in templates: a piece of a page that is the same for every
    request in a language with the same `key`, rendered on its first use and then reused
    (issue 12). Without a key (the footer, the head's links, the header's fixed links) the
    template may depend on the language and on URLs only (url_for depends on the host and
    the script root: part of the key); with one (the top page's search panel and lottery
    calendar) also on exactly what the key holds — every value it reads, compared by value
    (rows, dates), so that other data renders afresh. Never the visitor, the session, the
    channel, or anything of the page's own that the key does not hold."""
    pieces: dict[tuple, Markup] = {}

    @pass_context
    def shared_piece(context, name: str, key: tuple = ()) -> Markup:
        environ = request.environ
        memo_key = (name, context.get("locale"), environ.get("HTTP_HOST"), environ.get("SCRIPT_NAME"), key)
        try:
            return pieces[memo_key]
        except KeyError:
            html = Markup(app.jinja_env.get_template(name).render(context.get_all()))
            if len(pieces) >= SHARED_PIECES:
                pieces.clear()
            pieces[memo_key] = html
            return html

    app.jinja_env.globals["shared_piece"] = shared_piece

    heads: dict[tuple, Markup] = {}
    app.extensions["frame_heads"] = heads
    title_hole = {"title": Markup(TITLE_HOLE)}  # noqa: S704 (a constant)

    # Stand-ins for what header_nav puts in: each holds "<", which an escaped value never does.
    holes = {"header_next": Markup("<next>"), "header_next_query": Markup("<query>"), "header_csrf": Markup("<csrf>")}

    @pass_context
    def header_nav(context) -> Markup:
        """components/_header_nav.html: rendered once per language, host, channel, login
        state and whether there is a session (a CSRF token), then this page's path and the
        session's token put in its places (the next= of the header's forms and links)."""
        channel = context["channel"]
        authenticated = current_user.is_authenticated
        has_session = bool(session)
        environ = request.environ
        memo_key = (
            "components/_header_nav.html",
            context.get("locale"),
            environ.get("HTTP_HOST"),
            environ.get("SCRIPT_NAME"),
            (channel.profile, channel.presentation, authenticated, has_session),
        )
        try:
            piece = pieces[memo_key]
        except KeyError:
            piece = Markup(app.jinja_env.get_template(memo_key[0]).render(context.get_all() | holes))  # noqa: S704
            if len(pieces) >= SHARED_PIECES:
                pieces.clear()
            pieces[memo_key] = piece
        if g.get("frame_holes"):  # a page_frame being kept: its caller puts them in
            return piece
        return Markup(_fill_holes(str(piece), has_session or authenticated))  # noqa: S704

    app.jinja_env.globals["header_nav"] = header_nav

    @pass_context
    def frame_head(context) -> Markup:
        """components/_frame_head.html: the page's start up to the header's resident card,
        rendered once per language, host, script root, channel, preferences (text size and
        colour), layout (its head_scripts block) and whether the title says エラー, then the
        page's title put in its place — as components/_title.html writes it."""
        blocks = context.blocks.get("head_scripts") or [None]
        channel, preferences = context["channel"], context["preferences"]
        environ = request.environ
        memo_key = (
            "components/_frame_head.html",
            context.get("locale"),
            environ.get("HTTP_HOST"),
            environ.get("SCRIPT_NAME"),
            (channel.profile, channel.presentation, preferences.text_size, preferences.colour, blocks[0]),
            bool(context.resolve("errors")),
        )
        try:
            piece = heads[memo_key]
        except KeyError:
            head_scripts = Markup(concat(blocks[0](context))) if blocks[0] else Markup("")  # noqa: S704
            title = app.jinja_env.get_template("components/_title.html").render(context.get_all() | title_hole)
            extra = {"frame_title": Markup(title), "frame_head_scripts": head_scripts}  # noqa: S704
            piece = Markup(app.jinja_env.get_template(memo_key[0]).render(context.get_all() | extra))  # noqa: S704
            if len(heads) >= FRAME_HEADS:
                heads.clear()
            heads[memo_key] = piece
        before, _sep, after = str(piece).partition(TITLE_HOLE)
        return Markup(before + str(escape(context.resolve("title"))) + after)  # noqa: S704

    app.jinja_env.globals["frame_head"] = frame_head
    app.extensions["page_frames"] = PageFrames(PAGE_FRAME_BYTES)
