"""member.erased_at: a member who asked to be erased (or the retention setting erased) is a tombstone

Revision ID: 0018
Revises: 0014
Create Date: 2026-12-04 01:30:00

The row stays, so the ledger, awards, coupons and referrals keep their member_id and every sum and
count still adds up; its personal columns are emptied and its LINE user id becomes a tombstone
(models/privacy.py).
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import models.base

revision = '0018'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('member', schema=None) as batch_op:
        batch_op.add_column(sa.Column('erased_at', models.base.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('member', schema=None) as batch_op:
        batch_op.drop_column('erased_at')
