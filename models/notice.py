"""お知らせ (public notices) and メッセージ (a resident's own inbox)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.db import Base, UTCDateTime


class Notice(Base):
    __tablename__ = "notices"
    id: Mapped[int] = mapped_column(primary_key=True)
    published_on: Mapped[date] = mapped_column(Date)
    title_ja: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str] = mapped_column(String(200))
    body_ja: Mapped[str] = mapped_column(Text, default="")
    body_en: Mapped[str] = mapped_column(Text, default="")


class Message(Base):
    __tablename__ = "messages"
    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # The mail queued with this notice (none for notices written without one).
    outbox_mail_id: Mapped[int | None] = mapped_column(ForeignKey("outbox_mails.id"), nullable=True, index=True)
