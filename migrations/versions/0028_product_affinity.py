"""What members buy, brand-wide: "members who buy X also buy Y" (product_affinity), and the
indexes purchase rules and affinity read

Revision ID: 0028
Revises: 0024
Create Date: 2026-12-04 19:10:00

product_affinity is rebuilt whole by the affinity job (models/affinity.py). award_item gains
(category, member_id, awarded_at) for "bought in this category" rules; ledger_entry gains award_id,
so "is this award voided" (a compensating entry with reason void) is an index look-up. Plain
CREATE TABLE / CREATE INDEX: nothing is rebuilt on SQLite.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import models.base

revision = '0028'
down_revision = '0024'
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
TS = models.base.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        'product_affinity',
        sa.Column('id', BIG_ID, nullable=False),
        sa.Column('level', sa.String(length=8), nullable=False),
        sa.Column('x', sa.String(length=64), nullable=False),
        sa.Column('y', sa.String(length=64), nullable=False),
        sa.Column('rank', sa.Integer(), nullable=False),
        sa.Column('members_both', sa.Integer(), nullable=False),
        sa.Column('members_x', sa.Integer(), nullable=False),
        sa.Column('members_y', sa.Integer(), nullable=False),
        sa.Column('members_total', sa.Integer(), nullable=False),
        sa.Column('confidence', sa.Double(), nullable=False),
        sa.Column('lift', sa.Double(), nullable=False),
        sa.Column('window_days', sa.Integer(), nullable=False),
        sa.Column('computed_at', TS, nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_product_affinity')),
        sa.UniqueConstraint('level', 'x', 'y', name='uq_product_affinity_level_x_y'),
    )
    op.create_index('ix_award_item_category_member', 'award_item', ['category', 'member_id', 'awarded_at'], unique=False)
    op.create_index('ix_ledger_entry_award_id', 'ledger_entry', ['award_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_ledger_entry_award_id', table_name='ledger_entry')
    op.drop_index('ix_award_item_category_member', table_name='award_item')
    op.drop_table('product_affinity')
