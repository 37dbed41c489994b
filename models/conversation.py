"""Conversation state: one row per member in a multi-step flow, written with the answer."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, Session, mapped_column

from models.base import Base, Timestamp
from models.member import Member


class Conversation(Base):
    __tablename__ = "conversation"

    member_id: Mapped[int] = mapped_column(ForeignKey("member.id"), primary_key=True)
    flow: Mapped[str] = mapped_column(String(32))
    step: Mapped[str] = mapped_column(String(32))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    started_at: Mapped[Timestamp]
    updated_at: Mapped[Timestamp]


def get_conversation(session: Session, member: Member) -> Conversation | None:
    """The member's conversation; read only when ``member.flow`` says there is one, with the
    member's row locked (every writer holds that lock, so the row read is the latest)."""
    if member.flow is None:
        return None
    return session.get(Conversation, member.id, with_for_update=True)


def start_conversation(session: Session, member: Member, *, flow: str, step: str, now: datetime) -> Conversation:
    convo = session.get(Conversation, member.id, with_for_update=True)
    if convo is None:
        convo = Conversation(member_id=member.id, flow=flow, step=step, data={}, started_at=now, updated_at=now)
        session.add(convo)
    convo.flow = member.flow = flow
    session.flush()
    return convo


def advance(session: Session, convo: Conversation, *, step: str, now: datetime, **answers: Any) -> None:
    """Store answers and move to the next step in one write (JSON columns need a new dict)."""
    convo.data = {**(convo.data or {}), **answers}
    convo.step = step
    convo.updated_at = now
    session.flush()


def end_conversation(session: Session, convo: Conversation) -> None:
    member = session.get(Member, convo.member_id)
    if member is not None:
        member.flow = None
    session.delete(convo)
    session.flush()
