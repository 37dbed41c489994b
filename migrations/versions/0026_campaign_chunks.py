"""A campaign's recipients are written in chunks while its first batches are sent: the campaign
records when the last chunk was written; the recipient and marketing-send rows lose their foreign keys

Revision ID: 0026
Revises: 0021
Create Date: 2026-12-04 19:00:00

NULL: more of the audience to write (a resumed campaign carries on after its last recipient).
Campaigns that already have recipients were written whole by the earlier one-statement version,
so they are marked written.

campaign_recipient (campaign_id, member_id) and marketing_send (member_id) drop their foreign keys:
their rows are written only from the member table (INSERT … SELECT under the campaign row's lock,
or a journey's member), members are never deleted (erasure keeps the row), and checked row by row
the keys cost PostgreSQL more than the write itself (100,000 rows: 4.5 s with one, 1.0 s without).
On SQLite the two tables are rebuilt (batch mode).
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import models.base

revision = '0026'
down_revision = '0025'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # plain ADD COLUMN (nullable, no default): the campaign table is not rebuilt
    op.add_column('campaign', sa.Column('materialized_at', models.base.UTCDateTime(timezone=True), nullable=True))
    with op.batch_alter_table('campaign_recipient') as batch:
        batch.drop_constraint('fk_campaign_recipient_campaign_id_campaign', type_='foreignkey')
        batch.drop_constraint('fk_campaign_recipient_member_id_member', type_='foreignkey')
    with op.batch_alter_table('marketing_send') as batch:
        batch.drop_constraint('fk_marketing_send_member_id_member', type_='foreignkey')
    op.execute("UPDATE campaign SET materialized_at = coalesce(started_at, created_at)"
               " WHERE EXISTS (SELECT 1 FROM campaign_recipient r WHERE r.campaign_id = campaign.id)")


def downgrade() -> None:
    with op.batch_alter_table('marketing_send') as batch:
        batch.create_foreign_key('fk_marketing_send_member_id_member', 'member', ['member_id'], ['id'])
    with op.batch_alter_table('campaign_recipient') as batch:
        batch.create_foreign_key('fk_campaign_recipient_member_id_member', 'member', ['member_id'], ['id'])
        batch.create_foreign_key('fk_campaign_recipient_campaign_id_campaign', 'campaign', ['campaign_id'], ['id'])
    with op.batch_alter_table('campaign') as batch:
        batch.drop_column('materialized_at')
