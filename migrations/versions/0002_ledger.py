"""stores, staff, ledger, awards, rewards, claims, outbox

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 08:23:34.080443
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import models.base

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('earning_rule',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('stamps_per_visit', sa.Integer(), nullable=False),
    sa.Column('amount_per_stamp', sa.Numeric(precision=12, scale=2), nullable=True),
    sa.Column('amount_per_point', sa.Numeric(precision=12, scale=2), nullable=True),
    sa.Column('min_spend', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('daily_cap_stamps', sa.Integer(), nullable=True),
    sa.Column('daily_cap_points', sa.Integer(), nullable=True),
    sa.Column('card_size', sa.Integer(), nullable=False),
    sa.Column('reward_kind', sa.String(length=16), nullable=False),
    sa.Column('reward_name', sa.String(length=120), nullable=False),
    sa.Column('stamp_expiry_days', sa.Integer(), nullable=True),
    sa.Column('point_expiry_days', sa.Integer(), nullable=True),
    sa.Column('updated_at', models.base.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_earning_rule'))
    )
    op.create_table('reward_item',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('points_cost', sa.Integer(), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('created_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reward_item'))
    )
    op.create_table('store',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('created_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_store')),
    sa.UniqueConstraint('code', name=op.f('uq_store_code'))
    )
    op.create_table('api_key',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('store_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('key_id', sa.String(length=32), nullable=False),
    sa.Column('secret_hash', sa.String(length=64), nullable=False),
    sa.Column('label', sa.String(length=120), nullable=False),
    sa.Column('created_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', models.base.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['store_id'], ['store.id'], name=op.f('fk_api_key_store_id_store')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_key')),
    sa.UniqueConstraint('key_id', name=op.f('uq_api_key_key_id'))
    )
    with op.batch_alter_table('api_key', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_key_store_id'), ['store_id'], unique=False)

    op.create_table('outbox_message',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('member_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('purpose', sa.String(length=32), nullable=False),
    sa.Column('messages', sa.JSON(), nullable=False),
    sa.Column('retry_key', sa.String(length=36), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.String(length=200), nullable=True),
    sa.Column('created_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('next_attempt_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('sent_at', models.base.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['member_id'], ['member.id'], name=op.f('fk_outbox_message_member_id_member')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_message')),
    sa.UniqueConstraint('retry_key', name=op.f('uq_outbox_message_retry_key'))
    )
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outbox_message_member_id'), ['member_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_outbox_message_status'), ['status'], unique=False)

    op.create_table('staff',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('store_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('display_name', sa.String(length=120), nullable=False),
    sa.Column('password_hash', sa.String(length=256), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('created_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['store_id'], ['store.id'], name=op.f('fk_staff_store_id_store')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_staff')),
    sa.UniqueConstraint('username', name=op.f('uq_staff_username'))
    )
    with op.batch_alter_table('staff', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_staff_store_id'), ['store_id'], unique=False)

    op.create_table('award',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('store_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('receipt_id', sa.String(length=64), nullable=False),
    sa.Column('member_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('amount', sa.Numeric(precision=12, scale=2), nullable=True),
    sa.Column('visit', sa.Boolean(), nullable=False),
    sa.Column('stamps', sa.Integer(), nullable=False),
    sa.Column('points', sa.Integer(), nullable=False),
    sa.Column('rewards', sa.Integer(), nullable=False),
    sa.Column('actor_kind', sa.String(length=16), nullable=False),
    sa.Column('staff_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('api_key_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('created_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['api_key_id'], ['api_key.id'], name=op.f('fk_award_api_key_id_api_key')),
    sa.ForeignKeyConstraint(['member_id'], ['member.id'], name=op.f('fk_award_member_id_member')),
    sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], name=op.f('fk_award_staff_id_staff')),
    sa.ForeignKeyConstraint(['store_id'], ['store.id'], name=op.f('fk_award_store_id_store')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_award')),
    sa.UniqueConstraint('store_id', 'receipt_id', name='uq_award_store_receipt')
    )
    with op.batch_alter_table('award', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_award_member_id'), ['member_id'], unique=False)

    op.create_table('claim_code',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('code', sa.String(length=16), nullable=False),
    sa.Column('store_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('receipt_id', sa.String(length=64), nullable=False),
    sa.Column('amount', sa.Numeric(precision=12, scale=2), nullable=True),
    sa.Column('visit', sa.Boolean(), nullable=False),
    sa.Column('actor_kind', sa.String(length=16), nullable=False),
    sa.Column('staff_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('api_key_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('created_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('claimed_at', models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('member_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.ForeignKeyConstraint(['api_key_id'], ['api_key.id'], name=op.f('fk_claim_code_api_key_id_api_key')),
    sa.ForeignKeyConstraint(['member_id'], ['member.id'], name=op.f('fk_claim_code_member_id_member')),
    sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], name=op.f('fk_claim_code_staff_id_staff')),
    sa.ForeignKeyConstraint(['store_id'], ['store.id'], name=op.f('fk_claim_code_store_id_store')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_claim_code')),
    sa.UniqueConstraint('code', name=op.f('uq_claim_code_code')),
    sa.UniqueConstraint('store_id', 'receipt_id', name='uq_claim_code_store_receipt')
    )
    op.create_table('ledger_entry',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('member_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('currency', sa.String(length=8), nullable=False),
    sa.Column('amount', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=16), nullable=False),
    sa.Column('store_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('actor_kind', sa.String(length=16), nullable=False),
    sa.Column('staff_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('api_key_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('receipt_id', sa.String(length=64), nullable=True),
    sa.Column('award_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('note', sa.String(length=200), nullable=True),
    sa.Column('expires_at', models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['api_key_id'], ['api_key.id'], name=op.f('fk_ledger_entry_api_key_id_api_key')),
    sa.ForeignKeyConstraint(['award_id'], ['award.id'], name=op.f('fk_ledger_entry_award_id_award')),
    sa.ForeignKeyConstraint(['member_id'], ['member.id'], name=op.f('fk_ledger_entry_member_id_member')),
    sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], name=op.f('fk_ledger_entry_staff_id_staff')),
    sa.ForeignKeyConstraint(['store_id'], ['store.id'], name=op.f('fk_ledger_entry_store_id_store')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_entry'))
    )
    with op.batch_alter_table('ledger_entry', schema=None) as batch_op:
        batch_op.create_index('ix_ledger_entry_member_currency', ['member_id', 'currency'], unique=False)

    op.create_table('reward_grant',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('member_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('award_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('issued_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('used_at', models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('used_store_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.ForeignKeyConstraint(['award_id'], ['award.id'], name=op.f('fk_reward_grant_award_id_award')),
    sa.ForeignKeyConstraint(['member_id'], ['member.id'], name=op.f('fk_reward_grant_member_id_member')),
    sa.ForeignKeyConstraint(['used_store_id'], ['store.id'], name=op.f('fk_reward_grant_used_store_id_store')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reward_grant'))
    )
    with op.batch_alter_table('reward_grant', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reward_grant_member_id'), ['member_id'], unique=False)

    op.create_table('redemption',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('store_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('request_id', sa.String(length=64), nullable=False),
    sa.Column('member_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('reward_item_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('points', sa.Integer(), nullable=False),
    sa.Column('ledger_entry_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('created_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['ledger_entry_id'], ['ledger_entry.id'], name=op.f('fk_redemption_ledger_entry_id_ledger_entry')),
    sa.ForeignKeyConstraint(['member_id'], ['member.id'], name=op.f('fk_redemption_member_id_member')),
    sa.ForeignKeyConstraint(['reward_item_id'], ['reward_item.id'], name=op.f('fk_redemption_reward_item_id_reward_item')),
    sa.ForeignKeyConstraint(['store_id'], ['store.id'], name=op.f('fk_redemption_store_id_store')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_redemption')),
    sa.UniqueConstraint('store_id', 'request_id', name='uq_redemption_store_request')
    )
    with op.batch_alter_table('redemption', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_redemption_member_id'), ['member_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('redemption', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_redemption_member_id'))

    op.drop_table('redemption')
    with op.batch_alter_table('reward_grant', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reward_grant_member_id'))

    op.drop_table('reward_grant')
    with op.batch_alter_table('ledger_entry', schema=None) as batch_op:
        batch_op.drop_index('ix_ledger_entry_member_currency')

    op.drop_table('ledger_entry')
    op.drop_table('claim_code')
    with op.batch_alter_table('award', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_award_member_id'))

    op.drop_table('award')
    with op.batch_alter_table('staff', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_staff_store_id'))

    op.drop_table('staff')
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outbox_message_status'))
        batch_op.drop_index(batch_op.f('ix_outbox_message_member_id'))

    op.drop_table('outbox_message')
    with op.batch_alter_table('api_key', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_key_store_id'))

    op.drop_table('api_key')
    op.drop_table('store')
    op.drop_table('reward_item')
    op.drop_table('earning_rule')
