"""A campaign's recipients are written in chunks while its first batches are sent: the campaign
records when the last chunk was written

Revision ID: 0026
Revises: 0021
Create Date: 2026-12-04 19:00:00

NULL: more of the audience to write (a resumed campaign carries on after its last recipient).
Campaigns that already have recipients were written whole by the earlier one-statement version,
so they are marked written.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import models.base

revision = '0026'
down_revision = '0021'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # plain ADD COLUMN (nullable, no default): no table is rebuilt on SQLite or rewritten on PostgreSQL
    op.add_column('campaign', sa.Column('materialized_at', models.base.UTCDateTime(timezone=True), nullable=True))
    op.execute("UPDATE campaign SET materialized_at = coalesce(started_at, created_at)"
               " WHERE EXISTS (SELECT 1 FROM campaign_recipient r WHERE r.campaign_id = campaign.id)")


def downgrade() -> None:
    with op.batch_alter_table('campaign') as batch:
        batch.drop_column('materialized_at')
