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
    no row and its redelivery is processed. Every webhook event runs this, so the statement
    is built once per dialect and run on the session's connection, past the ORM (a third of
    the cost of an ORM insert).
    """
    params = {"webhook_event_id": webhook_event_id, "event_type": event_type, "is_redelivery": is_redelivery, "received_at": now}
    conn = session.connection()
    return conn.execute(_CLAIM[conn.dialect.name], params).scalar() is not None


_CLAIM = {
    name: dialect.insert(WebhookEvent.__table__)
    .on_conflict_do_nothing(index_elements=["webhook_event_id"])
    .returning(WebhookEvent.__table__.c.id)
    for name, dialect in (("postgresql", postgresql), ("sqlite", sqlite))
}
