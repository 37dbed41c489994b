"""rich menu deployments

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 08:58:40.315530
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import models.base

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('richmenu_deployment',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('rich_menu_id', sa.String(length=80), nullable=False),
    sa.Column('alias', sa.String(length=32), nullable=True),
    sa.Column('deployed_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('retired_at', models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('deleted_at', models.base.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_richmenu_deployment')),
    sa.UniqueConstraint('rich_menu_id', name=op.f('uq_richmenu_deployment_rich_menu_id'))
    )


def downgrade() -> None:
    op.drop_table('richmenu_deployment')
