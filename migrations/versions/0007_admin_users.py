"""admin users: console accounts, and console sessions as admin tokens with an owner and an expiry

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23 12:37:21.877932
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import models.base

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('admin_user',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('display_name', sa.String(length=120), nullable=False),
    sa.Column('password_hash', sa.String(length=256), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('failed_logins', sa.Integer(), nullable=False),
    sa.Column('locked_until', models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_login_at', models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_admin_user')),
    sa.UniqueConstraint('email', name=op.f('uq_admin_user_email'))
    )
    with op.batch_alter_table('admin_token', schema=None) as batch_op:
        batch_op.add_column(sa.Column('admin_user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True))
        batch_op.add_column(sa.Column('expires_at', models.base.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f('ix_admin_token_admin_user_id'), ['admin_user_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_admin_token_admin_user_id_admin_user'), 'admin_user', ['admin_user_id'], ['id'])


def downgrade() -> None:
    with op.batch_alter_table('admin_token', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_admin_token_admin_user_id_admin_user'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_admin_token_admin_user_id'))
        batch_op.drop_column('expires_at')
        batch_op.drop_column('admin_user_id')

    op.drop_table('admin_user')
