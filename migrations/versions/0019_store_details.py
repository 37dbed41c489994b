"""Stores carry what the chat's 門市據點 shows (address, opening hours, phone, location, map link);
members' one birthday change in chat is recorded

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-04 02:00:00

Plain ADD COLUMN (nullable, no default): no table is rebuilt on SQLite or rewritten on PostgreSQL.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import models.base

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('store', sa.Column('address', sa.String(length=100), nullable=True))
    op.add_column('store', sa.Column('hours', sa.String(length=200), nullable=True))
    op.add_column('store', sa.Column('phone', sa.String(length=20), nullable=True))
    op.add_column('store', sa.Column('latitude', sa.Numeric(precision=9, scale=6), nullable=True))
    op.add_column('store', sa.Column('longitude', sa.Numeric(precision=9, scale=6), nullable=True))
    op.add_column('store', sa.Column('map_url', sa.String(length=500), nullable=True))
    op.add_column('member', sa.Column('birthday_changed_at', models.base.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('member', schema=None) as batch_op:
        batch_op.drop_column('birthday_changed_at')
    with op.batch_alter_table('store', schema=None) as batch_op:
        for name in ('map_url', 'longitude', 'latitude', 'phone', 'hours', 'address'):
            batch_op.drop_column(name)
