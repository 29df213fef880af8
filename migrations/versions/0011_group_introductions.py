"""group_introductions: サークル(団体) 紹介, a registered group's own introduction (published
flag, activity field, texts, version, updated_at), one per group (issue 11)

Revision ID: 0011_group_introductions
Revises: 0010_availability_version
Create Date: 2026-12-05 12:30:00
"""

import sqlalchemy as sa
from alembic import op

import models.db

revision = "0011_group_introductions"
down_revision = "0010_availability_version"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "group_introductions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("resident_id", sa.Integer(), nullable=False),
        sa.Column("published", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("activity", sa.String(length=32), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("meets", sa.Text(), nullable=False),
        sa.Column("contact", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("updated_at", models.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["resident_id"], ["residents.id"], name=op.f("fk_group_introductions_resident_id_residents")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_group_introductions")),
        sa.UniqueConstraint("resident_id", name=op.f("uq_group_introductions_resident_id")),
    )
    with op.batch_alter_table("group_introductions") as batch_op:
        batch_op.create_index(batch_op.f("ix_group_introductions_activity"), ["activity"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("group_introductions") as batch_op:
        batch_op.drop_index(batch_op.f("ix_group_introductions_activity"))
    op.drop_table("group_introductions")
