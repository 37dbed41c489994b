"""RFM and NES, computed on the database with SQL (window functions), never member by member.

RFM over a window (default 365 days) of awards: R orders members by their last visit,
F by the number of visits, M by the amount spent; each is scored 1–5 (5 best) as
ceil(5 × the share of the window's members at or below the member's value): ties share a score, a
member alone scores 5, and a single visit scores F at most 2. A score of 3 or more is "high". The eight classes:

    R F M   class      (R: recent, F: frequent, M: spends much)
    ↑ ↑ ↑   重要價值   best customers: keep delighting them
    ↓ ↑ ↑   重要保持   valuable but not seen lately: win them back first
    ↑ ↓ ↑   重要發展   recent big spenders who come rarely: raise frequency
    ↓ ↓ ↑   重要挽留   big spenders drifting away: retain
    ↑ ↑ ↓   一般價值   loyal, low spend: upsell
    ↓ ↑ ↓   一般保持   used to come often, low spend
    ↑ ↓ ↓   一般發展   new or occasional, recent
    ↓ ↓ ↓   一般挽留   low on everything

NES (life cycle) against the brand's purchase cycle C, by the last visit ever. C is the median gap
between a member's consecutive purchases across the brand once there are at least 30 such gaps,
else 30 days; ``PURCHASE_CYCLE_DAYS`` overrides it (``purchase_cycle``).
N  new: first visit within the last C days;  E0 active: last visit within C;
S1 last visit 1–2×C ago;  S2 2–3×C ago;  S3 over 3×C ago. Members who never bought have no NES.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from statistics import median
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, Numeric, String, and_, case, delete, func, insert, literal, select, text
from sqlalchemy.orm import Mapped, Session, mapped_column

from models.base import BigInt, Base, IntPK, Timestamp
from models.ledger import Award

CLASSES = {
    (True, True, True): "重要價值", (False, True, True): "重要保持", (True, False, True): "重要發展",
    (False, False, True): "重要挽留", (True, True, False): "一般價值", (False, True, False): "一般保持",
    (True, False, False): "一般發展", (False, False, False): "一般挽留",
}
NES = ("N", "E0", "S1", "S2", "S3")

MIN_GAPS = 30  # fewer gaps between purchases than this: the default cycle
SAMPLE_AWARDS = 200_000  # above this many awards (PostgreSQL's estimate), the cycle is the median over a sample of members
DEFAULT_CYCLE_DAYS = 30
RECOMPUTE_LOCK = 0x5E6_0001  # pg_advisory_xact_lock key for recompute_stats


class MemberStats(Base):
    __tablename__ = "member_stats"

    member_id: Mapped[int] = mapped_column(ForeignKey("member.id"), primary_key=True)
    visits: Mapped[int] = mapped_column(BigInt)
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


def compute_stats(session: Session, *, now: datetime, window_days: int = 365, cycle_days: int | None = None) -> int:
    """Replace ``member_stats`` in one statement pair; returns the number of members scored.
    ``cycle_days`` None: the purchase cycle derived from the data (``purchase_cycle``).

    One pass over the awards gives each member's whole history (first and last visit, for NES)
    and, with ``FILTER``, the window's visits and spend (for RFM; the window is the recent end,
    so its last visit is the last visit). Quintiles are ``ntile(5)`` over the members who bought
    in the window, ties taken in member order so that a recompute of the same data gives the
    same scores (ties split by an arbitrary order made classes flicker between recomputes).
    """
    since = now - timedelta(days=window_days)
    recent = Award.created_at > since
    per_member = (
        select(
            Award.member_id.label("member_id"),
            func.min(Award.created_at).label("first_at"),
            func.max(Award.created_at).label("last_at"),
            func.count().filter(recent).label("visits"),
            func.coalesce(func.sum(Award.amount).filter(recent), 0).label("spend"),
        )
        .group_by(Award.member_id)
        .subquery("per_member")
    )
    in_window = per_member.c.visits > 0

    def quintile(column):  # type: ignore[no-untyped-def]
        """ceil(5 · share of the window's members whose value is at most this one's), in integers:
        ties share a score and the best of a population scores 5 (one very active member alone is
        not 挽留, as ``ntile`` over one row made them)."""
        at_most = func.count().over(partition_by=in_window, order_by=column)  # RANGE … CURRENT ROW: peers included
        n = func.count().over(partition_by=in_window)
        return case((in_window, (5 * at_most + n - 1).self_group().op("/", return_type=Integer)(n)))

    scored = select(
        per_member,
        quintile(per_member.c.last_at).label("r"),
        # one visit is never "frequent", whatever the others do (all came once: none is a regular)
        case(((per_member.c.visits < 2) & (quintile(per_member.c.visits) > 2), 2), else_=quintile(per_member.c.visits)).label("f"),
        quintile(per_member.c.spend).label("m"),
    ).subquery("scored")
    cycle = timedelta(days=cycle_days or purchase_cycle(session).days)
    nes = case(
        (scored.c.first_at > now - cycle, literal("N")),
        (scored.c.last_at > now - cycle, literal("E0")),
        (scored.c.last_at > now - 2 * cycle, literal("S1")),
        (scored.c.last_at > now - 3 * cycle, literal("S2")),
        else_=literal("S3"),
    )
    rows = select(
        scored.c.member_id,
        scored.c.visits,
        scored.c.spend,
        scored.c.first_at,
        scored.c.last_at,
        scored.c.r,
        scored.c.f,
        scored.c.m,
        case((scored.c.r.is_(None), None), else_=_class_expr(scored.c.r, scored.c.f, scored.c.m)),
        nes,
        literal(now, type_=MemberStats.computed_at.type),
    )
    if session.get_bind().dialect.name == "postgresql":
        # Two recomputes at once (the API and the journeys scan) take turns rather than collide on
        # member_stats' key: the second waits here, then replaces the first's rows. (SQLite's
        # BEGIN IMMEDIATE already serialises them.)
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": RECOMPUTE_LOCK})
        # INSERT … SELECT runs without parallel workers: give its hash aggregate and sorts the
        # memory to stay off disk, and skip JIT compilation, which costs more than it saves here.
        session.execute(text("SET LOCAL work_mem = '64MB'"))
        session.execute(text("SET LOCAL jit = off"))
    session.execute(delete(MemberStats))
    cols = ["member_id", "visits", "spend", "first_visit_at", "last_visit_at", "r_score", "f_score", "m_score", "rfm_class", "nes", "computed_at"]
    session.execute(insert(MemberStats).from_select(cols, rows))
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("ANALYZE member_stats"))  # the table was replaced: segment queries plan on fresh numbers
    return int(session.scalar(select(func.count()).select_from(MemberStats)) or 0)


@dataclass(frozen=True)
class PurchaseCycle:
    days: int            # the cycle NES uses
    source: str          # "override" (PURCHASE_CYCLE_DAYS) | "data" (the median gap) | "default"
    gaps: int            # gaps between consecutive purchases of one member, across the brand
    median_days: float | None  # their median, whatever the source
    sampled: bool = False  # the gaps of a sample of members (a large ledger)

    def json(self) -> dict[str, Any]:
        return {"days": self.days, "source": self.source, "gaps": self.gaps,
                "median_days": round(self.median_days, 1) if self.median_days is not None else None, "min_gaps": MIN_GAPS, "sampled": self.sampled}


def purchase_cycle(session: Session, *, override: int | None = None) -> PurchaseCycle:
    """The brand's purchase cycle: ``override`` if given, else the median gap (whole days, at least 1)
    between consecutive purchases of each member when there are ``MIN_GAPS`` of them, else 30 days.
    On a ledger over ``SAMPLE_AWARDS`` awards the gaps are those of every k-th member (``gaps`` counts
    the sample): 2M awards take ~1 s instead of ~10–20 s, and the median moves by hours, not days."""
    sampled = False
    prev = func.lag(Award.created_at, type_=Award.created_at.type).over(partition_by=Award.member_id, order_by=(Award.created_at, Award.id))
    pairs = select(Award.created_at.label("at"), prev.label("prev"))
    postgres = session.get_bind().dialect.name == "postgresql"
    if postgres:  # a large ledger: the gaps of every k-th member (whole histories, so the same every time) estimate the median
        awards = session.scalar(text("SELECT reltuples::bigint FROM pg_class WHERE oid = 'award'::regclass")) or 0
        sampled = awards > SAMPLE_AWARDS
        if sampled:
            pairs = pairs.where(Award.member_id % (awards // SAMPLE_AWARDS + 1) == 0)
    pairs = pairs.subquery("pairs")
    if postgres:
        seconds = func.extract("epoch", pairs.c.at - pairs.c.prev)
        gaps, mid = session.execute(select(func.count(seconds), func.percentile_cont(0.5).within_group(seconds))
                                    .where(pairs.c.prev.is_not(None))).one()
        mid_days = float(mid) / 86400 if mid is not None else None
    else:  # SQLite has no percentile: the embedded default is small, take the median here
        values = [(at - before).total_seconds() for at, before in session.execute(
            select(pairs.c.at, pairs.c.prev).where(pairs.c.prev.is_not(None)))]
        gaps, mid_days = len(values), (median(values) / 86400 if values else None)
    gaps = int(gaps or 0)
    if override:
        return PurchaseCycle(int(override), "override", gaps, mid_days, sampled)
    if gaps >= MIN_GAPS and mid_days is not None:
        return PurchaseCycle(max(1, int(mid_days + 0.5)), "data", gaps, mid_days, sampled)
    return PurchaseCycle(DEFAULT_CYCLE_DAYS, "default", gaps, mid_days, sampled)


def rfm_grid(session: Session) -> dict[str, int]:
    return {cls: n for cls, n in session.execute(select(MemberStats.rfm_class, func.count()).where(MemberStats.rfm_class.is_not(None)).group_by(MemberStats.rfm_class))}


def nes_funnel(session: Session) -> dict[str, int]:
    counts = dict(session.execute(select(MemberStats.nes, func.count()).group_by(MemberStats.nes)).all())
    return {k: int(counts.get(k, 0)) for k in NES}


def stats_of(session: Session, member_id: int) -> MemberStats | None:
    return session.get(MemberStats, member_id)
