"""The brand's repeat-visit rule: the same member awarded again within N minutes is warned about
at the counter, or refused

Revision ID: 0022
Revises: 0019
Create Date: 2026-12-04 02:10:00

NULL minutes: no rule (as before). NULL policy reads as warn.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0022'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # plain ADD COLUMN (nullable, no default): no table is rebuilt on SQLite or rewritten on PostgreSQL
    op.add_column('earning_rule', sa.Column('repeat_visit_minutes', sa.Integer(), nullable=True))
    op.add_column('earning_rule', sa.Column('repeat_visit_policy', sa.String(length=8), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('earning_rule') as batch:
        batch.drop_column('repeat_visit_policy')
        batch.drop_column('repeat_visit_minutes')
