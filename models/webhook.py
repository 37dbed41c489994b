"""Processed webhook events: LINE redelivers, so each webhookEventId is handled once."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, String, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from models.base import Base, IntPK, Timestamp


class WebhookEvent(Base):
    __tablename__ = "webhook_event"

    id: Mapped[IntPK]
    webhook_event_id: Mapped[str] = mapped_column(String(64), unique=True)
    event_type: Mapped[str] = mapped_column(String(32))
    is_redelivery: Mapped[bool] = mapped_column(Boolean, default=False)
    received_at: Mapped[Timestamp]


def was_processed(session: Session, webhook_event_id: str) -> bool:
    return (
        session.scalar(select(WebhookEvent.id).where(WebhookEvent.webhook_event_id == webhook_event_id))
        is not None
    )


def claim_event(
    session: Session, webhook_event_id: str, *, event_type: str, is_redelivery: bool, now: datetime
) -> bool:
    """Insert the event's row; False when another transaction already holds or committed it.

    The claim commits together with the event's effects, so a failed event leaves
    no row and its redelivery is processed.
    """
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    stmt = (
        dialect.insert(WebhookEvent)
        .values(
            webhook_event_id=webhook_event_id,
            event_type=event_type,
            is_redelivery=is_redelivery,
            received_at=now,
        )
        .on_conflict_do_nothing(index_elements=["webhook_event_id"])
        .returning(WebhookEvent.id)
    )
    return session.execute(stmt).scalar() is not None
