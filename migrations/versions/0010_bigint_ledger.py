"""64-bit ledger deltas, award totals, redemption points and counts

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 10:00:00

A balance is the sum of its ledger entries and grows with use: the columns that hold what was
earned or spent (and the counts that only go up) become BIGINT on PostgreSQL, where a value past
2^31 - 1 failed the insert. SQLite stores every INTEGER in up to 64 bits already and the models
keep INTEGER as its declared type (models.base.BigInt), so nothing changes there: rebuilding
these tables in batch mode would also fail on a database with rows that reference them.

On PostgreSQL each ALTER rewrites its table under an ACCESS EXCLUSIVE lock: on a large ledger,
run the release step when the counters are quiet.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

WIDENED = {
    'ledger_entry': ('amount',),
    'award': ('stamps', 'points', 'rewards'),
    'redemption': ('points',),
    'member_stats': ('visits',),
    'coupon_template': ('issued_count',),
}


def _alter(old: sa.types.TypeEngine, new: sa.types.TypeEngine) -> None:
    if op.get_bind().dialect.name == 'sqlite':
        return
    for table, columns in WIDENED.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column in columns:
                batch_op.alter_column(column, existing_type=old, type_=new, existing_nullable=False)


def upgrade() -> None:
    _alter(sa.Integer(), sa.BigInteger())


def downgrade() -> None:
    _alter(sa.BigInteger(), sa.Integer())  # fails while a value is past 2^31 - 1, as it should
