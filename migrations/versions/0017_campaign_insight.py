"""LINE's opens and clicks per campaign (its custom aggregation unit)

Revision ID: 0017
Revises: 0011
Create Date: 2026-12-04 02:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import models.base

revision = '0017'
down_revision = '0011'
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table(
        'campaign_insight',
        sa.Column('campaign_id', BIG_ID, nullable=False),
        sa.Column('unit', sa.String(length=30), nullable=False),
        sa.Column('unique_impressions', BIG_ID, nullable=True),
        sa.Column('unique_clicks', BIG_ID, nullable=True),
        sa.Column('clicks', sa.JSON(), nullable=False),
        sa.Column('first_day', sa.Date(), nullable=False),
        sa.Column('last_day', sa.Date(), nullable=False),
        sa.Column('fetched_at', models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column('last_error', sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'], name=op.f('fk_campaign_insight_campaign_id_campaign')),
        sa.PrimaryKeyConstraint('campaign_id', name=op.f('pk_campaign_insight')),
        sa.UniqueConstraint('unit', name=op.f('uq_campaign_insight_unit')),
    )


def downgrade() -> None:
    op.drop_table('campaign_insight')
