"""`flask lottery …`: the staff commands (DESIGN "Lottery"). `calendar` shows a month's dates
and moves one before it applies, `rooms` shows and sets which rooms a month draws (until its
period opens), `draw` draws a month whose result date has come (the worker does it by itself),
`verify` recomputes a drawn month from its publication, `publication` prints that document.
Every change is recorded in the audit with the operator's name."""

from __future__ import annotations

import json
from datetime import date, datetime, time
from pathlib import Path

import click
from flask import Flask
from flask.cli import AppGroup
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from lottery.calendar import create_month, load_month, move_dates, set_rooms
from lottery.draw import draw_month, publication_of, verify_month
from mail.compose import call_centre_for
from models import errors
from models.facility import Room
from models.lottery import LotteryAudit, LotteryMonth
from models.lottery_rules import (
    Caps,
    LotteryDates,
    default_dates_rule,
    month_label,
    parse_month,
    verify_publication,
)
from models.time_rules import JST
from web.clock import now
from web.data import database

# The option of each date, and the time a bare date means for it (the defaults' times).
DATE_OPTIONS = {
    "applications_open_at": ("--applications-open", time(9)),
    "applications_close_at": ("--applications-close", time(0)),
    "result_at": ("--result", time(9)),
    "first_come_opens_at": ("--first-come", time(9)),
}
LABELS = {
    "applications_open_at": "抽選申込 opens     ",
    "applications_close_at": "抽選申込 closes    ",
    "result_at": "抽選結果の発表日   ",
    "first_come_opens_at": "一般空き申込 opens ",
}


def _month_option(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return parse_month(value)
    except ValueError:
        raise click.BadParameter("use YYYY-MM, e.g. 2027-01") from None


def _moment(value: str, default_time: time) -> datetime:
    """'2026-12-16 09:00' or '2026-12-16' (the date's usual time), in Tokyo time."""
    text = value.strip().replace("T", " ")
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), default_time, tzinfo=JST)
        return datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=JST)
    except ValueError:
        raise click.BadParameter(f"{value!r}: use YYYY-MM-DD or 'YYYY-MM-DD HH:MM' (Tokyo time)") from None


def _jst(moment: datetime) -> str:
    return moment.astimezone(JST).strftime("%Y-%m-%d %H:%M JST")


def _refusal(exc: errors.DomainError) -> str:
    """Staff-facing words for a refusal (the commands speak English, as the other commands do)."""
    facts = exc.facts
    messages = {
        errors.LotteryMonthUnknown: lambda: f"no lottery calendar row for {month_label(facts['month'])}",
        errors.CalendarDateFixed: lambda: (
            f"{facts['field']} ({_jst(facts['at'])}) cannot be moved: it has passed, the new moment has passed, "
            "or the month is drawn"
        ),
        errors.CalendarOrderInvalid: lambda: (
            "dates out of order: applications open < close <= result <= first come, the result before the "
            "month starts, first come within the month"
        ),
        errors.LotteryRoomsFixed: lambda: (
            f"the rooms of {month_label(facts['month'])} are fixed: its application period opened at "
            f"{_jst(facts['opens_at'])}"
        ),
        errors.NotLotteryRoom: lambda: f"room {facts['room']} is not in a 集会・学校 facility: no lottery there",
        errors.NotFound: lambda: f"no such room: {facts.get('room')}",
        errors.DrawNotDue: lambda: (
            f"{month_label(facts['month'])} cannot be drawn before its result date {_jst(facts['result_at'])}"
        ),
    }
    return messages.get(type(exc), lambda: f"refused: {type(exc).__name__} {facts}")()


def _show_month(month: LotteryMonth) -> None:
    click.echo(f"use month {month_label(month.use_month)}")
    for field in LotteryDates.FIELDS:
        click.echo(f"  {LABELS[field]} {_jst(getattr(month, field))}")
    click.echo(f"  caps per group: {month.entry_cap} entries, {month.total_cap} entries + bookings")
    click.echo(f"  seed SHA-256    {month.seed_sha256}")
    click.echo(f"  drawn           {_jst(month.drawn_at) if month.drawn_at else 'not yet'}")
    click.echo(f"  lottery rooms   {len(month.rooms)} (flask lottery rooms --month {month_label(month.use_month)})")


def _rooms_of(session, room_ids) -> list[Room]:
    return session.scalars(
        select(Room).where(Room.id.in_(room_ids)).options(selectinload(Room.facility)).order_by(Room.id)
    ).all()


def register(app: Flask) -> None:
    group = AppGroup("lottery", help="The lottery (抽選): calendar, rooms, draw, verify.")

    @group.command("calendar")
    @click.option("--month", "month_text", help="Use month YYYY-MM; without it, every month is listed.")
    @click.option("--create", is_flag=True, help="Make the month's row (DESIGN's default dates unless moved below).")
    @click.option("--applications-open", help="Move 抽選申込's start: YYYY-MM-DD [HH:MM], Tokyo time.")
    @click.option("--applications-close", help="Move 抽選申込's end (exclusive).")
    @click.option("--result", help="Move 抽選結果の発表日 (the draw runs then).")
    @click.option("--first-come", help="Move 一般空き申込's start.")
    @click.option("--operator", help="Your name, for the audit record (needed to change anything).")
    def calendar_command(month_text, create, applications_open, applications_close, result, first_come, operator):
        """Show a month's lottery dates, make its row, or move a date before it applies."""
        use_month = _month_option(month_text)
        given = {
            "applications_open_at": applications_open,
            "applications_close_at": applications_close,
            "result_at": result,
            "first_come_opens_at": first_come,
        }
        moves = {f: _moment(v, DATE_OPTIONS[f][1]) for f, v in given.items() if v}
        if use_month is None:
            if create or moves:
                raise click.UsageError("--month is needed to create or move")
            _list_months()
            return
        if (create or moves) and not operator:
            raise click.UsageError("--operator NAME is needed to change the calendar (it is recorded in the audit)")
        try:
            with database().write() as session:
                if create:
                    dates = default_dates_rule(use_month)
                    month = create_month(
                        session,
                        use_month=use_month,
                        now=now(),
                        operator=operator,
                        dates=LotteryDates(**{f: moves.get(f, getattr(dates, f)) for f in LotteryDates.FIELDS}),
                        caps=Caps(entries=app.config["LOTTERY_ENTRY_CAP"], total=app.config["LOTTERY_TOTAL_CAP"]),
                    )
                    click.echo(f"created {month_label(use_month)} (its seed's SHA-256 is published from now on)")
                elif moves:
                    month = move_dates(session, use_month=use_month, now=now(), operator=operator, **moves)
                    click.echo(f"moved: {', '.join(DATE_OPTIONS[f][0] for f in moves)}")
                else:
                    month = _month_or_defaults(session, use_month)
                    if month is None:
                        return
                _show_month(month)
        except ValueError as exc:
            raise click.ClickException(str(exc)) from None
        except errors.DomainError as exc:
            raise click.ClickException(_refusal(exc)) from None

    @group.command("rooms")
    @click.option("--month", "month_text", required=True, help="Use month YYYY-MM.")
    @click.option("--add", "add", type=int, multiple=True, help="Room id to draw by lottery (repeatable).")
    @click.option("--remove", "remove", type=int, multiple=True, help="Room id to make first come again.")
    @click.option("--operator", help="Your name, for the audit record (needed to change anything).")
    def rooms_command(month_text, add, remove, operator):
        """Show or set which rooms a month draws by lottery; fixed once its period opens."""
        use_month = _month_option(month_text)
        if (add or remove) and not operator:
            raise click.UsageError("--operator NAME is needed to change the rooms (it is recorded in the audit)")
        try:
            with database().write() as session:
                if add or remove:
                    month = set_rooms(
                        session, use_month=use_month, now=now(), operator=operator, add=add, remove=remove
                    )
                else:
                    month = load_month(session, use_month)
                rooms = _rooms_of(session, [r.room_id for r in month.rooms])
                click.echo(f"lottery rooms of {month_label(month.use_month)}: {len(rooms)}")
                for room in rooms:
                    click.echo(f"  {room.id:>4}  {room.facility.code} {room.facility.name_ja} {room.name_ja}")
                state = "fixed" if now() >= month.applications_open_at else "can be changed until"
                click.echo(f"  ({state} {_jst(month.applications_open_at)})")
        except errors.DomainError as exc:
            raise click.ClickException(_refusal(exc)) from None

    @group.command("draw")
    @click.option("--month", "month_text", required=True, help="Use month YYYY-MM.")
    @click.option("--operator", default="command", show_default=True, help="Your name, for the audit record.")
    def draw_command(month_text, operator):
        """Draw a month whose result date has come (the worker does it by itself); a month
        drawn already is left as it is."""
        use_month = _month_option(month_text)
        try:
            with database().write() as session:
                outcome = draw_month(
                    session,
                    use_month=use_month,
                    now=now(),
                    centre=lambda locale: call_centre_for(app.config, locale),
                    operator=operator,
                )
        except errors.DomainError as exc:
            raise click.ClickException(_refusal(exc)) from None
        click.echo(outcome.describe())

    @group.command("verify")
    @click.option("--month", "month_text", help="Use month YYYY-MM: its publication, checked against the database.")
    @click.option(
        "--file", "path", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="A published document."
    )
    def verify_command(month_text, path):
        """Recompute a drawn month from its published document; exit 1 on any difference."""
        if path is not None:
            verification = verify_publication(json.loads(path.read_text(encoding="utf-8")))
            problems = verification.problems
        else:
            use_month = _month_option(month_text)
            if use_month is None:
                raise click.UsageError("give --month YYYY-MM or --file PATH")
            try:
                with database().read_session() as session:
                    month_check = verify_month(session, use_month)
            except errors.DrawNotDue:
                raise click.ClickException(f"{month_label(use_month)} has not been drawn yet") from None
            except errors.DomainError as exc:
                raise click.ClickException(_refusal(exc)) from None
            verification, problems = month_check.published, month_check.problems
        for problem in problems:
            click.echo(f"MISMATCH {problem}")
        if problems:
            raise click.exceptions.Exit(1)
        click.echo(
            f"verified: {verification.entries} entries, {verification.won} won; the results follow from the seed"
        )

    @group.command("publication")
    @click.option("--month", "month_text", required=True, help="Use month YYYY-MM.")
    def publication_command(month_text):
        """Print a drawn month's published document (JSON)."""
        use_month = _month_option(month_text)
        try:
            with database().read_session() as session:
                document = publication_of(session, use_month)
        except errors.DomainError as exc:
            raise click.ClickException(_refusal(exc)) from None
        if document is None:
            raise click.ClickException(f"{month_label(use_month)} has not been drawn yet")
        click.echo(json.dumps(document, ensure_ascii=False, indent=1))

    @group.command("audit")
    @click.option("--month", "month_text", help="Use month YYYY-MM; without it, every record.")
    def audit_command(month_text):
        """The audit record: who changed what, and when."""
        use_month = _month_option(month_text)
        with database().read_session() as session:
            query = select(LotteryAudit, LotteryMonth.use_month).outerjoin(
                LotteryMonth, LotteryMonth.id == LotteryAudit.lottery_month_id
            )
            if use_month:
                query = query.where(LotteryMonth.use_month == use_month)
            for record, record_month in session.execute(query.order_by(LotteryAudit.id)):
                month = month_label(record_month) if record_month else "-"
                click.echo(f"{_jst(record.at)}  {record.operator}  {record.action}  {month}  {record.details}")

    app.cli.add_command(group)


def _list_months() -> None:
    with database().read_session() as session:
        months = session.scalars(
            select(LotteryMonth).order_by(LotteryMonth.use_month).options(selectinload(LotteryMonth.rooms))
        ).all()
        if not months:
            click.echo("no lottery months yet (flask lottery calendar --month YYYY-MM --create --operator NAME)")
        for month in months:
            drawn = f"drawn {_jst(month.drawn_at)}" if month.drawn_at else "not drawn"
            click.echo(
                f"{month_label(month.use_month)}  applications {_jst(month.applications_open_at)} – "
                f"{_jst(month.applications_close_at)}  result {_jst(month.result_at)}  "
                f"first come {_jst(month.first_come_opens_at)}  {len(month.rooms)} rooms  {drawn}"
            )


def _month_or_defaults(session, use_month: date) -> LotteryMonth | None:
    try:
        return load_month(session, use_month)
    except errors.LotteryMonthUnknown:
        dates = default_dates_rule(use_month)
        click.echo(f"no lottery calendar row for {month_label(use_month)}; its defaults would be:")
        for field in LotteryDates.FIELDS:
            click.echo(f"  {LABELS[field]} {_jst(getattr(dates, field))}")
        click.echo("make it with --create --operator NAME (the rooms of the month before are copied)")
        return None
