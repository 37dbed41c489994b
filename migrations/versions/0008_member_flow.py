"""member.flow: the conversation a member is in, on the row every event locks

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23 15:20:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('member', schema=None) as batch_op:
        batch_op.add_column(sa.Column('flow', sa.String(length=32), nullable=True))
    # members in the middle of joining keep their place
    op.execute("UPDATE member SET flow = (SELECT c.flow FROM conversation c WHERE c.member_id = member.id) "
               "WHERE id IN (SELECT member_id FROM conversation)")


def downgrade() -> None:
    with op.batch_alter_table('member', schema=None) as batch_op:
        batch_op.drop_column('flow')
