"""The domain: typed SQLAlchemy models and the operations on them (no Flask, no LINE)."""
from models.base import Base
from models import admin, admin_user, affinity, campaign, claim, confirmation, conversation, correction, coupon, insight, journey, journey_insight, ledger, member, member_import, outbox, premember, product, referral, referral_program, reward, richmenu, rule, segment, segment_setting, store, tag, throttle, tier, webhook  # noqa: F401  (register tables)

metadata = Base.metadata
