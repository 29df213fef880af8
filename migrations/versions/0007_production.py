"""partial indexes on unsent mail, so that claiming one does not read the sent history

Revision ID: 0007
Revises: 0005
Create Date: 2026-12-05 05:20:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0005"
branch_labels = None
depends_on = None

UNSENT = "sent_at IS NULL AND undeliverable_at IS NULL"


def upgrade() -> None:
    with op.batch_alter_table("outbox_mails", schema=None) as batch_op:
        batch_op.create_index(
            "ix_outbox_mails_unsent",
            ["id"],
            unique=False,
            sqlite_where=sa.text(UNSENT),
            postgresql_where=sa.text(UNSENT),
        )
        batch_op.create_index(
            "ix_outbox_mails_unsent_address",
            ["to_address", "id"],
            unique=False,
            sqlite_where=sa.text(UNSENT),
            postgresql_where=sa.text(UNSENT),
        )


def downgrade() -> None:
    with op.batch_alter_table("outbox_mails", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_mails_unsent_address")
        batch_op.drop_index("ix_outbox_mails_unsent")
