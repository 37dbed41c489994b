"""Imports of a brand's existing member list (models/member_import.py): the job with its counts,
and one key per imported row (its external id, or its phone) so a second run changes nothing

Revision ID: 0023
Revises: 0021
Create Date: 2026-12-04 19:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import models.base

revision = '0023'
down_revision = '0021'
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
TS = models.base.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        'member_import',
        sa.Column('id', BIG_ID, nullable=False),
        sa.Column('source', sa.String(length=200), nullable=False),
        sa.Column('store_id', BIG_ID, nullable=False),
        sa.Column('created_by', sa.String(length=200), nullable=False),
        sa.Column('status', sa.String(length=12), nullable=False),
        sa.Column('content', sa.LargeBinary(), nullable=True),
        sa.Column('encoding', sa.String(length=16), nullable=True),
        sa.Column('total_rows', sa.Integer(), nullable=False),
        sa.Column('valid_rows', sa.Integer(), nullable=False),
        sa.Column('error_rows', sa.Integer(), nullable=False),
        sa.Column('unchanged_rows', sa.Integer(), nullable=False),
        sa.Column('imported_rows', sa.Integer(), nullable=False),
        sa.Column('report', sa.JSON(), nullable=True),
        sa.Column('created_at', TS, nullable=False),
        sa.Column('finished_at', TS, nullable=True),
        sa.ForeignKeyConstraint(['store_id'], ['store.id'], name=op.f('fk_member_import_store_id_store')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_member_import')),
    )
    op.create_table(
        'member_import_key',
        sa.Column('source_key', sa.String(length=80), nullable=False),
        sa.Column('member_id', BIG_ID, nullable=False),
        sa.Column('import_id', BIG_ID, nullable=False),
        sa.ForeignKeyConstraint(['member_id'], ['member.id'], name=op.f('fk_member_import_key_member_id_member')),
        sa.ForeignKeyConstraint(['import_id'], ['member_import.id'], name=op.f('fk_member_import_key_import_id_member_import')),
        sa.PrimaryKeyConstraint('source_key', name=op.f('pk_member_import_key')),
    )
    op.create_index(op.f('ix_member_import_key_member_id'), 'member_import_key', ['member_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_member_import_key_member_id'), table_name='member_import_key')
    op.drop_table('member_import_key')
    op.drop_table('member_import')
