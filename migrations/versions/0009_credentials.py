"""Credentials with a life cycle: who minted an admin token, a staff member's token version, and
sign-in throttles per account and client address

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 17:15:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import models.base

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    with op.batch_alter_table('admin_token', schema=None) as batch_op:
        batch_op.add_column(sa.Column('created_by_id', BIG_ID, nullable=True))
        batch_op.create_index(batch_op.f('ix_admin_token_created_by_id'), ['created_by_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_admin_token_created_by_id_admin_user'), 'admin_user', ['created_by_id'], ['id'])
    with op.batch_alter_table('staff', schema=None) as batch_op:
        batch_op.add_column(sa.Column('token_version', sa.Integer(), nullable=False, server_default='0'))
    op.create_table(
        'login_throttle',
        sa.Column('id', BIG_ID, nullable=False),
        sa.Column('key', sa.String(length=64), nullable=False),
        sa.Column('failures', sa.Integer(), nullable=False),
        sa.Column('blocked_until', models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column('last_failure_at', models.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_login_throttle')),
        sa.UniqueConstraint('key', name=op.f('uq_login_throttle_key')),
    )


def downgrade() -> None:
    op.drop_table('login_throttle')
    with op.batch_alter_table('staff', schema=None) as batch_op:
        batch_op.drop_column('token_version')
    with op.batch_alter_table('admin_token', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_admin_token_created_by_id_admin_user'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_admin_token_created_by_id'))
        batch_op.drop_column('created_by_id')
