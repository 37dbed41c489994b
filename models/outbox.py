"""Outbox: pushes written in the same transaction as the change they report.

The web layer sends them after commit with the row's retry key, so a crash or a
LINE outage between commit and send loses nothing and a retry never delivers twice.
"""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from models.base import Base, IntPK, Timestamp

MAX_ATTEMPTS = 8
RICHMENU = "richmenu"
# After an erasure: take the member menu off the LINE user. The row carries the user id (the member
# row no longer does) until it is sent or gives up; then its payload is emptied (bot/jobs/outbox.py).
RICHMENU_UNLINK = "richmenu_unlink"
PENDING_KEY = "outbox_ids"  # purpose of a row that links a rich menu instead of pushing messages


class OutboxMessage(Base):
    __tablename__ = "outbox_message"

    id: Mapped[IntPK]
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id"), index=True)
    purpose: Mapped[str] = mapped_column(String(32))
    messages: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    retry_key: Mapped[str] = mapped_column(String(36), unique=True)
    status: Mapped[str] = mapped_column(String(16), index=True)  # pending | sent | failed | skipped
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[Timestamp]
    next_attempt_at: Mapped[Timestamp]  # also the not-before time of a push held by quiet hours
    sent_at: Mapped[Timestamp | None]
    # What must still be true when it is sent (models/guard.py), e.g. {"tier": "silver"}, {"coupon": 12}
    guard: Mapped[dict[str, Any] | None] = mapped_column(JSON)


def enqueue(session: Session, *, member_id: int, purpose: str, messages: list[dict[str, Any]], now: datetime,
            not_before: datetime | None = None, guard: dict[str, Any] | None = None) -> OutboxMessage:
    """Queue a push; ``not_before`` holds it (quiet hours) and ``guard`` is checked when it is sent."""
    row = OutboxMessage(
        member_id=member_id,
        purpose=purpose,
        messages=messages,
        retry_key=str(uuid.uuid4()),
        status="pending",
        attempts=0,
        created_at=now,
        next_attempt_at=max(now, not_before) if not_before else now,
        guard=guard,
    )
    session.add(row)
    session.flush()
    session.info.setdefault(PENDING_KEY, []).append(row.id)
    return row


def queued_in(session: Session) -> list[int]:
    """Rows this session enqueued (the caller sends them once its transaction commits)."""
    return list(session.info.get(PENDING_KEY, []))


def enqueue_richmenu(session: Session, *, member_id: int, richmenu_id: str, now: datetime) -> OutboxMessage:
    """Link the member to a rich menu (a tier's menu) once this transaction commits."""
    return enqueue(session, member_id=member_id, purpose=RICHMENU, messages=[{"richMenuId": richmenu_id}], now=now)


def enqueue_unlink(session: Session, *, member_id: int, line_user_id: str, now: datetime) -> OutboxMessage:
    return enqueue(session, member_id=member_id, purpose=RICHMENU_UNLINK, messages=[{"userId": line_user_id}], now=now)


def due(session: Session, *, now: datetime, limit: int = 100, ids: list[int] | None = None) -> list[OutboxMessage]:
    """Pending rows ready to send, locked so two senders never take the same row."""
    stmt = select(OutboxMessage).where(OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= now)
    if ids is not None:
        stmt = stmt.where(OutboxMessage.id.in_(ids))
    stmt = stmt.order_by(OutboxMessage.id).limit(limit).with_for_update(skip_locked=True)
    return list(session.scalars(stmt))


def mark_sent(row: OutboxMessage, *, now: datetime) -> None:
    row.status, row.sent_at, row.attempts = "sent", now, row.attempts + 1


def mark_skipped(row: OutboxMessage, reason: str) -> None:
    row.status, row.last_error = "skipped", reason[:200]


def mark_failed(row: OutboxMessage, *, now: datetime, error: str, retry_after: float | None, retryable: bool) -> None:
    row.attempts += 1
    row.last_error = error[:200]
    if not retryable or row.attempts >= MAX_ATTEMPTS:
        row.status = "failed"
        return
    backoff = retry_after if retry_after else min(3600, 2 ** row.attempts * 5)
    row.next_attempt_at = now + timedelta(seconds=backoff)
