"""members, follow log, conversations, webhook events

Revision ID: 0001
Revises:
Create Date: 2026-11-23 08:15:29.914778
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import models.base

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('member',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('line_user_id', sa.String(length=64), nullable=False),
    sa.Column('display_name', sa.String(length=120), nullable=True),
    sa.Column('picture_url', sa.String(length=1000), nullable=True),
    sa.Column('language', sa.String(length=16), nullable=True),
    sa.Column('is_reachable', sa.Boolean(), nullable=False),
    sa.Column('followed_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('unfollowed_at', models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('member_no', sa.String(length=16), nullable=True),
    sa.Column('joined_at', models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('birthday_on', sa.Date(), nullable=True),
    sa.Column('phone', sa.String(length=16), nullable=True),
    sa.Column('gender', sa.String(length=16), nullable=True),
    sa.Column('terms_version', sa.String(length=32), nullable=True),
    sa.Column('consented_at', models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_member')),
    sa.UniqueConstraint('line_user_id', name=op.f('uq_member_line_user_id')),
    sa.UniqueConstraint('member_no', name=op.f('uq_member_member_no'))
    )
    op.create_table('webhook_event',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('webhook_event_id', sa.String(length=64), nullable=False),
    sa.Column('event_type', sa.String(length=32), nullable=False),
    sa.Column('is_redelivery', sa.Boolean(), nullable=False),
    sa.Column('received_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_event')),
    sa.UniqueConstraint('webhook_event_id', name=op.f('uq_webhook_event_webhook_event_id'))
    )
    op.create_table('conversation',
    sa.Column('member_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('flow', sa.String(length=32), nullable=False),
    sa.Column('step', sa.String(length=32), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('started_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['member_id'], ['member.id'], name=op.f('fk_conversation_member_id_member')),
    sa.PrimaryKeyConstraint('member_id', name=op.f('pk_conversation'))
    )
    op.create_table('follow_log',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('member_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['member_id'], ['member.id'], name=op.f('fk_follow_log_member_id_member')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_follow_log'))
    )
    with op.batch_alter_table('follow_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_follow_log_member_id'), ['member_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('follow_log', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_follow_log_member_id'))

    op.drop_table('follow_log')
    op.drop_table('conversation')
    op.drop_table('webhook_event')
    op.drop_table('member')
