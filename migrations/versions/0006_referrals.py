"""referrals: codes, referrals and the referral programme

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 10:44:29.803570
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import models.base

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('referral_program',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('referrer_reward', sa.String(length=8), nullable=True),
    sa.Column('referrer_amount', sa.Integer(), nullable=False),
    sa.Column('referrer_template_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('friend_reward', sa.String(length=8), nullable=True),
    sa.Column('friend_amount', sa.Integer(), nullable=False),
    sa.Column('friend_template_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('min_purchase', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('monthly_cap', sa.Integer(), nullable=True),
    sa.Column('new_friend_hours', sa.Integer(), nullable=False),
    sa.Column('updated_at', models.base.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['friend_template_id'], ['coupon_template.id'], name=op.f('fk_referral_program_friend_template_id_coupon_template')),
    sa.ForeignKeyConstraint(['referrer_template_id'], ['coupon_template.id'], name=op.f('fk_referral_program_referrer_template_id_coupon_template')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_referral_program'))
    )
    op.create_table('referral_code',
    sa.Column('member_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=False, nullable=False),
    sa.Column('code', sa.String(length=8), nullable=False),
    sa.Column('created_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['member_id'], ['member.id'], name=op.f('fk_referral_code_member_id_member')),
    sa.PrimaryKeyConstraint('member_id', name=op.f('pk_referral_code')),
    sa.UniqueConstraint('code', name=op.f('uq_referral_code_code'))
    )
    op.create_table('referral',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('referrer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('friend_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('code', sa.String(length=8), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('skip_reason', sa.String(length=16), nullable=True),
    sa.Column('award_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('recorded_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('joined_at', models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('purchased_at', models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('rewarded_at', models.base.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['award_id'], ['award.id'], name=op.f('fk_referral_award_id_award')),
    sa.ForeignKeyConstraint(['friend_id'], ['member.id'], name=op.f('fk_referral_friend_id_member')),
    sa.ForeignKeyConstraint(['referrer_id'], ['member.id'], name=op.f('fk_referral_referrer_id_member')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_referral')),
    sa.UniqueConstraint('friend_id', name=op.f('uq_referral_friend_id'))
    )
    with op.batch_alter_table('referral', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_referral_referrer_id'), ['referrer_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('referral', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_referral_referrer_id'))

    op.drop_table('referral')
    op.drop_table('referral_code')
    op.drop_table('referral_program')
