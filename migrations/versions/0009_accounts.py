"""accounts (issue 10): phone, lockout and 仮パスワード columns on residents; single-use
mail tokens (password reset, email confirmation), stored as hashes

Revision ID: 0009_accounts
Revises: 0008
Create Date: 2026-12-05 09:00:00
"""

import sqlalchemy as sa
from alembic import op

import models.db

revision = "0009_accounts"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("residents") as batch:
        batch.add_column(sa.Column("phone", sa.String(length=20), nullable=True))
        batch.add_column(sa.Column("failed_logins", sa.Integer(), server_default="0", nullable=False))
        batch.add_column(sa.Column("locked_until", models.db.UTCDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("lockout_mailed_at", models.db.UTCDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("must_change_password", sa.Boolean(), server_default=sa.false(), nullable=False))
    op.create_table(
        "account_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("resident_id", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("new_email", sa.String(length=254), nullable=True),
        sa.Column("created_at", models.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", models.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", models.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["resident_id"], ["residents.id"], name=op.f("fk_account_tokens_resident_id_residents")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_account_tokens_token_hash")),
    )
    with op.batch_alter_table("account_tokens") as batch:
        batch.create_index(batch.f("ix_account_tokens_resident_id"), ["resident_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("account_tokens") as batch:
        batch.drop_index(batch.f("ix_account_tokens_resident_id"))
    op.drop_table("account_tokens")
    with op.batch_alter_table("residents") as batch:
        batch.drop_column("must_change_password")
        batch.drop_column("lockout_mailed_at")
        batch.drop_column("locked_until")
        batch.drop_column("failed_logins")
        batch.drop_column("phone")
