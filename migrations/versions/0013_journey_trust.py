"""Reminders a marketer can trust: held pushes with a guard, win-back targets

Revision ID: 0013
Revises: 0017
Create Date: 2026-12-04 01:30:00

``outbox_message.guard`` describes what must still be true when a held push is sent (the member
still in a tier, a coupon still usable); a push due in quiet hours waits in the outbox with its
``next_attempt_at`` at the end of the quiet hours. ``journey.target_nes`` lists the NES stages a
win-back journey reaches (NULL: S1 and S2, as before). Both are nullable: nothing to backfill.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('guard', sa.JSON(), nullable=True))
    with op.batch_alter_table('journey', schema=None) as batch_op:
        batch_op.add_column(sa.Column('target_nes', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('journey', schema=None) as batch_op:
        batch_op.drop_column('target_nes')
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.drop_column('guard')
