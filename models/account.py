"""Registered groups (利用者登録) and their 団体区分 with expiries."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Integer, String, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.account_rules import is_expired
from models.db import Base, UTCDateTime


class GroupClass(Base):
    """団体区分, the fee class of a group, e.g. (社成人)."""

    __tablename__ = "group_classes"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name_ja: Mapped[str] = mapped_column(String(50))  # 社成人
    name_en: Mapped[str] = mapped_column(String(50))
    # A 社会教育関係団体 class (社成人, 社青少年): a group holding one may enter the lottery
    # (DESIGN "Lottery", Who).
    is_social_education: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class Resident(Base):
    """A registered group. Login by registration kind, number and password (rule 1).

    Provides the four attributes Flask-Login expects without importing it (models/ stays
    free of Flask)."""

    __tablename__ = "residents"
    __table_args__ = (UniqueConstraint("registration_kind", "registration_number"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    registration_kind: Mapped[str] = mapped_column(String(16))  # assembly | sports
    registration_number: Mapped[str] = mapped_column(String(8))  # 8 digits, zero-padded
    name: Mapped[str] = mapped_column(String(100))
    password_hash: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254), nullable=True)
    # Changed by the resident on 利用者情報の更新・変更 (digits and hyphens).
    phone: Mapped[str | None] = mapped_column(String(20), nullable=True)
    # The language of the resident's last login: mails are written in it.
    preferred_locale: Mapped[str] = mapped_column(String(5), default="ja", server_default="ja")
    registration_expires_on: Mapped[date] = mapped_column(Date)
    # Bumped on logout and password change so that old sessions stop working.
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # Lockout (DESIGN "Accounts and sign-in"): wrong passwords in a row, the end of the lock,
    # and when the last lockout mail was queued (at most one a day).
    failed_logins: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    lockout_mailed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # A 仮パスワード issued at a counter: the resident must change it before anything else.
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    group_classes: Mapped[list[ResidentGroupClass]] = relationship(
        back_populates="resident", order_by="ResidentGroupClass.expires_on.desc()"
    )

    # Flask-Login protocol
    is_authenticated = True
    is_active = True
    is_anonymous = False

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"

    def registration_expired(self, today: date) -> bool:
        return is_expired(self.registration_expires_on, today)

    def valid_group_classes(self, today: date) -> list[ResidentGroupClass]:
        return [gc for gc in self.group_classes if not is_expired(gc.expires_on, today)]


class ResidentGroupClass(Base):
    """A group's 団体区分 and until when it holds (登録済利用者団体区分)."""

    __tablename__ = "resident_group_classes"
    __table_args__ = (UniqueConstraint("resident_id", "group_class_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id"))
    group_class_id: Mapped[int] = mapped_column(ForeignKey("group_classes.id"))
    expires_on: Mapped[date] = mapped_column(Date)
    resident: Mapped[Resident] = relationship(back_populates="group_classes")
    group_class: Mapped[GroupClass] = relationship()

    def expired(self, today: date) -> bool:
        return is_expired(self.expires_on, today)


class AccountToken(Base):
    """A single-use link sent by mail: a password reset (30 minutes) or the confirmation of
    a new address (24 hours). Only the SHA-256 of the random token is stored; issuing a new
    one, or changing the password, marks the earlier ones used."""

    __tablename__ = "account_tokens"
    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id"), index=True)
    purpose: Mapped[str] = mapped_column(String(16))  # reset | email
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    new_email: Mapped[str | None] = mapped_column(String(254), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
