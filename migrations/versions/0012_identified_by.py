"""How the member was identified, on every ledger entry, coupon event and handed-over card reward;
and the member's confirmations in LINE of a spend asked for by a typed member number

Revision ID: 0012
Revises: 0013
Create Date: 2026-12-04 01:30:00

Rows written before this revision keep NULL (not recorded).
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import models.base

revision = '0012'
down_revision = '0013'
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    # plain ADD COLUMN (nullable, no default): no table is rebuilt on SQLite or rewritten on PostgreSQL
    op.add_column('ledger_entry', sa.Column('identified_by', sa.String(length=16), nullable=True))
    op.add_column('coupon_event', sa.Column('identified_by', sa.String(length=16), nullable=True))
    op.add_column('reward_grant', sa.Column('used_identified_by', sa.String(length=16), nullable=True))
    op.create_table(
        'spend_confirmation',
        sa.Column('id', BIG_ID, nullable=False),
        sa.Column('member_id', BIG_ID, nullable=False),
        sa.Column('store_id', BIG_ID, nullable=False),
        sa.Column('actor_kind', sa.String(length=16), nullable=False),
        sa.Column('staff_id', BIG_ID, nullable=True),
        sa.Column('api_key_id', BIG_ID, nullable=True),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('reward_item_id', BIG_ID, nullable=True),
        sa.Column('grant_id', BIG_ID, nullable=True),
        sa.Column('request_id', sa.String(length=64), nullable=False),
        sa.Column('what', sa.String(length=120), nullable=False),
        sa.Column('points', BIG_ID, nullable=True),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('outcome_code', sa.String(length=48), nullable=True),
        sa.Column('redemption_id', BIG_ID, nullable=True),
        sa.Column('created_at', models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column('expires_at', models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column('decided_at', models.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['member_id'], ['member.id'], name=op.f('fk_spend_confirmation_member_id_member')),
        sa.ForeignKeyConstraint(['store_id'], ['store.id'], name=op.f('fk_spend_confirmation_store_id_store')),
        sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], name=op.f('fk_spend_confirmation_staff_id_staff')),
        sa.ForeignKeyConstraint(['api_key_id'], ['api_key.id'], name=op.f('fk_spend_confirmation_api_key_id_api_key')),
        sa.ForeignKeyConstraint(['reward_item_id'], ['reward_item.id'], name=op.f('fk_spend_confirmation_reward_item_id_reward_item')),
        sa.ForeignKeyConstraint(['grant_id'], ['reward_grant.id'], name=op.f('fk_spend_confirmation_grant_id_reward_grant')),
        sa.ForeignKeyConstraint(['redemption_id'], ['redemption.id'], name=op.f('fk_spend_confirmation_redemption_id_redemption')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_spend_confirmation')),
    )
    with op.batch_alter_table('spend_confirmation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_spend_confirmation_member_id'), ['member_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('spend_confirmation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_spend_confirmation_member_id'))
    op.drop_table('spend_confirmation')
    with op.batch_alter_table('reward_grant', schema=None) as batch_op:
        batch_op.drop_column('used_identified_by')
    with op.batch_alter_table('coupon_event', schema=None) as batch_op:
        batch_op.drop_column('identified_by')
    with op.batch_alter_table('ledger_entry', schema=None) as batch_op:
        batch_op.drop_column('identified_by')
