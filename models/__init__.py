"""The domain: typed SQLAlchemy models and the operations on them (no Flask, no LINE)."""
from models.base import Base
from models import claim, conversation, ledger, member, outbox, reward, rule, store, webhook  # noqa: F401  (register tables)

metadata = Base.metadata
