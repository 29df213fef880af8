"""The Alembic migrations, on SQLite and (with DATABASE_URL) PostgreSQL: the migrated schema
is the models' schema, and 0004 links the notices written before it to their mails."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, select

import models.all  # noqa: F401  (registers every table)
from mail.compose import CallCentre, capture_mail, void_mail
from mail.outbox import queue_notice
from models.account import Resident
from models.db import Base, Database
from models.migration import alembic_config
from models.notice import Message
from tests.conftest import frozen_now
from tests.web.test_mail_delivery import facts


def test_the_migrated_schema_is_the_models_schema(database_url):
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    finally:
        engine.dispose()
    assert differences == [], "the models changed without a migration: run alembic revision --autogenerate"


def test_0004_links_the_notices_written_before_it_to_their_mails(database_url):
    database = Database(database_url)
    centre = CallCentre("03-5431-5932", "平日9:00~21:00")
    with database.write() as session:
        resident = session.scalar(select(Resident).where(Resident.registration_number == "00040675"))
        queue_notice(
            session,
            resident=resident,
            dedupe_key="void:1",
            mail=void_mail(facts("0392026112000001", 700), centre),
            now=frozen_now(),
        )
        queue_notice(
            session,
            resident=resident,
            dedupe_key="capture:2",
            mail=capture_mail(facts("0392026112500009", 525), centre),
            now=frozen_now(),
        )
    with database.read_session() as session:
        linked = sorted(
            session.execute(select(Message.id, Message.outbox_mail_id).where(Message.outbox_mail_id.is_not(None))).all()
        )
    assert len(linked) == 2 and linked[0][1] != linked[1][1]
    database.dispose()

    command.downgrade(alembic_config(database_url), "0003")  # the link is gone with its column
    command.upgrade(alembic_config(database_url), "head")

    database = Database(database_url)
    with database.read_session() as session:
        relinked = sorted(
            session.execute(select(Message.id, Message.outbox_mail_id).where(Message.outbox_mail_id.is_not(None))).all()
        )
    database.dispose()
    assert relinked == linked
