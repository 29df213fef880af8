"""Sessions that cannot be taken over (DESIGN "Accounts and sign-in", Sessions), with
signed cookies and with Redis sessions (Flask-Session): a new id at login, a password change
ends the other sessions, different cookie names for the site and the kiosk, anonymous
visitors leave nothing lasting in Redis, Secure cookies by default outside debug, HSTS
over https."""

from __future__ import annotations

import os
import uuid

import pytest

from app import create_app
from config import Config
from tests.conftest import DEMO_PASSWORD, AuthActions, csrf_token_from, make_config

REDIS_URL = os.environ.get("ACCOUNTS_TEST_REDIS_URL") or "redis://127.0.0.1:6379/1"


def redis_client():
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.RedisError:
        pytest.skip(f"no Redis at {REDIS_URL}")
    return client


@pytest.fixture(params=["signed cookie", "redis"])
def any_app(request, database_url, tmp_path):
    """The standard app with each kind of session."""
    extra = {}
    if request.param == "redis":
        redis_client()
        extra = {"REDIS_URL": REDIS_URL, "RATELIMIT_KEY_PREFIX": f"t-{uuid.uuid4().hex[:8]}"}
    application = create_app("standard", make_config(database_url, tmp_path, **extra))
    yield application
    application.extensions["database"].dispose()


@pytest.fixture
def redis_app(database_url, tmp_path):
    redis_client()
    application = create_app("standard", make_config(database_url, tmp_path, REDIS_URL=REDIS_URL))
    yield application
    application.extensions["database"].dispose()


def logged_in(client) -> bool:
    return client.get("/mymenu/").status_code == 200


def test_the_id_held_before_login_does_not_log_anyone_in_afterwards(any_app):
    resident = any_app.test_client()
    resident.get("/login")
    before = resident.get_cookie("session").value
    # Someone who copied (or planted) the pre-login cookie…
    attacker = any_app.test_client()
    attacker.set_cookie("session", before)
    AuthActions(resident).login()
    after = resident.get_cookie("session").value
    assert after != before
    assert logged_in(resident)
    # …is not logged in by the resident's login.
    assert not logged_in(attacker)
    assert "目黒団体" not in attacker.get("/").get_data(as_text=True)


def test_with_redis_the_pre_login_session_is_deleted_at_login(redis_app):
    store = redis_client()
    resident = redis_app.test_client()
    resident.get("/login")
    before = resident.get_cookie("session").value
    assert store.exists(f"session:standard:{before}")
    AuthActions(resident).login()
    after = resident.get_cookie("session").value
    assert after != before
    assert not store.exists(f"session:standard:{before}")
    assert store.exists(f"session:standard:{after}")


def change_password(client, current=DEMO_PASSWORD, new="ginkgo-river-lantern-42"):
    page = client.get("/mymenu/profile/password").get_data(as_text=True)
    epoch = page.split('name="epoch" type="hidden" value="')[1].split('"')[0]
    return client.post(
        "/mymenu/profile/password",
        data={
            "csrf_token": csrf_token_from(page),
            "epoch": epoch,
            "current_password": current,
            "new_password": new,
            "new_password_confirm": new,
        },
    )


def test_a_password_change_ends_the_other_sessions_and_renews_its_own(any_app):
    here, elsewhere = any_app.test_client(), any_app.test_client()
    AuthActions(here).login()
    AuthActions(elsewhere).login()
    stolen = here.get_cookie("session").value
    assert logged_in(here) and logged_in(elsewhere)
    response = change_password(here)
    assert response.status_code == 303 and response.headers["Location"] == "/mymenu/profile"
    assert here.get_cookie("session").value != stolen
    assert logged_in(here)
    assert not logged_in(elsewhere)
    replay = any_app.test_client()
    replay.set_cookie("session", stolen)
    assert not logged_in(replay)


def test_the_site_and_the_kiosk_use_different_cookie_names(database_url, tmp_path):
    site = create_app("standard", make_config(database_url, tmp_path / "s"))
    kiosk = create_app("kiosk", make_config(database_url, tmp_path / "k"))
    try:
        client = site.test_client()
        AuthActions(client).login()
        cookie = client.get_cookie("session").value
        # The same browser on the kiosk's port sends the site's cookie too (cookies ignore
        # ports): the kiosk does not read it.
        at_kiosk = kiosk.test_client()
        at_kiosk.set_cookie("session", cookie)
        assert at_kiosk.get("/mymenu/").status_code == 302
        at_kiosk.get("/login")
        assert at_kiosk.get_cookie("kiosk_session") is not None
        assert kiosk.config["SESSION_COOKIE_NAME"] != site.config["SESSION_COOKIE_NAME"]
    finally:
        site.extensions["database"].dispose()
        kiosk.extensions["database"].dispose()


# Pages without a form of their own: looking at them creates no session at all (issue 10).
PAGES_WITHOUT_FORMS = [
    "/",
    "/notices",
    "/faq",
    "/guide",
    "/search/facilities",
    "/accessibility",
    "/availability?facility=013",
    "/?tab=name",
]
# Pages whose own form needs a CSRF token: a session, kept at most 30 minutes until login.
PAGES_WITH_FORMS = ["/login", "/password/forgot", "/settings/display"]


@pytest.mark.parametrize("profile", ["standard", "kiosk"])
@pytest.mark.parametrize("store_kind", ["signed cookie", "redis"])
def test_pages_without_forms_create_no_session(database_url, tmp_path, profile, store_kind):
    extra = {}
    if store_kind == "redis":
        store = redis_client()
        # A key prefix of this test's own: other tests running at the same time (xdist) make
        # sessions in the same Redis database, and this test counts keys.
        extra = {"REDIS_URL": REDIS_URL, "SESSION_KEY_PREFIX": f"session-{uuid.uuid4().hex}:"}
    application = create_app(profile, make_config(database_url, tmp_path, **extra))
    prefix = f"{extra.get('SESSION_KEY_PREFIX', 'session:')}{profile}:"
    try:
        if store_kind == "redis":
            keys_before = len(list(store.scan_iter(f"{prefix}*")))
        for path in PAGES_WITHOUT_FORMS:
            visitor = application.test_client()
            answer = visitor.get(path)
            assert answer.status_code == 200, (path, answer.status_code)
            assert "Set-Cookie" not in answer.headers, (path, answer.headers["Set-Cookie"])
            # …and the header's own forms still show (読み上げ, language), without a token.
            assert "/settings/reader" in answer.text and "/settings/language" in answer.text
            assert 'name="csrf_token"' not in answer.text, path
        if store_kind == "redis":
            assert len(list(store.scan_iter(f"{prefix}*"))) == keys_before
    finally:
        application.extensions["database"].dispose()


@pytest.mark.parametrize("profile", ["standard", "kiosk"])
def test_anonymous_visitors_leave_nothing_lasting_in_redis(database_url, tmp_path, profile):
    store = redis_client()
    application = create_app(profile, make_config(database_url, tmp_path, REDIS_URL=REDIS_URL))
    cookie_name = application.config["SESSION_COOKIE_NAME"]
    pages = PAGES_WITHOUT_FORMS + PAGES_WITH_FORMS
    try:
        ids = set()
        for i in range(1000):
            visitor = application.test_client()  # cookieless, as a crawler is
            path = pages[i % len(pages)]
            answer = visitor.get(path)
            assert answer.status_code == 200, (path, answer.status_code)
            cookie = visitor.get_cookie(cookie_name)
            if path in PAGES_WITHOUT_FORMS:
                assert cookie is None, path
            else:
                assert cookie is not None, path  # the form's CSRF token needs a session
                ids.add(cookie.value)
        with_forms = sum(1 for i in range(1000) if pages[i % len(pages)] in PAGES_WITH_FORMS)
        assert len(ids) == with_forms
        ttls = [store.ttl(f"session:{profile}:{sid}") for sid in ids]
        assert all(0 < ttl <= 30 * 60 for ttl in ttls), max(ttls)
        # A resident who logs in keeps the session for the working day.
        client = application.test_client()
        AuthActions(client).login()
        assert store.ttl(f"session:{profile}:{client.get_cookie(cookie_name).value}") > 30 * 60
    finally:
        application.extensions["database"].dispose()


@pytest.mark.parametrize("profile", ["standard", "kiosk"])
@pytest.mark.parametrize("store_kind", ["signed cookie", "redis"])
def test_the_header_preferences_work_without_a_session_but_not_from_another_site(
    database_url, tmp_path, profile, store_kind
):
    extra = {}
    if store_kind == "redis":
        redis_client()
        extra = {"REDIS_URL": REDIS_URL, "RATELIMIT_KEY_PREFIX": f"t-{uuid.uuid4().hex[:8]}"}
    application = create_app(profile, make_config(database_url, tmp_path, **extra))
    try:
        _header_preferences(application)
    finally:
        application.extensions["database"].dispose()


def _header_preferences(application):
    client = application.test_client()
    assert 'lang="ja"' in client.get("/faq").text
    # A browser's own post from this site (no token: the page had none to give).
    for same_site in ({"Sec-Fetch-Site": "same-origin"}, {"Origin": "http://localhost"}):
        fresh = application.test_client()
        answer = fresh.post("/settings/language", data={"locale": "en", "next": "/faq"}, headers=same_site)
        assert answer.status_code == 303 and answer.headers["Location"].endswith("/faq")
        assert '<html lang="en"' in fresh.get("/faq").text
        answer = fresh.post("/settings/reader", data={"presentation": "reader", "next": "/faq"}, headers=same_site)
        assert answer.status_code == 303
        assert "presentation-reader" in fresh.get("/faq").text
    # Another site's page posting into this browser is refused, and nothing changes.
    for cross_site in (
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},
        {"Origin": "https://evil.example"},
        {"Origin": "null"},
        {},  # no browser header and no token
    ):
        victim = application.test_client()
        answer = victim.post("/settings/language", data={"locale": "en", "next": "/faq"}, headers=cross_site)
        assert answer.status_code == 400, cross_site
        answer = victim.post("/settings/reader", data={"presentation": "reader", "next": "/faq"}, headers=cross_site)
        assert answer.status_code == 400, cross_site
        page = victim.get("/faq").text
        assert '<html lang="ja"' in page and "presentation-normal" in page
    # A visitor who already has a session gets the token in the header's forms too, which
    # works where a browser sends neither header.
    holder = application.test_client()
    holder.get("/login")
    token = csrf_token_from(holder.get("/faq").text)
    answer = holder.post("/settings/language", data={"csrf_token": token, "locale": "en", "next": "/faq"})
    assert answer.status_code == 303
    assert '<html lang="en"' in holder.get("/faq").text


def test_session_cookies_are_secure_by_default_outside_debug():
    assert Config.from_env(environ={}).SESSION_COOKIE_SECURE is True
    assert Config.from_env(environ={"FLASK_DEBUG": "1"}).SESSION_COOKIE_SECURE is False
    assert Config.from_env(environ={"SESSION_COOKIE_SECURE": "0"}).SESSION_COOKIE_SECURE is False
    assert Config.from_env(environ={"FLASK_DEBUG": "1", "SESSION_COOKIE_SECURE": "1"}).SESSION_COOKIE_SECURE is True


def test_secure_cookie_and_hsts_over_https(database_url, tmp_path):
    application = create_app("standard", make_config(database_url, tmp_path, SESSION_COOKIE_SECURE=True))
    try:
        client = application.test_client()
        over_https = client.get("/login", base_url="https://localhost")
        assert over_https.headers["Strict-Transport-Security"].startswith("max-age=")
        assert "Secure" in over_https.headers["Set-Cookie"]
        assert "Strict-Transport-Security" not in client.get("/login").headers
    finally:
        application.extensions["database"].dispose()


def registration_reads(app, client, path: str) -> list[str]:
    """The statements a GET of `path` sends that read registrations or their 団体区分."""
    from sqlalchemy import event

    statements: list[str] = []
    engine = app.extensions["database"].engine

    def note(_conn, _cursor, statement, *_args):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", note)
    try:
        assert client.get(path).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", note)
    return [s for s in statements if "residents" in s or "group_classes" in s]


def test_a_logged_in_page_checks_the_registration_and_its_epoch_in_one_read(any_app):
    """The registration, its 団体区分 (the header shows them) and the session epoch: one
    statement per request; an anonymous page reads no registration at all (issue 12)."""
    anonymous = any_app.test_client()
    assert registration_reads(any_app, anonymous, "/faq") == []

    resident = any_app.test_client()
    AuthActions(resident).login()
    reads = registration_reads(any_app, resident, "/faq")
    assert len(reads) == 1
    page = resident.get("/faq").get_data(as_text=True)
    assert "有効期限" in page  # the header's 団体区分 and expiries came with that one read


def test_the_login_reads_the_registration_as_the_orm_would(app):
    """The request's registration is read as plain columns (issue 12): every registration's
    columns and 団体区分 (latest expiry first, with their names) are what the ORM loads, a
    registration without any 団体区分 has none, and an unknown id is nobody."""
    from datetime import timedelta

    from sqlalchemy import select
    from sqlalchemy.orm import selectinload

    from models.account import GroupClass, Resident, ResidentGroupClass
    from models.signed_in import load_signed_in

    database = app.extensions["database"]
    with database.write() as s:
        first = s.scalars(select(Resident).order_by(Resident.id)).first()
        other = s.scalars(
            select(GroupClass).where(~GroupClass.id.in_([gc.group_class_id for gc in first.group_classes]))
        )
        s.add(
            ResidentGroupClass(
                resident_id=first.id,
                group_class_id=other.first().id,
                expires_on=first.group_classes[0].expires_on + timedelta(days=30),
            )
        )
        s.flush()
        s.add(
            Resident(
                registration_kind="assembly",
                registration_number="00099999",
                name="区分なしの会",
                password_hash="x",
                registration_expires_on=first.registration_expires_on,
            )
        )
    with database.read_session() as s:
        residents = s.scalars(
            select(Resident).options(selectinload(Resident.group_classes).selectinload(ResidentGroupClass.group_class))
        ).all()
        assert any(len(r.group_classes) > 1 for r in residents) and any(not r.group_classes for r in residents)
        for resident in residents:
            signed_in = load_signed_in(s.connection(), resident.id)
            assert signed_in is not None and signed_in.get_id() == resident.get_id()
            for name in (
                "registration_kind",
                "registration_number",
                "name",
                "email",
                "phone",
                "preferred_locale",
                "registration_expires_on",
                "session_version",
                "must_change_password",
            ):
                assert getattr(signed_in, name) == getattr(resident, name), name
            assert [(h.id, h.group_class_id, h.expires_on) for h in signed_in.group_classes] == [
                (h.id, h.group_class_id, h.expires_on) for h in resident.group_classes
            ]
            for light, held in zip(signed_in.group_classes, resident.group_classes, strict=True):
                gc = held.group_class
                assert (
                    light.group_class.code,
                    light.group_class.name_ja,
                    light.group_class.name_en,
                    light.group_class.is_social_education,
                ) == (gc.code, gc.name_ja, gc.name_en, gc.is_social_education)
        assert load_signed_in(s.connection(), max(r.id for r in residents) + 1) is None


def test_pages_that_need_the_registrations_classes_do_not_read_them_again(app):
    """登録済利用者団体区分 and 申込確認 use the 団体区分 the login read with the registration:
    one registration read per request, as on every other page."""
    resident = app.test_client()
    AuthActions(resident).login()
    assert len(registration_reads(app, resident, "/mymenu/group-classes")) == 1
    # 駒場住区センター 202, a free morning of the demo data (tests/web/test_apply.py's FREE_A).
    confirm = "/apply/confirm?slot=2:2026-12-01:5&r2-purpose=1&r2-attendees=5&r2-charges_fee=no"
    assert len(registration_reads(app, resident, confirm)) == 1


@pytest.mark.parametrize(
    "vary",
    [None, "HX-Request", "HX-Request, Accept-Language", "cookie", "HX-Request, Cookie", "HX-Request,Accept", '"x"'],
)
def test_a_session_only_looked_at_varies_on_the_cookie_as_werkzeug_writes_it(vary):
    """An anonymous request whose session was read gets `Vary: Cookie` exactly as
    Werkzeug's `response.vary.add` writes it, whatever Vary the view set."""
    from flask import Flask, Response

    from web.sessions import SignedCookieSessions

    app = Flask(__name__)
    app.secret_key = "k"
    app.session_interface = SignedCookieSessions()

    def answer(with_vary, ours: bool):
        response = Response("x", headers=[("X-A", "1")] + ([("Vary", with_vary)] if with_vary else []) + [("X-B", "2")])
        with app.test_request_context("/"):
            from flask import session

            session.get("anything")  # looked at, left empty
            if ours:
                app.session_interface.save_session(app, session._get_current_object(), response)
            else:
                response.vary.add("Cookie")
        return list(response.headers)

    assert answer(vary, ours=True) == answer(vary, ours=False)
