"""facilities.availability_version: bumped with every booking, cancellation, expiry, lottery
entry and draw, the key of the cached grid statuses; indexes on the booking of counter
payments and card charges, which every list of bookings loads by booking (issue 12)

Revision ID: 0010_availability_version
Revises: 0009_accounts
Create Date: 2026-12-05 09:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0010_availability_version"
down_revision = "0009_accounts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("facilities") as batch_op:
        batch_op.add_column(sa.Column("availability_version", sa.Integer(), server_default="0", nullable=False))
    with op.batch_alter_table("counter_payments") as batch_op:
        batch_op.create_index(batch_op.f("ix_counter_payments_reservation_id"), ["reservation_id"], unique=False)
    with op.batch_alter_table("card_charges") as batch_op:
        batch_op.create_index(batch_op.f("ix_card_charges_reservation_id"), ["reservation_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("card_charges") as batch_op:
        batch_op.drop_index(batch_op.f("ix_card_charges_reservation_id"))
    with op.batch_alter_table("counter_payments") as batch_op:
        batch_op.drop_index(batch_op.f("ix_counter_payments_reservation_id"))
    with op.batch_alter_table("facilities") as batch_op:
        batch_op.drop_column("availability_version")
