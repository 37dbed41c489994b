"""What members buy: the product catalogue, receipt line items stored with awards, per-product
earning bonuses and line items waiting on receipt claim codes

Revision ID: 0024
Revises: 0021
Create Date: 2026-12-04 18:50:00

award_item copies member_id and awarded_at from its award so that aggregates (who bought what,
when) read one table. New columns on earning_rule and claim_code are plain nullable ADD COLUMNs:
no table is rebuilt on SQLite or rewritten on PostgreSQL.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import models.base

revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
TS = models.base.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        'product',
        sa.Column('id', BIG_ID, nullable=False),
        sa.Column('sku', sa.String(length=64), nullable=False),
        sa.Column('name', sa.String(length=120), nullable=False),
        sa.Column('category', sa.String(length=64), nullable=True),
        sa.Column('price', sa.Numeric(precision=12, scale=2), nullable=True),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.Column('created_at', TS, nullable=False),
        sa.Column('updated_at', TS, nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_product')),
        sa.UniqueConstraint('sku', name=op.f('uq_product_sku')),
    )
    op.create_table(
        'award_item',
        sa.Column('id', BIG_ID, nullable=False),
        sa.Column('award_id', BIG_ID, nullable=False),
        sa.Column('line_no', sa.Integer(), nullable=False),
        sa.Column('member_id', BIG_ID, nullable=False),
        sa.Column('store_id', BIG_ID, nullable=False),
        sa.Column('sku', sa.String(length=64), nullable=False),
        sa.Column('product_id', BIG_ID, nullable=True),
        sa.Column('name', sa.String(length=120), nullable=True),
        sa.Column('category', sa.String(length=64), nullable=True),
        sa.Column('qty', sa.Integer(), nullable=False),
        sa.Column('unit_price', sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column('line_total', sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column('awarded_at', TS, nullable=False),
        sa.ForeignKeyConstraint(['award_id'], ['award.id'], name=op.f('fk_award_item_award_id_award')),
        sa.ForeignKeyConstraint(['member_id'], ['member.id'], name=op.f('fk_award_item_member_id_member')),
        sa.ForeignKeyConstraint(['store_id'], ['store.id'], name=op.f('fk_award_item_store_id_store')),
        sa.ForeignKeyConstraint(['product_id'], ['product.id'], name=op.f('fk_award_item_product_id_product')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_award_item')),
        sa.UniqueConstraint('award_id', 'line_no', name='uq_award_item_award_line'),
    )
    op.create_index('ix_award_item_member_id', 'award_item', ['member_id'], unique=False)
    op.create_index('ix_award_item_sku', 'award_item', ['sku'], unique=False)
    op.create_index('ix_award_item_product_id', 'award_item', ['product_id'], unique=False)
    op.add_column('earning_rule', sa.Column('bonuses', sa.JSON(), nullable=True))
    op.add_column('claim_code', sa.Column('items', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('claim_code') as batch:
        batch.drop_column('items')
    with op.batch_alter_table('earning_rule') as batch:
        batch.drop_column('bonuses')
    op.drop_index('ix_award_item_product_id', table_name='award_item')
    op.drop_index('ix_award_item_sku', table_name='award_item')
    op.drop_index('ix_award_item_member_id', table_name='award_item')
    op.drop_table('award_item')
    op.drop_table('product')
