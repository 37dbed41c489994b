"""Click tracking per member: a campaign's links and who clicked them (the bot's /r/<token> redirect)

Revision ID: 0025
Revises: 0021
Create Date: 2026-12-04 19:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import models.base

revision = '0025'
down_revision = '0028'
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table(
        'campaign_link',
        sa.Column('id', BIG_ID, nullable=False),
        sa.Column('campaign_id', BIG_ID, nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('url', sa.String(length=1000), nullable=False),
        sa.Column('label', sa.String(length=100), nullable=True),
        sa.Column('created_at', models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'], name=op.f('fk_campaign_link_campaign_id_campaign')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_campaign_link')),
        sa.UniqueConstraint('campaign_id', 'position', name='uq_campaign_link_position'),
    )
    op.create_table(
        'campaign_click',
        sa.Column('link_id', BIG_ID, nullable=False),
        sa.Column('member_id', BIG_ID, nullable=False),
        sa.Column('campaign_id', BIG_ID, nullable=False),
        sa.Column('clicks', sa.Integer(), nullable=False),
        sa.Column('first_at', models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column('last_at', models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['link_id'], ['campaign_link.id'], name=op.f('fk_campaign_click_link_id_campaign_link')),
        sa.ForeignKeyConstraint(['member_id'], ['member.id'], name=op.f('fk_campaign_click_member_id_member')),
        sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'], name=op.f('fk_campaign_click_campaign_id_campaign')),
        sa.PrimaryKeyConstraint('link_id', 'member_id', name=op.f('pk_campaign_click')),
    )
    op.create_index('ix_campaign_click_campaign_member', 'campaign_click', ['campaign_id', 'member_id'])


def downgrade() -> None:
    op.drop_index('ix_campaign_click_campaign_member', table_name='campaign_click')
    op.drop_table('campaign_click')
    op.drop_table('campaign_link')
