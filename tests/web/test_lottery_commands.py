"""The lottery as staff and the worker run it: `flask lottery calendar / rooms / draw / verify /
publication / audit` (CliRunner, against the app's database and its frozen clock), the
worker drawing a month by itself on its result date and delivering the notices, and the
result mail in Japanese and English."""

from __future__ import annotations

import email
import email.policy
import json
from datetime import date, datetime, time, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from mail.compose import CallCentre, LotteryResultFacts, LotteryResultLine, lottery_result_mail
from models.lottery import LotteryAudit, LotteryMonth
from models.outbox import OutboxMail
from models.reservation import Reservation
from models.reservation_rules import ReservationState
from models.time_rules import JST
from tests.web.card_support import database, outbox, run_worker

RESULT = datetime(2026, 12, 7, 9, tzinfo=JST)  # February 2027's 抽選結果の発表日 in the demo


def lottery(app, *args: str):
    return app.test_cli_runner().invoke(args=["lottery", *args])


def at(app, moment: datetime) -> None:
    app.config["FROZEN_NOW"] = moment.isoformat()


def month_row(app, month: date) -> LotteryMonth | None:
    with database(app).read_session() as s:
        row = s.scalar(select(LotteryMonth).where(LotteryMonth.use_month == month))
        if row is not None:
            _ = row.rooms
        return row


def audit(app) -> list[tuple[str, str, dict]]:
    with database(app).read_session() as s:
        return [
            (a.operator, a.action, json.loads(a.details))
            for a in s.scalars(select(LotteryAudit).order_by(LotteryAudit.id))
        ]


# -- calendar ---------------------------------------------------------------------------------


def test_calendar_lists_the_months_and_shows_one(app):
    listing = lottery(app, "calendar")
    assert listing.exit_code == 0, listing.output
    assert "2027-01  applications 2026-11-10 09:00 JST – 2026-11-20 00:00 JST" in listing.output
    assert "drawn 2026-11-24 09:00 JST" in listing.output and "2027-02" in listing.output
    shown = lottery(app, "calendar", "--month", "2027-02")
    assert shown.exit_code == 0, shown.output
    assert "抽選結果の発表日    2026-12-07 09:00 JST" in shown.output
    assert "drawn           not yet" in shown.output
    assert f"seed SHA-256    {month_row(app, date(2027, 2, 1)).seed_sha256}" in shown.output


def test_calendar_shows_the_defaults_of_a_month_without_a_row_and_creates_it_with_an_operator(app):
    shown = lottery(app, "calendar", "--month", "2027-04")
    assert shown.exit_code == 0, shown.output
    assert "no lottery calendar row for 2027-04; its defaults would be:" in shown.output
    assert "抽選申込 opens      2027-02-01 09:00 JST" in shown.output
    assert month_row(app, date(2027, 4, 1)) is None

    refused = lottery(app, "calendar", "--month", "2027-04", "--create")
    assert refused.exit_code == 2 and "--operator NAME is needed" in refused.output

    app.config["LOTTERY_ENTRY_CAP"] = 3  # the settings in force when the month is made
    made = lottery(app, "calendar", "--month", "2027-04", "--create", "--result", "2027-02-16", "--operator", "山田")
    assert made.exit_code == 0, made.output
    assert "caps per group: 3 entries, 8 entries + bookings" in made.output
    row = month_row(app, date(2027, 4, 1))
    assert row.result_at == datetime(2027, 2, 16, 9, tzinfo=JST)  # a bare date means the usual 9:00
    assert sorted(r.room_id for r in row.rooms) == [3, 4, 7]  # February's rooms
    operator, action, details = audit(app)[-1]
    assert (operator, action, details["seed_sha256"]) == ("山田", "create_month", row.seed_sha256)


def test_calendar_moves_a_date_before_it_applies_and_refuses_one_that_has_passed(app):
    moved = lottery(app, "calendar", "--month", "2027-02", "--result", "2026-12-08 10:00", "--operator", "鈴木")
    assert moved.exit_code == 0, moved.output
    assert "moved: --result" in moved.output
    assert month_row(app, date(2027, 2, 1)).result_at == datetime(2026, 12, 8, 10, tzinfo=JST)
    assert audit(app)[-1] == (
        "鈴木",
        "move_dates",
        {"result_at": ["2026-12-07T09:00:00+09:00", "2026-12-08T10:00:00+09:00"]},
    )

    passed = lottery(app, "calendar", "--month", "2027-02", "--applications-open", "2026-11-26", "--operator", "鈴木")
    assert passed.exit_code == 1 and "applications_open_at (2026-11-23 09:00 JST) cannot be moved" in passed.output
    out_of_order = lottery(app, "calendar", "--month", "2027-02", "--first-come", "2026-12-05", "--operator", "鈴木")
    assert out_of_order.exit_code == 1 and "dates out of order" in out_of_order.output
    drawn = lottery(app, "calendar", "--month", "2027-01", "--first-come", "2026-12-01", "--operator", "鈴木")
    assert drawn.exit_code == 1 and "or the month is drawn" in drawn.output
    for bad in (["--month", "2027-1"], ["--month", "2027-02", "--result", "tomorrow", "--operator", "x"]):
        assert lottery(app, "calendar", *bad).exit_code == 2


# -- rooms ------------------------------------------------------------------------------------


def test_rooms_are_shown_and_fixed_once_the_period_opened(app):
    shown = lottery(app, "rooms", "--month", "2027-02")
    assert shown.exit_code == 0, shown.output
    assert "lottery rooms of 2027-02: 3" in shown.output
    assert "051 中小企業センター ホール" in shown.output and "(fixed 2026-11-23 09:00 JST)" in shown.output
    fixed = lottery(app, "rooms", "--month", "2027-02", "--add", "5", "--operator", "鈴木")
    assert fixed.exit_code == 1 and "the rooms of 2027-02 are fixed" in fixed.output


def test_rooms_of_a_month_not_yet_open_can_be_changed_with_an_audit_record(app):
    assert lottery(app, "calendar", "--month", "2027-03", "--create", "--operator", "山田").exit_code == 0
    changed = lottery(app, "rooms", "--month", "2027-03", "--add", "5", "--remove", "3", "--operator", "山田")
    assert changed.exit_code == 0, changed.output
    assert sorted(r.room_id for r in month_row(app, date(2027, 3, 1)).rooms) == [4, 5, 7]
    assert audit(app)[-1] == ("山田", "set_rooms", {"added": [5], "removed": [3], "rooms": [4, 5, 7]})
    sports = lottery(app, "rooms", "--month", "2027-03", "--add", "9", "--operator", "山田")
    assert sports.exit_code == 1 and "not in a 集会・学校 facility" in sports.output
    unknown = lottery(app, "rooms", "--month", "2027-03", "--add", "999", "--operator", "山田")
    assert unknown.exit_code == 1 and "no such room: 999" in unknown.output
    nobody = lottery(app, "rooms", "--month", "2027-03", "--add", "6")
    assert nobody.exit_code == 2
    missing = lottery(app, "rooms", "--month", "2027-09")
    assert missing.exit_code == 1 and "no lottery calendar row for 2027-09" in missing.output


# -- draw, verify, publication, audit ------------------------------------------------------------


def test_draw_verify_and_publication(app, tmp_path):
    early = lottery(app, "draw", "--month", "2027-02")
    assert early.exit_code == 1 and "cannot be drawn before its result date 2026-12-07 09:00 JST" in early.output
    assert lottery(app, "verify", "--month", "2027-02").output.strip().endswith("has not been drawn yet")

    at(app, RESULT)
    drawn = lottery(app, "draw", "--month", "2027-02", "--operator", "佐藤")
    assert drawn.exit_code == 0, drawn.output
    assert "2027-02: drawn, 4 entries: 3 won, 1 lost; 2 groups notified" in drawn.output
    again = lottery(app, "draw", "--month", "2027-02")
    assert again.exit_code == 0 and "2027-02: drawn already at" in again.output and "nothing changed" in again.output
    assert audit(app)[-1][:2] == ("佐藤", "draw")

    verified = lottery(app, "verify", "--month", "2027-02")
    assert verified.exit_code == 0 and "verified: 4 entries, 3 won" in verified.output
    assert lottery(app, "verify", "--month", "2027-01").exit_code == 0  # the demo's drawn month

    published = lottery(app, "publication", "--month", "2027-02")
    assert published.exit_code == 0
    document = json.loads(published.output)
    path = tmp_path / "2027-02.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    assert lottery(app, "verify", "--file", str(path)).exit_code == 0
    winner = next(e for e in document["entries"] if e["result"] == "won")
    winner["result"] = "lost"
    path.write_text(json.dumps(document), encoding="utf-8")
    tampered = lottery(app, "verify", "--file", str(path))
    assert tampered.exit_code == 1 and f"MISMATCH entry {winner['public_id']}" in tampered.output

    records = lottery(app, "audit", "--month", "2027-02")
    assert records.exit_code == 0
    assert "demo  create_month  2027-02" in records.output and "佐藤  draw  2027-02" in records.output


def test_draw_of_an_unknown_month_and_bad_input_say_so(app):
    unknown = lottery(app, "draw", "--month", "2030-01")
    assert unknown.exit_code == 1 and "no lottery calendar row for 2030-01" in unknown.output
    assert lottery(app, "draw", "--month", "January").exit_code == 2
    assert lottery(app, "verify").exit_code == 2
    assert lottery(app, "publication", "--month", "2027-02").exit_code == 1


# -- the worker -------------------------------------------------------------------------------


def test_the_worker_draws_the_month_on_its_result_date_and_delivers_the_notices(app):
    at(app, RESULT - timedelta(minutes=1))
    before = run_worker(app)
    assert before.exit_code == 0, before.output
    assert "lottery: drawn 0, failed 0, months made 1" in before.output  # March's row, in good time
    assert month_row(app, date(2027, 2, 1)).drawn_at is None

    at(app, RESULT + timedelta(seconds=30))
    result = run_worker(app)
    assert result.exit_code == 0, result.output
    assert "lottery: drawn 1, failed 0, months made 0" in result.output
    assert month_row(app, date(2027, 2, 1)).drawn_at == RESULT + timedelta(seconds=30)
    mail = next(m for m in outbox(app) if m.dedupe_key == "lottery:2027-02:1")
    assert mail.sent_at is not None  # delivered in the same pass: without SMTP_HOST, as a file
    (written,) = (Path(app.config["INSTANCE_PATH"]) / "mail").glob(f"{mail.id:08d}-lottery-2027-02-1.eml")
    message = email.message_from_bytes(written.read_bytes(), policy=email.policy.default)
    assert message["Subject"] == "目黒区施設予約システム 抽選結果のお知らせ"
    assert "2027年2月分の抽選結果をお知らせします" in message.get_content()
    again = run_worker(app)
    assert "lottery: drawn 0, failed 0" in again.output


def test_a_won_booking_from_the_draw_expires_as_a_provisional_one_does(app):
    at(app, RESULT)
    assert lottery(app, "draw", "--month", "2027-02").exit_code == 0
    at(app, datetime(2026, 12, 22, 0, 0, 1, tzinfo=JST))  # the day after the deadline (12/21)
    result = run_worker(app)
    assert result.exit_code == 0, result.output
    with database(app).read_session() as s:
        drawn = s.scalars(select(Reservation).where(Reservation.lottery_result_at == RESULT)).all()
    assert drawn and {r.state for r in drawn} == {ReservationState.CANCELLED}
    with database(app).read_session() as s:
        expiry = s.scalars(select(OutboxMail.dedupe_key).where(OutboxMail.dedupe_key.like("expiry:%"))).all()
    assert {f"expiry:{r.number}" for r in drawn} <= set(expiry)


# -- the result mail ----------------------------------------------------------------------------


def facts(locale: str) -> LotteryResultFacts:
    place = (
        "Kumin Centre Community Education Hall 701 (former Seminar Room 1)"
        if locale == "en"
        else "区民センター社会教育館 701【旧第1研修室】"
    )
    hall = "Small Business Centre Hall" if locale == "en" else "中小企業センター ホール"
    return LotteryResultFacts(
        resident_name="目黒団体",
        use_month=date(2027, 2, 1),
        result_date=date(2026, 12, 7),
        first_come_date=date(2026, 12, 12),
        lines=(
            LotteryResultLine(
                won=True,
                application_number="2026-000008",
                use_date=date(2027, 2, 6),
                starts_at=time(18, 30),
                ends_at=time(21, 30),
                place=place,
                reservation_number="2026-000016",
                fee_yen=1100,
                deadline=date(2026, 12, 21),
            ),
            LotteryResultLine(
                won=False,
                application_number="2026-000007",
                use_date=date(2027, 2, 5),
                starts_at=time(9),
                ends_at=time(12),
                place=hall,
            ),
            LotteryResultLine(
                won=False,
                application_number="2026-000009",
                use_date=date(2027, 2, 9),
                starts_at=time(9),
                ends_at=time(12),
                place=hall,
                reason="cap",
            ),
        ),
    )


CENTRE = CallCentre("03-5431-5932", "平日9:00~21:00")


def test_the_result_mail_in_japanese():
    mail = lottery_result_mail(facts("ja"), CENTRE, "ja")
    assert mail.subject == "目黒区施設予約システム 抽選結果のお知らせ"
    expected = """目黒団体様

目黒区施設予約システムからのお知らせです。
2027年2月分の抽選結果をお知らせします（抽選結果の発表日：2026年12月7日）。

【当選】
抽選申込番号：2026-000008
予約番号：2026-000016
利用日：2027年2月6日
利用時刻：18時30分~21時30分
利用施設：区民センター社会教育館 701【旧第1研修室】
使用料：1,100円
支払期限：2026年12月21日

【落選】
抽選申込番号：2026-000007
利用日：2027年2月5日
利用時刻：9時~12時
利用施設：中小企業センター ホール

【落選】
抽選申込番号：2026-000009
利用日：2027年2月9日
利用時刻：9時~12時
利用施設：中小企業センター ホール
落選の理由：1団体あたりの当選と予約の上限（1か月の利用分あたり）に達していたため

当選した予約は、支払期限までに、マイメニューの「クレジット決済」または利用施設の窓口で使用料をお支払いください。
支払期限までにお支払いがない場合、予約は自動的に取消されます。
落選した時間帯も、空きがあれば2026年12月12日から先着順で申込できます（一般空き申込）。

本メールに心当たりがない場合やご不明な点等がありましたら、
下記のコールセンターへお問い合わせください。
TEL：03-5431-5932
(受付時間：平日9:00~21:00)
"""
    assert mail.body == expected


def test_the_result_mail_in_english():
    mail = lottery_result_mail(facts("en"), CallCentre("03-5431-5932", "weekdays 9:00–21:00"), "en")
    assert mail.subject == "Meguro City Facility Reservation System: your lottery results"
    body = mail.body
    for line in (
        "Here are your lottery results for February 2027 (results announced on 7 December 2026).",
        "[Won]",
        "Lottery application number: 2026-000008",
        "Booking number: 2026-000016",
        "Facility: Kumin Centre Community Education Hall 701 (former Seminar Room 1)",
        "Payment deadline: 21 December 2026",
        "[Not won]",
        "Reason: your group had reached its limit of wins and bookings for the month of use",
        "Time slots you did not win can still be booked first come, first served from 12 December 2026, if they are free.",
    ):
        assert line in body, line
    assert body.count("Reason:") == 1  # a loss by the draw itself gives no reason
    japanese = [ch for ch in body.replace("目黒団体", "") if "\u3040" <= ch <= "\u9fff"]
    assert japanese == []


@pytest.mark.parametrize("locale", ["ja", "en"])
def test_a_mail_with_only_losses_says_nothing_about_paying(locale):
    only_lost = LotteryResultFacts(**{**facts(locale).__dict__, "lines": facts(locale).lines[1:]})
    body = lottery_result_mail(only_lost, CENTRE, locale).body
    assert "支払期限" not in body and "Payment deadline" not in body
