"""segment_setting: how "high" is decided per RFM dimension, action hints, when segments were computed

Revision ID: 0014
Revises: 0012
Create Date: 2026-12-04 01:30:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import models.base

revision = '0014'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('segment_setting',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('r_mode', sa.String(length=10), nullable=False),
    sa.Column('f_mode', sa.String(length=10), nullable=False),
    sa.Column('m_mode', sa.String(length=10), nullable=False),
    sa.Column('r_days', sa.Integer(), nullable=False),
    sa.Column('f_visits', sa.Integer(), nullable=False),
    sa.Column('m_amount', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('hints', sa.JSON(), nullable=False),
    sa.Column('computed_at', models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('members_scored', sa.Integer(), nullable=True),
    sa.Column('updated_at', models.base.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_segment_setting'))
    )
    with op.batch_alter_table('campaign', schema=None) as batch_op:
        batch_op.add_column(sa.Column('stats_computed_at', models.base.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('campaign', schema=None) as batch_op:
        batch_op.drop_column('stats_computed_at')
    op.drop_table('segment_setting')
