"""Pre-members (customers collecting before they are in LINE) and the audit of look-ups by phone

Revision ID: 0021
Revises: 0022
Create Date: 2026-12-04 02:10:00

The member table is not rebuilt (SQLite batch mode would have to drop a table other rows
reference): a pre-member's member row carries a placeholder LINE user id (``pre:…``), so
``line_user_id`` stays NOT NULL and unique. Only an index on member.phone is added.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import models.base

revision = '0021'
down_revision = '0022'
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
TS = models.base.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_index(op.f('ix_member_phone'), 'member', ['phone'], unique=False)
    op.create_table(
        'premember',
        sa.Column('member_id', BIG_ID, nullable=False),
        sa.Column('phone', sa.String(length=16), nullable=True),
        sa.Column('claim_code_hash', sa.String(length=64), nullable=True),
        sa.Column('store_id', BIG_ID, nullable=False),
        sa.Column('created_at', TS, nullable=False),
        sa.Column('code_issued_at', TS, nullable=False),
        sa.Column('merged_into_id', BIG_ID, nullable=True),
        sa.Column('merged_at', TS, nullable=True),
        sa.ForeignKeyConstraint(['member_id'], ['member.id'], name=op.f('fk_premember_member_id_member')),
        sa.ForeignKeyConstraint(['merged_into_id'], ['member.id'], name=op.f('fk_premember_merged_into_id_member')),
        sa.ForeignKeyConstraint(['store_id'], ['store.id'], name=op.f('fk_premember_store_id_store')),
        sa.PrimaryKeyConstraint('member_id', name=op.f('pk_premember')),
        sa.UniqueConstraint('phone', name=op.f('uq_premember_phone')),
    )
    op.create_index(op.f('ix_premember_merged_into_id'), 'premember', ['merged_into_id'], unique=False)
    op.create_table(
        'phone_lookup',
        sa.Column('id', BIG_ID, nullable=False),
        sa.Column('store_id', BIG_ID, nullable=False),
        sa.Column('actor_kind', sa.String(length=16), nullable=False),
        sa.Column('staff_id', BIG_ID, nullable=True),
        sa.Column('api_key_id', BIG_ID, nullable=True),
        sa.Column('phone_hash', sa.String(length=64), nullable=False),
        sa.Column('phone_masked', sa.String(length=16), nullable=False),
        sa.Column('purpose', sa.String(length=16), nullable=False),
        sa.Column('outcome', sa.String(length=24), nullable=False),
        sa.Column('member_id', BIG_ID, nullable=True),
        sa.Column('at', TS, nullable=False),
        sa.ForeignKeyConstraint(['store_id'], ['store.id'], name=op.f('fk_phone_lookup_store_id_store')),
        sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], name=op.f('fk_phone_lookup_staff_id_staff')),
        sa.ForeignKeyConstraint(['api_key_id'], ['api_key.id'], name=op.f('fk_phone_lookup_api_key_id_api_key')),
        sa.ForeignKeyConstraint(['member_id'], ['member.id'], name=op.f('fk_phone_lookup_member_id_member')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_phone_lookup')),
    )
    op.create_index(op.f('ix_phone_lookup_store_id'), 'phone_lookup', ['store_id'], unique=False)
    op.create_index(op.f('ix_phone_lookup_phone_hash'), 'phone_lookup', ['phone_hash'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_phone_lookup_phone_hash'), table_name='phone_lookup')
    op.drop_index(op.f('ix_phone_lookup_store_id'), table_name='phone_lookup')
    op.drop_table('phone_lookup')
    op.drop_index(op.f('ix_premember_merged_into_id'), table_name='premember')
    op.drop_table('premember')
    op.drop_index(op.f('ix_member_phone'), table_name='member')
