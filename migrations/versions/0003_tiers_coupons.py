"""tiers and coupons

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 08:34:29.643987
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import models.base

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('coupon_template',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('value', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('item_name', sa.String(length=120), nullable=True),
    sa.Column('min_spend', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('valid_from', models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('valid_until', models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('valid_days', sa.Integer(), nullable=True),
    sa.Column('per_member_limit', sa.Integer(), nullable=True),
    sa.Column('total_stock', sa.Integer(), nullable=True),
    sa.Column('issued_count', sa.Integer(), nullable=False),
    sa.Column('store_codes', sa.JSON(), nullable=True),
    sa.Column('trigger', sa.String(length=16), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('created_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_coupon_template'))
    )
    op.create_table('coupon',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('template_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('member_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('code', sa.String(length=16), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('occasion', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('issued_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('valid_from', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('redeemed_at', models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('redeemed_store_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('redeemed_amount', sa.Numeric(precision=12, scale=2), nullable=True),
    sa.Column('reminded_at', models.base.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['member_id'], ['member.id'], name=op.f('fk_coupon_member_id_member')),
    sa.ForeignKeyConstraint(['redeemed_store_id'], ['store.id'], name=op.f('fk_coupon_redeemed_store_id_store')),
    sa.ForeignKeyConstraint(['template_id'], ['coupon_template.id'], name=op.f('fk_coupon_template_id_coupon_template')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_coupon')),
    sa.UniqueConstraint('code', name=op.f('uq_coupon_code')),
    sa.UniqueConstraint('template_id', 'member_id', 'occasion', name='uq_coupon_occasion')
    )
    with op.batch_alter_table('coupon', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_coupon_member_id'), ['member_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_coupon_template_id'), ['template_id'], unique=False)

    op.create_table('tier',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=60), nullable=False),
    sa.Column('rank', sa.Integer(), nullable=False),
    sa.Column('metric', sa.String(length=8), nullable=False),
    sa.Column('threshold', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('window_days', sa.Integer(), nullable=False),
    sa.Column('period_days', sa.Integer(), nullable=False),
    sa.Column('reminder_days', sa.Integer(), nullable=False),
    sa.Column('earn_multiplier', sa.Numeric(precision=5, scale=2), nullable=False),
    sa.Column('benefits', sa.JSON(), nullable=False),
    sa.Column('color', sa.String(length=9), nullable=False),
    sa.Column('image_url', sa.String(length=1000), nullable=True),
    sa.Column('birthday_template_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('upgrade_template_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('richmenu_id', sa.String(length=80), nullable=True),
    sa.Column('created_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['birthday_template_id'], ['coupon_template.id'], name=op.f('fk_tier_birthday_template_id_coupon_template')),
    sa.ForeignKeyConstraint(['upgrade_template_id'], ['coupon_template.id'], name=op.f('fk_tier_upgrade_template_id_coupon_template')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tier')),
    sa.UniqueConstraint('code', name=op.f('uq_tier_code')),
    sa.UniqueConstraint('rank', name=op.f('uq_tier_rank'))
    )
    op.create_table('tier_reminder',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('member_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('period_ends_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('sent_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['member_id'], ['member.id'], name=op.f('fk_tier_reminder_member_id_member')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tier_reminder')),
    sa.UniqueConstraint('member_id', 'period_ends_at', name='uq_tier_reminder_period')
    )
    op.create_table('coupon_event',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('coupon_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('store_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('actor_kind', sa.String(length=16), nullable=False),
    sa.Column('staff_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('note', sa.String(length=200), nullable=True),
    sa.Column('amount', sa.Numeric(precision=12, scale=2), nullable=True),
    sa.Column('at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['coupon_id'], ['coupon.id'], name=op.f('fk_coupon_event_coupon_id_coupon')),
    sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], name=op.f('fk_coupon_event_staff_id_staff')),
    sa.ForeignKeyConstraint(['store_id'], ['store.id'], name=op.f('fk_coupon_event_store_id_store')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_coupon_event'))
    )
    with op.batch_alter_table('coupon_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_coupon_event_coupon_id'), ['coupon_id'], unique=False)

    op.create_table('tier_change',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('member_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('from_tier_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('to_tier_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('reason', sa.String(length=200), nullable=False),
    sa.Column('at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['from_tier_id'], ['tier.id'], name=op.f('fk_tier_change_from_tier_id_tier')),
    sa.ForeignKeyConstraint(['member_id'], ['member.id'], name=op.f('fk_tier_change_member_id_member')),
    sa.ForeignKeyConstraint(['to_tier_id'], ['tier.id'], name=op.f('fk_tier_change_to_tier_id_tier')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tier_change'))
    )
    with op.batch_alter_table('tier_change', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tier_change_member_id'), ['member_id'], unique=False)

    with op.batch_alter_table('member', schema=None) as batch_op:
        batch_op.add_column(sa.Column('tier_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True))
        batch_op.add_column(sa.Column('tier_since', models.base.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('tier_until', models.base.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_member_tier_id_tier'), 'tier', ['tier_id'], ['id'])



def downgrade() -> None:
    with op.batch_alter_table('member', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_member_tier_id_tier'), type_='foreignkey')
        batch_op.drop_column('tier_until')
        batch_op.drop_column('tier_since')
        batch_op.drop_column('tier_id')

    with op.batch_alter_table('tier_change', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tier_change_member_id'))

    op.drop_table('tier_change')
    with op.batch_alter_table('coupon_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_coupon_event_coupon_id'))

    op.drop_table('coupon_event')
    op.drop_table('tier_reminder')
    op.drop_table('tier')
    with op.batch_alter_table('coupon', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_coupon_template_id'))
        batch_op.drop_index(batch_op.f('ix_coupon_member_id'))

    op.drop_table('coupon')
    op.drop_table('coupon_template')
