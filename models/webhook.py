"""Processed webhook events: LINE redelivers, so each webhookEventId is handled once."""
from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import Boolean, String, Table, bindparam, literal, select, true
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, aliased, mapped_column

from models.base import Base, IntPK, Timestamp
from models.card import prefetch, summary_columns
from models.member import Member, get_by_line_user, mark_locked


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


def claim_event_for_member(
    session: Session, webhook_event_id: str, *, line_user_id: str, event_type: str, is_redelivery: bool, now: datetime,
    with_card: bool = False,
) -> tuple[bool, Member | None]:
    """``claim_event``, then the sender's member row locked as ``models.member.get_by_line_user``
    does (None for a user not seen before): what every message and postback starts with.

    On PostgreSQL both are one statement: the claim is a data-modifying CTE beside a locking
    LATERAL subquery. Round trips were the largest cost of answering an event, more than the
    Python around them (each one also hands the CPU to the database and back). The member's row
    is locked inside the subquery, so when it waits for another event's transaction it returns
    the row as that transaction left it (READ COMMITTED re-reads a locked row); nothing else is
    read from other tables here, so nothing can be stale. SQLite runs the two statements.

    ``with_card``: the event asks for the member card; its figures come in the same statement
    (``models.card.prefetch`` says why they are for display only).
    """
    params = {"webhook_event_id": webhook_event_id, "event_type": event_type, "is_redelivery": is_redelivery,
              "received_at": now, "line_user_id": line_user_id}
    if session.get_bind().dialect.name != "postgresql":
        if not claim_event(session, webhook_event_id, event_type=event_type, is_redelivery=is_redelivery, now=now):
            return False, None
        return True, get_by_line_user(session, line_user_id, lock=True)
    row = session.execute(_CLAIM_AND_LOCK[with_card], params).one()
    claimed, member = row[0], row[1]
    if claimed is None:
        return False, None
    if member is not None:
        mark_locked(session, member.id)
        if with_card:
            prefetch(session, member, row[2:])
    return True, member


def _claim_and_lock(with_card: bool) -> Any:
    table = cast(Table, WebhookEvent.__table__)
    values: dict[str, Any] = {name: bindparam(name) for name in ("webhook_event_id", "event_type", "is_redelivery", "received_at")}
    claim = (
        postgresql.insert(table).values(**values)
        .on_conflict_do_nothing(index_elements=["webhook_event_id"])
        .returning(table.c.id)
        .cte("claim")
    )
    locked = (
        select(Member).where(Member.line_user_id == bindparam("line_user_id"))
        .with_for_update(key_share=True)  # FOR NO KEY UPDATE, as models.ledger.lock_member
        .subquery("m").lateral()
    )
    member = aliased(Member, locked)
    one = select(literal(1).label("one")).subquery("one")
    card = summary_columns(member.id, member.tier_id) if with_card else []
    return select(select(claim.c.id).scalar_subquery().label("claimed"), member, *card).select_from(one).outerjoin(member, true())


_CLAIM_AND_LOCK = {with_card: _claim_and_lock(with_card) for with_card in (False, True)}
