"""The lottery (抽選, DESIGN "Lottery"): the calendar of a use month, the status of a lottery
room's slot, who may enter, the caps, and the draw itself with the document that lets
anyone check it. Pure functions of their inputs, `now` included."""

from __future__ import annotations

import enum
import hashlib
import hmac
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from models import errors
from models.availability_rules import BookingWindow
from models.time_rules import JST, jst_day, jst_moment

# Per group and use month (DESIGN "Entries and caps"); a month's row keeps the values it was
# created with, so that changing the settings never changes a month already announced.
DEFAULT_ENTRY_CAP = 4  # entries (抽選申込中)
DEFAULT_TOTAL_CAP = 8  # entries + active bookings; at the draw, wins + active bookings

# A window no day is in: the month is not open to first come.
NO_WINDOW = BookingWindow(first=date.max, last=date.min)

PUBLICATION_FORMAT = "meguro-lottery-draw/1"


# -- the calendar ------------------------------------------------------------------------


def month_start(day: date) -> date:
    """The use month a day belongs to, as its first day."""
    return date(day.year, day.month, 1)


def add_months(month: date, months: int) -> date:
    """The first day of the month `months` after (or before) the month of `month`."""
    index = month.year * 12 + month.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def month_end(month: date) -> date:
    return add_months(month, 1) - timedelta(days=1)


def parse_month(text: str) -> date:
    """'2027-01' → 2027-01-01; anything else raises ValueError."""
    text = (text or "").strip()
    year, _, month = text.partition("-")
    if not (text.isascii() and len(year) == 4 and year.isdigit() and len(month) == 2 and month.isdigit()):
        raise ValueError("month must be YYYY-MM")
    return date(int(year), int(month), 1)


def month_label(month: date) -> str:
    return f"{month:%Y-%m}"


@dataclass(frozen=True)
class LotteryDates:
    """A use month's calendar: 抽選申込 from `applications_open_at` until
    `applications_close_at` (exclusive), 抽選結果の発表日 `result_at` (the draw runs then and the
    payment deadline of a 当選 counts from it), 一般空き申込 from `first_come_opens_at`."""

    applications_open_at: datetime
    applications_close_at: datetime
    result_at: datetime
    first_come_opens_at: datetime

    FIELDS = ("applications_open_at", "applications_close_at", "result_at", "first_come_opens_at")


def default_dates_rule(use_month: date) -> LotteryDates:
    """DESIGN's defaults for use month M, in JST: applications from the 1st of M−2 09:00 until
    the 11th 00:00, the result the 15th of M−2 09:00, first come from the 20th 09:00."""
    m2 = add_months(month_start(use_month), -2)
    return LotteryDates(
        applications_open_at=jst_moment(m2, time(9)),
        applications_close_at=jst_moment(m2.replace(day=11), time(0)),
        result_at=jst_moment(m2.replace(day=15), time(9)),
        first_come_opens_at=jst_moment(m2.replace(day=20), time(9)),
    )


def check_dates_rule(use_month: date, dates: LotteryDates) -> None:
    """The dates make a calendar: open < close ≤ result ≤ first come, the result before the
    month's first day starts, first come before its last day ends."""
    in_order = (
        dates.applications_open_at
        < dates.applications_close_at
        <= dates.result_at
        <= dates.first_come_opens_at
        < jst_moment(month_end(use_month) + timedelta(days=1), time(0))
    )
    if not in_order or dates.result_at > jst_moment(use_month, time(0)):
        raise errors.CalendarOrderInvalid(month=use_month)


def check_move_rule(use_month: date, old: LotteryDates, new: LotteryDates, *, drawn: bool, now: datetime) -> None:
    """Staff may move a date before it applies: neither the old nor the new moment may have
    passed, and nothing moves once the month is drawn."""
    for field in LotteryDates.FIELDS:
        before, after = getattr(old, field), getattr(new, field)
        if before == after:
            continue
        if drawn or before <= now or after <= now:
            raise errors.CalendarDateFixed(month=use_month, field=field, at=before)
    check_dates_rule(use_month, new)


class LotteryPhase(str, enum.Enum):
    """Where a use month stands (DESIGN "Calendar")."""

    BEFORE_PERIOD = "before_period"  # 申込期間外
    OPEN = "open"  # 抽選受付中
    AWAITING_DRAW = "awaiting_draw"  # 抽選結果待ち
    BEFORE_FIRST_COME = "before_first_come"  # 先着受付前
    FIRST_COME = "first_come"  # 一般空き申込: as any room


def lottery_phase_rule(dates: LotteryDates, *, drawn: bool, now: datetime) -> LotteryPhase:
    """Until the month is drawn it never opens to first come, even when the draw runs late."""
    if drawn:
        return LotteryPhase.FIRST_COME if now >= dates.first_come_opens_at else LotteryPhase.BEFORE_FIRST_COME
    if now < dates.applications_open_at:
        return LotteryPhase.BEFORE_PERIOD
    if now < dates.applications_close_at:
        return LotteryPhase.OPEN
    return LotteryPhase.AWAITING_DRAW


def first_come_window_rule(use_month: date, phase: LotteryPhase, today: date) -> BookingWindow:
    """A lottery room's month opens to first come at 一般空き申込 and stays open until the use
    date (from tomorrow, as first come always is), whatever FIRST_COME_DAYS_AHEAD says."""
    if phase is not LotteryPhase.FIRST_COME:
        return NO_WINDOW
    return BookingWindow(first=max(today + timedelta(days=1), use_month), last=month_end(use_month))


class LotterySlotStatus(str, enum.Enum):
    """A lottery room's slot as the grids show it. The first four share their values with
    models.availability_rules.SlotStatus."""

    FREE = "free"  # 空き (first come is open)
    TAKEN = "taken"  # 予約済
    OUT_OF_WINDOW = "out_of_window"  # 申込期間外 (before the period, today, or started)
    CLOSED = "closed"  # 休館日
    LOTTERY_OPEN = "lottery_open"  # 抽選受付中
    AWAITING_DRAW = "awaiting_draw"  # 抽選結果待ち
    BEFORE_FIRST_COME = "before_first_come"  # 先着受付前

    @property
    def selectable(self) -> bool:
        """Can be chosen for a first-come application."""
        return self is LotterySlotStatus.FREE

    @property
    def enterable(self) -> bool:
        """Can be chosen for a lottery entry."""
        return self is LotterySlotStatus.LOTTERY_OPEN


_PHASE_STATUS = {
    LotteryPhase.BEFORE_PERIOD: LotterySlotStatus.OUT_OF_WINDOW,
    LotteryPhase.OPEN: LotterySlotStatus.LOTTERY_OPEN,
    LotteryPhase.AWAITING_DRAW: LotterySlotStatus.AWAITING_DRAW,
    LotteryPhase.BEFORE_FIRST_COME: LotterySlotStatus.BEFORE_FIRST_COME,
}


def lottery_slot_status_rule(
    use_month: date, phase: LotteryPhase, *, day: date, closed: bool, taken: bool, starts_at: datetime, now: datetime
) -> LotterySlotStatus:
    """休館日 first, then a slot that has started, then one held by a booking (bookings made
    before the month became a lottery month stay, and 当選 hold theirs), then the phase."""
    if closed:
        return LotterySlotStatus.CLOSED
    if starts_at <= now:
        return LotterySlotStatus.OUT_OF_WINDOW
    if taken:
        return LotterySlotStatus.TAKEN
    if phase is LotteryPhase.FIRST_COME:
        in_window = day in first_come_window_rule(use_month, phase, jst_day(now))
        return LotterySlotStatus.FREE if in_window else LotterySlotStatus.OUT_OF_WINDOW
    return _PHASE_STATUS[phase]


# -- who may enter, and how many ---------------------------------------------------------


@dataclass(frozen=True)
class HeldClass:
    """A 団体区分 the group holds: whether it is a 社会教育関係団体 class, and until when."""

    is_social_education: bool
    expires_on: date


def is_registered_group_rule(
    *, registration_expires_on: date, held: HeldClass | None, on_day: date, use_date: date
) -> bool:
    """登録団体 (DESIGN "Who"): a valid registration on `on_day` and a 社会教育関係団体 class
    valid on `on_day` and on the use date (valid through its expiry day)."""
    return (
        on_day <= registration_expires_on
        and held is not None
        and held.is_social_education
        and max(on_day, use_date) <= held.expires_on
    )


@dataclass(frozen=True)
class Caps:
    entries: int = DEFAULT_ENTRY_CAP
    total: int = DEFAULT_TOTAL_CAP


def check_caps_rule(*, month: date, caps: Caps, entries: int, active_bookings: int, adding: int) -> None:
    """Entering `adding` more in a use month where the group has `entries` entries and
    `active_bookings` active bookings: at most caps.entries entries, and at most caps.total
    entries plus active bookings."""
    if entries + adding > caps.entries:
        raise errors.EntryCapReached(month=month, limit=caps.entries, current=entries)
    if entries + active_bookings + adding > caps.total:
        raise errors.EntryAndBookingCapReached(month=month, limit=caps.total, current=entries + active_bookings)


def allowance_rule(*, caps: Caps, active_bookings: int, eligible: bool) -> int:
    """How many a group may still win at the draw: wins + active bookings ≤ caps.total; 0 when
    it is no longer eligible."""
    return max(caps.total - active_bookings, 0) if eligible else 0


# -- the draw ----------------------------------------------------------------------------


class LostReason(str, enum.Enum):
    """Why an entry ended 落選; only DRAW is "by the draw", the others are told."""

    DRAW = "draw"  # another entry was drawn first for the slot
    CAP = "cap"  # the group had won as many as its allowance
    SLOT_UNAVAILABLE = "slot_unavailable"  # booked, a closed day, or started, at the draw
    NOT_ELIGIBLE = "not_eligible"  # not a registered group any more


@dataclass(frozen=True)
class DrawEntry:
    """One entry as the draw and the publication see it: its public id, its slot
    ("room:YYYY-MM-DD:band") and its group's opaque id."""

    public_id: str
    slot: str
    group: str
    eligible: bool = True


@dataclass(frozen=True)
class DrawResult:
    public_id: str
    won: bool
    reason: LostReason | None = None  # None when won


def _reason_text(result: DrawResult) -> str | None:
    return result.reason.value if result.reason is not None else None


def make_seed_hash(seed: bytes) -> str:
    """What is published when applications open: SHA-256 of the seed, hex."""
    return hashlib.sha256(seed).hexdigest()


def draw_key(seed: bytes, public_id: str) -> bytes:
    """An entry's place in the draw: HMAC-SHA256 with the seed as key over its public id."""
    return hmac.new(seed, public_id.encode("utf-8"), hashlib.sha256).digest()


def draw_order(seed: bytes, entries: Iterable[DrawEntry]) -> list[DrawEntry]:
    """Every entry in the order the draw awards them (ties, which do not happen, by id)."""
    return sorted(entries, key=lambda e: (draw_key(seed, e.public_id), e.public_id))


def draw_rule(
    seed: bytes,
    entries: Iterable[DrawEntry],
    allowances: Mapping[str, int],
    unavailable_slots: Collection[str] = (),
) -> dict[str, DrawResult]:
    """DESIGN "Draw, checkable": in draw order, an entry wins unless it is not eligible, its
    slot is unavailable or already won, or its group has used up its allowance. The answer
    lists the entries in draw order."""
    left = dict(allowances)
    won: set[str] = set()
    results: dict[str, DrawResult] = {}
    for entry in draw_order(seed, entries):
        if not entry.eligible:
            reason = LostReason.NOT_ELIGIBLE
        elif entry.slot in unavailable_slots:
            reason = LostReason.SLOT_UNAVAILABLE
        elif entry.slot in won:
            reason = LostReason.DRAW
        elif left.get(entry.group, 0) <= 0:
            reason = LostReason.CAP
        else:
            won.add(entry.slot)
            left[entry.group] -= 1
            results[entry.public_id] = DrawResult(entry.public_id, True)
            continue
        results[entry.public_id] = DrawResult(entry.public_id, False, reason)
    return results


def opaque_group_id(group_key: bytes, resident_id: int) -> str:
    """A group's id in one month's publication: stable for the month, unlinkable to the
    registration without the month's secret key (which is never published)."""
    return hmac.new(group_key, f"group:{resident_id}".encode(), hashlib.sha256).hexdigest()[:16]


def publication_rule(
    *,
    use_month: date,
    result_at: datetime,
    drawn_at: datetime,
    seed: bytes,
    caps: Caps,
    entries: Iterable[DrawEntry],
    allowances: Mapping[str, int],
    unavailable_slots: Collection[str],
    results: Mapping[str, DrawResult],
    slots: Mapping[str, Mapping[str, str]] | None = None,
) -> dict:
    """The document published after the draw (JSON-ready): enough to recompute every result
    with `verify_publication` or a few lines of Python. Entries are listed in draw order (the
    order of `results`, as draw_rule gives them)."""
    by_id = {e.public_id: e for e in entries}
    ordered = [by_id[public_id] for public_id in results]
    return {
        "format": PUBLICATION_FORMAT,
        "use_month": month_label(use_month),
        "result_at": result_at.astimezone(JST).isoformat(),
        "drawn_at": drawn_at.astimezone(JST).isoformat(),
        "seed": seed.hex(),
        "seed_sha256": make_seed_hash(seed),
        "rule": (
            "Entries are ordered by HMAC-SHA256(key=bytes.fromhex(seed), message=public_id as UTF-8), "
            "then by public_id. In that order an entry wins unless it is not eligible, its slot is in "
            "unavailable_slots or already won, or its group has no allowance left; each win uses one "
            "of its group's allowance."
        ),
        "caps": {"entries_per_group": caps.entries, "entries_and_bookings_per_group": caps.total},
        "unavailable_slots": sorted(unavailable_slots),
        "groups": [{"group": g, "allowance": allowances[g]} for g in sorted(allowances)],
        "entries": [
            {
                "public_id": e.public_id,
                "slot": e.slot,
                "group": e.group,
                "eligible": e.eligible,
                "result": "won" if results[e.public_id].won else "lost",
                "reason": _reason_text(results[e.public_id]),
            }
            for e in ordered
        ],
        "slots": {key: dict(value) for key, value in sorted((slots or {}).items())},
    }


@dataclass(frozen=True)
class Verification:
    """What `verify_publication` found: nothing wrong when `problems` is empty."""

    entries: int
    won: int
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_publication(document: Mapping) -> Verification:
    """Recompute a published draw from the document alone: the seed against its published
    hash, then every result and reason."""
    problems: list[str] = []
    try:
        seed = bytes.fromhex(document["seed"])
        entries = [
            DrawEntry(str(e["public_id"]), str(e["slot"]), str(e["group"]), bool(e["eligible"]))
            for e in document["entries"]
        ]
        allowances = {str(g["group"]): int(g["allowance"]) for g in document["groups"]}
        unavailable = frozenset(str(s) for s in document["unavailable_slots"])
        published = {str(e["public_id"]): (e["result"], e["reason"]) for e in document["entries"]}
    except (KeyError, TypeError, ValueError) as exc:
        return Verification(0, 0, (f"not a lottery publication: {exc!r}",))
    if make_seed_hash(seed) != document.get("seed_sha256"):
        problems.append("the seed does not match its published SHA-256")
    if len(published) != len(entries):
        problems.append("a public id is listed twice")
    unknown_groups = {e.group for e in entries} - set(allowances)
    if unknown_groups:
        problems.append(f"groups without an allowance: {', '.join(sorted(unknown_groups))}")
    results = draw_rule(seed, entries, allowances, unavailable)
    for public_id, result in results.items():
        expected = ("won" if result.won else "lost", _reason_text(result))
        if published[public_id] != expected:
            problems.append(f"entry {public_id}: published {published[public_id]}, recomputed {expected}")
    return Verification(len(entries), sum(r.won for r in results.values()), tuple(problems))
