"""RFM and NES, computed on the database with SQL (window functions), never member by member.

RFM over a window (default 365 days) of awards: R orders members by the days since their last
visit, F by the number of visits, M by the amount spent; each is split into tie-aware quintiles
(1–5, 5 best: members with equal values get equal scores; the best value scores 5, so a member
alone is not 挽留; a single visit scores F at most 2). Whether a dimension is "high" is the
brand's choice (models/segment_setting.py: score ≥ 3, above the average, or a fixed threshold).
Members who bought, but not in the window, score 1 on each and are a class too. The eight classes:

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
from datetime import date, datetime, timedelta
from statistics import median
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import JSON, ColumnElement, Date, ForeignKey, Integer, Numeric, String, and_, case, cast, delete, func, insert, literal, select, text
from sqlalchemy.orm import Mapped, Session, mapped_column

from models.base import BigInt, Base, IntPK, Timestamp
from models.ledger import Award
from models.segment_setting import get_setting, mark_computed

CLASSES = {
    (True, True, True): "重要價值", (False, True, True): "重要保持", (True, False, True): "重要發展",
    (False, False, True): "重要挽留", (True, True, False): "一般價值", (False, True, False): "一般保持",
    (True, False, False): "一般發展", (False, False, False): "一般挽留",
}
NES = ("N", "E0", "S1", "S2", "S3")

MIN_GAPS = 30  # fewer gaps between purchases than this: the default cycle
SAMPLE_AWARDS = 200_000  # above this many awards (PostgreSQL's estimate), the cycle is the median over a sample of members
DEFAULT_CYCLE_DAYS = 30
TAIPEI = ZoneInfo("Asia/Taipei")
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


def _recency_days(session: Session, last_at: Any, today: date) -> ColumnElement[int]:
    """Whole Asia/Taipei calendar days from the last visit to today (0: today): R compares days,
    so two members who last came on the same day have the same recency."""
    if session.get_bind().dialect.name == "postgresql":
        day = cast(func.timezone("Asia/Taipei", last_at), Date)
        return literal(today, Date).op("-", return_type=Integer)(day)
    return cast(func.julianday(today.isoformat()) - func.julianday(last_at, "+8 hours", "start of day"), Integer)


def _score(value: Any, in_window: Any) -> ColumnElement[int]:
    """Tie-aware quintile 1–5 among the members who bought in the window: 1 + 5·(rank − 1) // n with
    RANK() (equal values share the lowest rank, so equal values get equal scores, whatever the
    members' numbers or the order rows come in); the best value scores 5 (one very active member
    alone is not 挽留, as a rank over one row made them); members outside the window score 1."""
    rank = func.rank().over(partition_by=in_window, order_by=value)
    n = func.count().over(partition_by=in_window)
    at_most = func.count().over(partition_by=in_window, order_by=value)  # RANGE … CURRENT ROW: peers included
    best = at_most == n  # the best value of the window (a member alone, or everyone tied): 5, not 1
    return case((~in_window, literal(1)), (best, literal(5)), else_=(5 * (rank - 1)).op("/", return_type=Integer)(n) + 1)


def compute_stats(session: Session, *, now: datetime, window_days: int = 365, cycle_days: int | None = None) -> int:
    """Replace ``member_stats`` in one statement pair; returns the number of members scored.
    ``cycle_days`` None: the purchase cycle derived from the data (``purchase_cycle``).

    One pass over the awards gives each member's whole history (first and last visit, for NES)
    and, with ``FILTER``, the window's visits and spend (for RFM; the window is the recent end,
    so its last visit is the last visit). Scores are tie-aware quintiles (``_score``) and "high"
    per dimension is the brand's choice (models/segment_setting.py): score ≥ 3, better than the
    window's average, or a fixed threshold. A member whose purchases are all older than the window
    scores R=F=M=1 and is a class too (一般挽留: low on everything in the window).
    """
    setting = get_setting(session)
    since = now - timedelta(days=window_days)
    today = now.astimezone(TAIPEI).date()
    recent = Award.created_at > since
    per_member = (
        select(
            Award.member_id.label("member_id"),
            func.min(Award.created_at).label("first_at"),
            func.max(Award.created_at).label("last_at"),
            _recency_days(session, func.max(Award.created_at), today).label("recency"),
            func.count().filter(recent).label("visits"),
            func.coalesce(func.sum(Award.amount).filter(recent), 0).label("spend"),
        )
        .group_by(Award.member_id)
        .subquery("per_member")
    )
    pm = per_member.c
    in_window = pm.visits > 0
    averages = []
    if "average" in (setting.r_mode, setting.f_mode, setting.m_mode):
        averages = [func.avg(col).over(partition_by=in_window).label(f"avg_{name}") for name, col in (("r", pm.recency), ("f", pm.visits), ("m", pm.spend))]
    scored = select(
        per_member,
        (in_window).label("in_window"),
        _score(pm.recency.desc(), in_window).label("r"),  # fewest days since the last visit: highest R
        # one visit is never "frequent", whatever the others do (all came once: none is a regular)
        case(((pm.visits < 2) & (_score(pm.visits, in_window) > 2), 2), else_=_score(pm.visits, in_window)).label("f"),
        _score(pm.spend, in_window).label("m"),
        *averages,
    ).subquery("scored")
    c = scored.c
    high = {
        "r": {"quintile": lambda: c.r >= 3, "average": lambda: c.recency < c.avg_r, "threshold": lambda: c.recency <= setting.r_days},
        "f": {"quintile": lambda: c.f >= 3, "average": lambda: c.visits > c.avg_f, "threshold": lambda: c.visits >= setting.f_visits},
        "m": {"quintile": lambda: c.m >= 3, "average": lambda: c.spend > c.avg_m, "threshold": lambda: c.spend >= setting.m_amount},
    }
    hi_r = and_(c.in_window, high["r"][setting.r_mode]())  # outside the window R is low, whatever the rule
    hi_f, hi_m = high["f"][setting.f_mode](), high["m"][setting.m_mode]()
    bits = case((hi_r, 4), else_=0) + case((hi_f, 2), else_=0) + case((hi_m, 1), else_=0)  # each condition evaluated once
    cls = case({4 * r + 2 * f + m: name for (r, f, m), name in CLASSES.items()}, value=bits)
    cycle = timedelta(days=cycle_days or purchase_cycle(session).days)
    nes = case(
        (c.first_at > now - cycle, literal("N")),
        (c.last_at > now - cycle, literal("E0")),
        (c.last_at > now - 2 * cycle, literal("S1")),
        (c.last_at > now - 3 * cycle, literal("S2")),
        else_=literal("S3"),
    )
    rows = select(c.member_id, c.visits, c.spend, c.first_at, c.last_at, c.r, c.f, c.m, cls, nes,
                  literal(now, type_=MemberStats.computed_at.type))
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
    scored_count = int(session.scalar(select(func.count()).select_from(MemberStats)) or 0)
    mark_computed(session, members_scored=scored_count, now=now)
    return scored_count


def computed_at(session: Session) -> datetime | None:
    """When the segments were last recomputed (None: never)."""
    return get_setting(session).computed_at


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
