"""admin tokens, audit log, tags, segments, campaigns, journeys

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 09:23:53.588500
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import models.base

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('admin_token',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('token_id', sa.String(length=32), nullable=False),
    sa.Column('secret_hash', sa.String(length=64), nullable=False),
    sa.Column('scopes', sa.JSON(), nullable=False),
    sa.Column('created_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', models.base.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_admin_token')),
    sa.UniqueConstraint('token_id', name=op.f('uq_admin_token_token_id'))
    )
    op.create_table('audit_log',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('actor', sa.String(length=160), nullable=False),
    sa.Column('action', sa.String(length=200), nullable=False),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.Column('at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log'))
    )
    op.create_table('segment',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('rule', sa.JSON(), nullable=False),
    sa.Column('created_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_segment')),
    sa.UniqueConstraint('name', name=op.f('uq_segment_name'))
    )
    op.create_table('tag',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('name', sa.String(length=60), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('rule', sa.JSON(), nullable=True),
    sa.Column('created_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('refreshed_at', models.base.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tag')),
    sa.UniqueConstraint('name', name=op.f('uq_tag_name'))
    )
    op.create_table('campaign',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('content', sa.JSON(), nullable=False),
    sa.Column('rule', sa.JSON(), nullable=True),
    sa.Column('segment_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('coupon_template_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('holdout_pct', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('scheduled_at', models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('over_quota_confirmed', sa.Boolean(), nullable=False),
    sa.Column('created_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('started_at', models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('finished_at', models.base.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['coupon_template_id'], ['coupon_template.id'], name=op.f('fk_campaign_coupon_template_id_coupon_template')),
    sa.ForeignKeyConstraint(['segment_id'], ['segment.id'], name=op.f('fk_campaign_segment_id_segment')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_campaign'))
    )
    with op.batch_alter_table('campaign', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_campaign_status'), ['status'], unique=False)

    op.create_table('journey',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('text', sa.String(length=1000), nullable=False),
    sa.Column('coupon_template_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('delay_minutes', sa.Integer(), nullable=False),
    sa.Column('days_before', sa.Integer(), nullable=False),
    sa.Column('condition', sa.JSON(), nullable=True),
    sa.Column('updated_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['coupon_template_id'], ['coupon_template.id'], name=op.f('fk_journey_coupon_template_id_coupon_template')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_journey')),
    sa.UniqueConstraint('kind', name=op.f('uq_journey_kind'))
    )
    op.create_table('campaign_batch',
    sa.Column('campaign_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('batch_no', sa.Integer(), nullable=False),
    sa.Column('retry_key', sa.String(length=36), nullable=False),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.String(length=200), nullable=True),
    sa.Column('sent_at', models.base.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'], name=op.f('fk_campaign_batch_campaign_id_campaign')),
    sa.PrimaryKeyConstraint('campaign_id', 'batch_no', name=op.f('pk_campaign_batch')),
    sa.UniqueConstraint('retry_key', name=op.f('uq_campaign_batch_retry_key'))
    )
    op.create_table('campaign_recipient',
    sa.Column('campaign_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('member_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('group', sa.String(length=8), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('skip_reason', sa.String(length=16), nullable=True),
    sa.Column('batch_no', sa.Integer(), nullable=True),
    sa.Column('sent_at', models.base.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'], name=op.f('fk_campaign_recipient_campaign_id_campaign')),
    sa.ForeignKeyConstraint(['member_id'], ['member.id'], name=op.f('fk_campaign_recipient_member_id_member')),
    sa.PrimaryKeyConstraint('campaign_id', 'member_id', name=op.f('pk_campaign_recipient'))
    )
    with op.batch_alter_table('campaign_recipient', schema=None) as batch_op:
        batch_op.create_index('ix_campaign_recipient_batch', ['campaign_id', 'batch_no'], unique=False)

    op.create_table('marketing_send',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('member_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('source', sa.String(length=40), nullable=False),
    sa.Column('sent_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['member_id'], ['member.id'], name=op.f('fk_marketing_send_member_id_member')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_marketing_send'))
    )
    with op.batch_alter_table('marketing_send', schema=None) as batch_op:
        batch_op.create_index('ix_marketing_send_member_at', ['member_id', 'sent_at'], unique=False)

    op.create_table('member_stats',
    sa.Column('member_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('visits', sa.Integer(), nullable=False),
    sa.Column('spend', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('first_visit_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_visit_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('r_score', sa.Integer(), nullable=True),
    sa.Column('f_score', sa.Integer(), nullable=True),
    sa.Column('m_score', sa.Integer(), nullable=True),
    sa.Column('rfm_class', sa.String(length=8), nullable=True),
    sa.Column('nes', sa.String(length=2), nullable=False),
    sa.Column('computed_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['member_id'], ['member.id'], name=op.f('fk_member_stats_member_id_member')),
    sa.PrimaryKeyConstraint('member_id', name=op.f('pk_member_stats'))
    )
    with op.batch_alter_table('member_stats', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_member_stats_nes'), ['nes'], unique=False)
        batch_op.create_index(batch_op.f('ix_member_stats_rfm_class'), ['rfm_class'], unique=False)

    op.create_table('member_tag',
    sa.Column('member_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('tag_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('added_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['member_id'], ['member.id'], name=op.f('fk_member_tag_member_id_member')),
    sa.ForeignKeyConstraint(['tag_id'], ['tag.id'], name=op.f('fk_member_tag_tag_id_tag')),
    sa.PrimaryKeyConstraint('member_id', 'tag_id', name=op.f('pk_member_tag'))
    )
    with op.batch_alter_table('member_tag', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_member_tag_tag_id'), ['tag_id'], unique=False)

    op.create_table('journey_run',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('journey_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('member_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('occasion', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('skip_reason', sa.String(length=16), nullable=True),
    sa.Column('context', sa.JSON(), nullable=False),
    sa.Column('created_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('due_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('sent_at', models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('coupon_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.ForeignKeyConstraint(['coupon_id'], ['coupon.id'], name=op.f('fk_journey_run_coupon_id_coupon')),
    sa.ForeignKeyConstraint(['journey_id'], ['journey.id'], name=op.f('fk_journey_run_journey_id_journey')),
    sa.ForeignKeyConstraint(['member_id'], ['member.id'], name=op.f('fk_journey_run_member_id_member')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_journey_run')),
    sa.UniqueConstraint('journey_id', 'member_id', 'occasion', name='uq_journey_run_occasion')
    )
    with op.batch_alter_table('journey_run', schema=None) as batch_op:
        batch_op.create_index('ix_journey_run_due', ['status', 'due_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_journey_run_member_id'), ['member_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('journey_run', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_journey_run_member_id'))
        batch_op.drop_index('ix_journey_run_due')

    op.drop_table('journey_run')
    with op.batch_alter_table('member_tag', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_member_tag_tag_id'))

    op.drop_table('member_tag')
    with op.batch_alter_table('member_stats', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_member_stats_rfm_class'))
        batch_op.drop_index(batch_op.f('ix_member_stats_nes'))

    op.drop_table('member_stats')
    with op.batch_alter_table('marketing_send', schema=None) as batch_op:
        batch_op.drop_index('ix_marketing_send_member_at')

    op.drop_table('marketing_send')
    with op.batch_alter_table('campaign_recipient', schema=None) as batch_op:
        batch_op.drop_index('ix_campaign_recipient_batch')

    op.drop_table('campaign_recipient')
    op.drop_table('campaign_batch')
    op.drop_table('journey')
    with op.batch_alter_table('campaign', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_campaign_status'))

    op.drop_table('campaign')
    op.drop_table('tag')
    op.drop_table('segment')
    op.drop_table('audit_log')
    op.drop_table('admin_token')
