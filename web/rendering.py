"""The one way to answer with HTML: the whole page, or only its fragment for htmx."""

from __future__ import annotations

from urllib.parse import urlencode

from flask import Flask, Response, current_app, make_response, redirect, render_template, request, session
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from jinja2 import pass_context
from markupsafe import Markup, escape

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
        html = str(piece)  # str's replace: Markup's would escape what it looks for
        path = current_path()
        html = html.replace("<next>", str(escape(path)))
        # As url_for writes a query: url_for("auth.login", next=path) is the rule's URL + this.
        html = html.replace("<query>", str(escape(urlencode([("next", path)], safe="!$'()*,/:;?@"))))
        if has_session or authenticated:
            html = html.replace("<csrf>", str(escape(generate_csrf())))
        return Markup(html)  # noqa: S704 (rendered by Jinja, escaped values put in)

    app.jinja_env.globals["header_nav"] = header_nav
