"""The domain: typed SQLAlchemy models and the operations on them (no Flask, no LINE)."""
from models.base import Base
from models import claim, conversation, coupon, ledger, member, outbox, reward, rule, store, tier, webhook  # noqa: F401  (register tables)

metadata = Base.metadata
