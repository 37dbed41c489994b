"""LINE's opens and clicks per journey (its custom aggregation unit)

Revision ID: 0027
Revises: 0021
Create Date: 2026-12-04 19:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import models.base

revision = '0027'
down_revision = '0026'
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table(
        'journey_insight',
        sa.Column('journey_id', BIG_ID, nullable=False),
        sa.Column('unit', sa.String(length=30), nullable=False),
        sa.Column('impressions', BIG_ID, nullable=True),
        sa.Column('unique_impressions', BIG_ID, nullable=True),
        sa.Column('unique_clicks', BIG_ID, nullable=True),
        sa.Column('clicks', sa.JSON(), nullable=False),
        sa.Column('first_day', sa.Date(), nullable=False),
        sa.Column('last_day', sa.Date(), nullable=False),
        sa.Column('fetched_at', models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column('last_error', sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(['journey_id'], ['journey.id'], name=op.f('fk_journey_insight_journey_id_journey')),
        sa.PrimaryKeyConstraint('journey_id', name=op.f('pk_journey_insight')),
        sa.UniqueConstraint('unit', name=op.f('uq_journey_insight_unit')),
    )


def downgrade() -> None:
    op.drop_table('journey_insight')
