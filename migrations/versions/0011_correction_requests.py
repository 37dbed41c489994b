"""Corrections above a threshold wait for a second manager's approval: correction_request

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04 01:30:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import models.base

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
TIME = models.base.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        'correction_request',
        sa.Column('id', BIG_ID, nullable=False),
        sa.Column('store_id', BIG_ID, nullable=True),
        sa.Column('member_id', BIG_ID, nullable=False),
        sa.Column('currency', sa.String(length=8), nullable=False),
        sa.Column('amount', BIG_ID, nullable=False),
        sa.Column('reason', sa.String(length=200), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('requested_by', sa.String(length=160), nullable=False),
        sa.Column('requester_key', sa.String(length=64), nullable=False),
        sa.Column('requester_name', sa.String(length=120), nullable=False),
        sa.Column('staff_id', BIG_ID, nullable=True),
        sa.Column('created_at', TIME, nullable=False),
        sa.Column('decided_by', sa.String(length=160), nullable=True),
        sa.Column('decider_name', sa.String(length=120), nullable=True),
        sa.Column('decided_at', TIME, nullable=True),
        sa.Column('decision_note', sa.String(length=200), nullable=True),
        sa.Column('ledger_entry_id', BIG_ID, nullable=True),
        sa.ForeignKeyConstraint(['store_id'], ['store.id'], name=op.f('fk_correction_request_store_id_store')),
        sa.ForeignKeyConstraint(['member_id'], ['member.id'], name=op.f('fk_correction_request_member_id_member')),
        sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], name=op.f('fk_correction_request_staff_id_staff')),
        sa.ForeignKeyConstraint(['ledger_entry_id'], ['ledger_entry.id'], name=op.f('fk_correction_request_ledger_entry_id_ledger_entry')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_correction_request')),
    )
    op.create_index('ix_correction_request_member_id', 'correction_request', ['member_id'], unique=False)
    op.create_index('ix_correction_request_status_store', 'correction_request', ['status', 'store_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_correction_request_status_store', table_name='correction_request')
    op.drop_index('ix_correction_request_member_id', table_name='correction_request')
    op.drop_table('correction_request')
