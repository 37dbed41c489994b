"""RFM and NES, computed on the database with SQL (window functions), never member by member.

RFM over a window (default 365 days) of awards: R orders members by their last visit,
F by the number of visits, M by the amount spent; each is split into quintiles (1–5,
5 best) with ``ntile(5)``. A score of 3 or more is "high". The eight classes:

    R F M   class      (R: recent, F: frequent, M: spends much)
    ↑ ↑ ↑   重要價值   best customers: keep delighting them
    ↓ ↑ ↑   重要保持   valuable but not seen lately: win them back first
    ↑ ↓ ↑   重要發展   recent big spenders who come rarely: raise frequency
    ↓ ↓ ↑   重要挽留   big spenders drifting away: retain
    ↑ ↑ ↓   一般價值   loyal, low spend: upsell
    ↓ ↑ ↓   一般保持   used to come often, low spend
    ↑ ↓ ↓   一般發展   new or occasional, recent
    ↓ ↓ ↓   一般挽留   low on everything

NES (life cycle) against the brand's purchase cycle C (default 30 days), by the last visit ever:
N  new: first visit within the last C days;  E0 active: last visit within C;
S1 last visit 1–2×C ago;  S2 2–3×C ago;  S3 over 3×C ago. Members who never bought have no NES.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, Numeric, String, and_, case, delete, func, insert, literal, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from models.base import Base, IntPK, Timestamp
from models.ledger import Award

CLASSES = {
    (True, True, True): "重要價值", (False, True, True): "重要保持", (True, False, True): "重要發展",
    (False, False, True): "重要挽留", (True, True, False): "一般價值", (False, True, False): "一般保持",
    (True, False, False): "一般發展", (False, False, False): "一般挽留",
}
NES = ("N", "E0", "S1", "S2", "S3")


class MemberStats(Base):
    __tablename__ = "member_stats"

    member_id: Mapped[int] = mapped_column(ForeignKey("member.id"), primary_key=True)
    visits: Mapped[int] = mapped_column(Integer)
    spend: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    first_visit_at: Mapped[Timestamp]
    last_visit_at: Mapped[Timestamp]
    r_score: Mapped[int | None] = mapped_column(Integer)
    f_score: Mapped[int | None] = mapped_column(Integer)
    m_score: Mapped[int | None] = mapped_column(Integer)
    rfm_class: Mapped[str | None] = mapped_column(String(8), index=True)
    nes: Mapped[str] = mapped_column(String(2), index=True)
    computed_at: Mapped[Timestamp]


class Segment(Base):
    __tablename__ = "segment"

    id: Mapped[IntPK]
    name: Mapped[str] = mapped_column(String(120), unique=True)
    rule: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[Timestamp]
    updated_at: Mapped[Timestamp]


def _class_expr(r, f, m):  # type: ignore[no-untyped-def]
    whens = [(and_(r >= 3 if hi_r else r < 3, f >= 3 if hi_f else f < 3, m >= 3 if hi_m else m < 3), literal(name))
             for (hi_r, hi_f, hi_m), name in CLASSES.items()]
    return case(*whens)


def compute_stats(session: Session, *, now: datetime, window_days: int = 365, cycle_days: int = 30) -> int:
    """Replace ``member_stats`` in one statement pair; returns the number of members scored."""
    since = now - timedelta(days=window_days)
    life = (
        select(Award.member_id.label("member_id"), func.min(Award.created_at).label("first_at"), func.max(Award.created_at).label("last_at"))
        .group_by(Award.member_id)
        .subquery("life")
    )
    window = (
        select(
            Award.member_id.label("member_id"),
            func.count().label("visits"),
            func.coalesce(func.sum(Award.amount), 0).label("spend"),
            func.max(Award.created_at).label("last_at"),
        )
        .where(Award.created_at > since)
        .group_by(Award.member_id)
        .subquery("win")
    )
    scored = (
        select(
            window.c.member_id,
            func.ntile(5).over(order_by=window.c.last_at).label("r"),
            func.ntile(5).over(order_by=window.c.visits).label("f"),
            func.ntile(5).over(order_by=window.c.spend).label("m"),
            window.c.visits,
            window.c.spend,
        ).subquery("scored")
    )
    cycle = timedelta(days=cycle_days)
    nes = case(
        (life.c.first_at > now - cycle, literal("N")),
        (life.c.last_at > now - cycle, literal("E0")),
        (life.c.last_at > now - 2 * cycle, literal("S1")),
        (life.c.last_at > now - 3 * cycle, literal("S2")),
        else_=literal("S3"),
    )
    rows = (
        select(
            life.c.member_id,
            func.coalesce(scored.c.visits, 0),
            func.coalesce(scored.c.spend, 0),
            life.c.first_at,
            life.c.last_at,
            scored.c.r,
            scored.c.f,
            scored.c.m,
            case((scored.c.r.is_(None), None), else_=_class_expr(scored.c.r, scored.c.f, scored.c.m)),
            nes,
            literal(now, type_=MemberStats.computed_at.type),
        )
        .select_from(life.outerjoin(scored, scored.c.member_id == life.c.member_id))
    )
    session.execute(delete(MemberStats))
    cols = ["member_id", "visits", "spend", "first_visit_at", "last_visit_at", "r_score", "f_score", "m_score", "rfm_class", "nes", "computed_at"]
    session.execute(insert(MemberStats).from_select(cols, rows))
    return int(session.scalar(select(func.count()).select_from(MemberStats)) or 0)


def rfm_grid(session: Session) -> dict[str, int]:
    return {cls: n for cls, n in session.execute(select(MemberStats.rfm_class, func.count()).where(MemberStats.rfm_class.is_not(None)).group_by(MemberStats.rfm_class))}


def nes_funnel(session: Session) -> dict[str, int]:
    counts = dict(session.execute(select(MemberStats.nes, func.count()).group_by(MemberStats.nes)).all())
    return {k: int(counts.get(k, 0)) for k in NES}


def stats_of(session: Session, member_id: int) -> MemberStats | None:
    return session.get(MemberStats, member_id)
