"""詳細申請: the answers for each chosen room, and the 団体区分 when there is a choice (the forms
live in bookings/answers.py, shared with 抽選申込)."""

from bookings.answers import CHARGES, GroupClassForm, RoomAnswersForm, room_prefix

__all__ = ["CHARGES", "GroupClassForm", "RoomAnswersForm", "room_prefix"]
