"""The lottery calendar as staff keep it (DESIGN "Lottery": dates and rooms kept as data, changed
by commands that keep an audit record): a use month's row made with its seed, its dates moved
before they apply, its rooms set before its period opens, and the rows of the coming months
made by the worker in good time, each with the previous month's rooms."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable
from dataclasses import replace
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from models import errors
from models.account_rules import RegistrationKind
from models.facility import Facility, Room
from models.lottery import LotteryAudit, LotteryMonth, LotteryRoom
from models.lottery_rules import (
    Caps,
    LotteryDates,
    add_months,
    check_dates_rule,
    check_move_rule,
    default_dates_rule,
    make_seed_hash,
    month_label,
    month_start,
)
from models.time_rules import JST

# The worker makes a month's row this long before its default application period opens, so
# that its seed's SHA-256 is published well before anyone can enter.
MONTH_LEAD = timedelta(days=45)


def _jst(moment: datetime) -> str:
    return moment.astimezone(JST).isoformat()


def record_audit(
    session: Session, *, now: datetime, operator: str, action: str, month: LotteryMonth | None, details: dict
) -> LotteryAudit:
    """One line of the audit record: who, when, what (details as JSON)."""
    entry = LotteryAudit(
        at=now,
        operator=operator,
        action=action,
        lottery_month_id=month.id if month else None,
        details=json.dumps(details, ensure_ascii=False, sort_keys=True, default=str),
    )
    session.add(entry)
    session.flush()
    return entry


def load_month(session: Session, use_month: date, *, lock: bool = False) -> LotteryMonth:
    """A use month's row (locked against other writers when asked); LotteryMonthUnknown when
    there is none."""
    query = (
        select(LotteryMonth)
        .where(LotteryMonth.use_month == month_start(use_month))
        .options(selectinload(LotteryMonth.rooms))
        .execution_options(populate_existing=True)
    )
    if lock:
        query = query.with_for_update(of=LotteryMonth)
    month = session.scalar(query)
    if month is None:
        raise errors.LotteryMonthUnknown(month=month_start(use_month))
    return month


def check_lottery_rooms(session: Session, room_ids: Iterable[int]) -> list[Room]:
    """The rooms, each one that exists and belongs to a 集会・学校 facility (DESIGN "Scope")."""
    room_ids = sorted(set(room_ids))
    rooms = {
        r.id: r
        for r in session.scalars(
            select(Room)
            .where(Room.id.in_(room_ids))
            .options(selectinload(Room.facility).selectinload(Facility.category))
        )
    }
    for room_id in room_ids:
        room = rooms.get(room_id)
        if room is None:
            raise errors.NotFound(room=room_id)
        if room.facility.category.registration_kind != RegistrationKind.ASSEMBLY:
            raise errors.NotLotteryRoom(room=room_id)
    return [rooms[i] for i in room_ids]


def create_month(
    session: Session,
    *,
    use_month: date,
    now: datetime,
    operator: str,
    dates: LotteryDates | None = None,
    room_ids: Iterable[int] | None = None,
    caps: Caps | None = None,
) -> LotteryMonth:
    """A use month's calendar row: DESIGN's default dates unless given, the rooms and caps given
    or those of the latest earlier month, and a fresh secret seed whose SHA-256 is published
    from now on."""
    use_month = month_start(use_month)
    if session.scalar(select(LotteryMonth.id).where(LotteryMonth.use_month == use_month)) is not None:
        raise ValueError(f"the lottery month {month_label(use_month)} exists already")
    dates = dates or default_dates_rule(use_month)
    check_dates_rule(use_month, dates)
    if room_ids is None or caps is None:
        previous = session.scalar(
            select(LotteryMonth)
            .where(LotteryMonth.use_month < use_month)
            .order_by(LotteryMonth.use_month.desc())
            .limit(1)
            .options(selectinload(LotteryMonth.rooms))
        )
        if room_ids is None:
            room_ids = [r.room_id for r in previous.rooms] if previous else []
        if caps is None:
            caps = previous.caps if previous else Caps()
    rooms = check_lottery_rooms(session, room_ids)
    seed = secrets.token_bytes(32)
    month = LotteryMonth(
        use_month=use_month,
        applications_open_at=dates.applications_open_at,
        applications_close_at=dates.applications_close_at,
        result_at=dates.result_at,
        first_come_opens_at=dates.first_come_opens_at,
        entry_cap=caps.entries,
        total_cap=caps.total,
        seed_hex=seed.hex(),
        seed_sha256=make_seed_hash(seed),
        group_key_hex=secrets.token_bytes(32).hex(),
        created_at=now,
        version=1,
    )
    month.rooms = [LotteryRoom(room_id=room.id) for room in rooms]
    session.add(month)
    session.flush()
    record_audit(
        session,
        now=now,
        operator=operator,
        action="create_month",
        month=month,
        details={
            "use_month": month_label(use_month),
            **{field: _jst(getattr(dates, field)) for field in LotteryDates.FIELDS},
            "rooms": [room.id for room in rooms],
            "caps": {"entries": caps.entries, "total": caps.total},
            "seed_sha256": month.seed_sha256,
        },
    )
    return month


def move_dates(session: Session, *, use_month: date, now: datetime, operator: str, **moves: datetime) -> LotteryMonth:
    """Move some of a month's dates (applications_open_at, applications_close_at, result_at,
    first_come_opens_at) before they apply, e.g. for a 休館日 or January; recorded in the audit."""
    unknown = set(moves) - set(LotteryDates.FIELDS)
    if unknown:
        raise TypeError(f"not a lottery date: {', '.join(sorted(unknown))}")
    month = load_month(session, use_month, lock=True)
    old = month.dates
    new = replace(old, **moves)
    check_move_rule(month.use_month, old, new, drawn=month.drawn, now=now)
    changed = {f: [_jst(getattr(old, f)), _jst(getattr(new, f))] for f in moves if moves[f] != getattr(old, f)}
    if not changed:
        return month
    for field in changed:
        setattr(month, field, getattr(new, field))
    month.version += 1
    session.flush()
    record_audit(session, now=now, operator=operator, action="move_dates", month=month, details=changed)
    return month


def set_rooms(
    session: Session,
    *,
    use_month: date,
    now: datetime,
    operator: str,
    add: Iterable[int] = (),
    remove: Iterable[int] = (),
) -> LotteryMonth:
    """Make rooms lottery rooms of a month, or first-come again, until its application period
    opens; from then on they are fixed (bookings that exist stay either way)."""
    month = load_month(session, use_month, lock=True)
    if now >= month.applications_open_at:
        raise errors.LotteryRoomsFixed(month=month.use_month, opens_at=month.applications_open_at)
    current = {r.room_id for r in month.rooms}
    added = [room.id for room in check_lottery_rooms(session, add) if room.id not in current]
    removed = sorted(set(remove) & current)
    if not added and not removed:
        return month
    month.rooms = [r for r in month.rooms if r.room_id not in removed] + [LotteryRoom(room_id=i) for i in added]
    month.version += 1
    session.flush()
    record_audit(
        session,
        now=now,
        operator=operator,
        action="set_rooms",
        month=month,
        details={"added": added, "removed": removed, "rooms": sorted(r.room_id for r in month.rooms)},
    )
    return month


def ensure_coming_months(
    session: Session, *, now: datetime, lead: timedelta = MONTH_LEAD, operator: str = "worker"
) -> list[LotteryMonth]:
    """The rows of the months after the latest one whose default application period opens
    within `lead`, each with the rooms and caps of the month before it. A month whose period
    would already be open is left to staff (calendar --create): it stays first come. Nothing
    while the latest month has no lottery rooms: the lottery is then not in use."""
    latest = session.scalar(
        select(LotteryMonth).order_by(LotteryMonth.use_month.desc()).limit(1).options(selectinload(LotteryMonth.rooms))
    )
    if latest is None or not latest.rooms:
        return []
    made = []
    following = add_months(latest.use_month, 1)
    while (opens := default_dates_rule(following).applications_open_at) <= now + lead:
        if opens > now:
            made.append(create_month(session, use_month=following, now=now, operator=operator))
        following = add_months(following, 1)
    return made
