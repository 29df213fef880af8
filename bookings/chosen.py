"""What a resident chose on 時間帯別空き状況, as both 先着申込 (blueprints/apply) and 抽選申込
(lottery/entries.py) hold it: the lines that can go on, the refused ones by problem, and the
団体区分 valid today. One home for the reads both screens make of it."""

from __future__ import annotations

from typing import Any, Generic, Protocol, TypeVar

from models import errors
from models.account import ResidentGroupClass
from models.facility import Room


class ChosenLine(Protocol):
    """A chosen slot with the room it names (SlotLine, EntryLine)."""

    @property
    def slot(self) -> Any: ...

    @property
    def room(self) -> Room: ...


L = TypeVar("L", bound=ChosenLine)


class ChosenSlots(Generic[L]):
    """The reads of a selection; the dataclass that mixes it in holds `lines`, `refused` and
    `group_classes`."""

    group_classes: list[ResidentGroupClass]
    lines: list[L]
    refused: dict[Any, list[L]]

    @property
    def rooms(self) -> list[Room]:
        return _rooms(self.lines)

    def lines_of(self, room: Room) -> list[L]:
        return [line for line in self.lines if line.room.id == room.id]

    @property
    def slots(self) -> list[Any]:
        return [line.slot for line in self.lines]

    @property
    def chosen(self) -> list[L]:
        """Every slot the resident chose, refused ones included."""
        return self.lines + [line for lines in self.refused.values() for line in lines]

    @property
    def chosen_rooms(self) -> list[Room]:
        return _rooms(self.chosen)

    def group_class(self, group_class_id: int | None) -> ResidentGroupClass:
        """The valid 団体区分 with this id; the only one when the resident holds just one."""
        if len(self.group_classes) == 1 and group_class_id is None:
            return self.group_classes[0]
        for held in self.group_classes:
            if held.group_class_id == group_class_id:
                return held
        raise errors.NotFound(group_class=group_class_id)


def _rooms(lines: list[L]) -> list[Room]:
    seen: dict[int, Room] = {}
    for line in lines:
        seen.setdefault(line.room.id, line.room)
    return list(seen.values())
