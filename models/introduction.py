"""サークル(団体) 紹介: a registered group's own introduction, published only when it chose to."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.account import Resident
from models.db import Base, UTCDateTime


class GroupIntroduction(Base):
    """One per group; written and withdrawn by the group on 利用者情報の更新・変更."""

    __tablename__ = "group_introductions"
    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id"), unique=True)
    published: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    activity: Mapped[str] = mapped_column(String(32), index=True)  # introduction_rules.ACTIVITIES
    description: Mapped[str] = mapped_column(Text)
    meets: Mapped[str] = mapped_column(Text, default="")  # where and when the group meets
    contact: Mapped[str] = mapped_column(Text, default="")  # only what the group typed
    # Bumped by every change: a form shown before the last change (another tab, a replay) is
    # refused and changes nothing.
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    resident: Mapped[Resident] = relationship()
