"""The per-facility availability version (Facility.availability_version): every write that
can change what a slot shows bumps it in its own transaction, so that a grid cached under the
version it read can never show a slot as free after the commit that took it."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from models.facility import Facility, Room


def bump_availability(session: Session, *, room_ids: Iterable[int] = (), facility_ids: Iterable[int] = ()) -> None:
    """Bump the version of the facilities of these rooms (and of these facilities). Call it
    as the transaction's last write: the facility rows are locked in id order (PostgreSQL),
    so that two writers never wait on each other in a cycle."""
    ids = set(facility_ids)
    rooms = set(room_ids)
    if rooms:
        ids |= set(session.scalars(select(Room.facility_id).where(Room.id.in_(rooms))))
    if not ids:
        return
    ordered = sorted(ids)
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(Facility.id).where(Facility.id.in_(ordered)).order_by(Facility.id).with_for_update())
    session.execute(
        update(Facility)
        .where(Facility.id.in_(ordered))
        .values(availability_version=Facility.availability_version + 1)
        .execution_options(synchronize_session=False)
    )
