"""The marketers' dashboard for a period, aggregated by SQL (group-bys, no member loops)."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Date, Select, case, cast, distinct, func, literal_column, select
from sqlalchemy.orm import Session

from models.ledger import Award
from models.member import PREMEMBER_PREFIX, FollowLog, Member
from models.segment import nes_funnel, rfm_grid
from models.segment_setting import get_setting, hints_of
from models.store import Store

TAIPEI = ZoneInfo("Asia/Taipei")
AGE_BANDS = ((0, 19, "<20"), (20, 29, "20–29"), (30, 39, "30–39"), (40, 49, "40–49"), (50, 59, "50–59"), (60, 200, "60+"))
VISIT_BANDS = ((0, 0, "0"), (1, 1, "1"), (2, 3, "2–3"), (4, 5, "4–5"), (6, 10**9, "6+"))


def taipei_day(session: Session, column: Any) -> ColumnElement[date]:
    """The Asia/Taipei calendar day of a UTC timestamp column, as a date, on either database."""
    if session.get_bind().dialect.name == "postgresql":
        return cast(func.timezone("Asia/Taipei", column), Date)
    return func.date(column, "+8 hours")


def _bounds(start: date, end: date) -> tuple[datetime, datetime]:
    return (datetime(start.year, start.month, start.day, tzinfo=TAIPEI),
            datetime(end.year, end.month, end.day, tzinfo=TAIPEI) + timedelta(days=1))


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def _grouped(session: Session, stmt: Select[*tuple[Any, ...]]) -> dict[Any, Any]:
    """Group by the first column's label (an expression with bound values repeated in GROUP BY
    would be a different expression to PostgreSQL)."""
    return dict(session.execute(stmt.group_by(literal_column("k"))).all())


def _blocks(session: Session, lo: datetime, hi: datetime) -> tuple[int, int]:
    """The period's block rate as two counts: members who blocked at least once in [lo, hi), and
    members who were friends at some moment of it (friends at its start: their last follow-log
    row before it is not an unfollow, or they have none and were added before it; plus those who
    followed or re-followed during it). One member, one block: 1 of 1."""
    blockers = session.scalar(select(func.count(distinct(FollowLog.member_id))).where(
        FollowLog.kind == "unfollow", FollowLog.at >= lo, FollowLog.at < hi)) or 0
    last_before = (select(FollowLog.member_id.label("member_id"), func.max(FollowLog.at).label("at"))
                   .where(FollowLog.at < lo).group_by(FollowLog.member_id).subquery())
    blocked_at_start = (select(FollowLog.member_id).join(last_before, (last_before.c.member_id == FollowLog.member_id) & (last_before.c.at == FollowLog.at))
                        .where(FollowLog.kind == "unfollow"))
    came_back = select(FollowLog.member_id).where(FollowLog.kind.in_(("follow", "refollow")), FollowLog.at >= lo, FollowLog.at < hi)
    friends = session.scalar(select(func.count()).select_from(Member).where(
        Member.created_at < hi, Member.id.not_in(blocked_at_start) | Member.id.in_(came_back))) or 0
    return int(blockers), int(friends)


def dashboard(session: Session, *, start: date, end: date, now: datetime) -> dict[str, Any]:
    lo, hi = _bounds(start, end)
    joined = Member.joined_at.is_not(None)
    total = session.scalar(select(func.count()).where(joined)) or 0
    reachable = session.scalar(select(func.count()).where(joined, Member.is_reachable.is_(True))) or 0
    # pre-members (collecting at the counter before joining in LINE) count in the total, never
    # as friends nor reachable; taken-over ones count nowhere (models.premember)
    in_line = Member.line_user_id.not_like(f"{PREMEMBER_PREFIX}%")
    premembers = session.scalar(select(func.count()).where(joined, Member.line_user_id.like(f"{PREMEMBER_PREFIX}%"))) or 0
    friends = session.scalar(select(func.count()).where(in_line)) or 0
    # an erased member is unreachable, but blocked only if they had blocked (erasure keeps unfollowed_at)
    blocked = session.scalar(select(func.count()).where(in_line, Member.is_reachable.is_(False),
                                                        Member.erased_at.is_(None) | Member.unfollowed_at.is_not(None))) or 0  # now, whenever they blocked
    new = session.scalar(select(func.count()).where(Member.joined_at >= lo, Member.joined_at < hi)) or 0
    # Ocard's 期間新可觸及會員數: members who joined in the period and can still be messaged (not blocked)
    new_reachable = session.scalar(select(func.count()).where(Member.joined_at >= lo, Member.joined_at < hi, Member.is_reachable.is_(True))) or 0
    blocks_in_period = session.scalar(select(func.count()).select_from(FollowLog).where(FollowLog.kind == "unfollow", FollowLog.at >= lo, FollowLog.at < hi)) or 0
    blockers, friends_in_period = _blocks(session, lo, hi)

    in_period = select(Award.member_id, func.count().label("n")).where(Award.created_at >= lo, Award.created_at < hi).group_by(Award.member_id).subquery()
    visitors = session.scalar(select(func.count()).select_from(in_period)) or 0
    regulars = session.scalar(select(func.count()).select_from(in_period).where(in_period.c.n >= 2)) or 0
    # 回購: a visitor whose visits up to the period's end are 2 or more (came again in the period,
    # or had come before it): one member who came 8 times today has repurchased, 100%.
    returning = session.scalar(select(func.count()).select_from(in_period).where(
        (in_period.c.n >= 2) | in_period.c.member_id.in_(select(Award.member_id).where(Award.created_at < lo)))) or 0

    genders = _grouped(session, select(func.coalesce(Member.gender, "unknown").label("k"), func.count()).where(joined))
    today = now.astimezone(TAIPEI).date()
    age_case = case(
        *[(Member.birthday_on.between(_years_before(today, hi_age + 1) + timedelta(days=1), _years_before(today, lo_age)), label) for lo_age, hi_age, label in AGE_BANDS],
        else_="unknown",
    )
    ages = _grouped(session, select(age_case.label("k"), func.count()).where(joined))
    visits_per_member = (select(Member.id, func.count(Award.id).label("n")).outerjoin(Award, (Award.member_id == Member.id) & (Award.created_at >= lo) & (Award.created_at < hi))
                         .where(joined).group_by(Member.id).subquery())
    band = case(*[(visits_per_member.c.n.between(a, b), label) for a, b, label in VISIT_BANDS], else_="6+")
    frequency = _grouped(session, select(band.label("k"), func.count()).select_from(visits_per_member))

    day_award = taipei_day(session, Award.created_at)
    visits_by_day = {str(d): (int(n), Decimal(r or 0)) for d, n, r in session.execute(
        select(day_award.label("k"), func.count(), func.sum(Award.amount)).where(Award.created_at >= lo, Award.created_at < hi).group_by(literal_column("k")))}
    day_join = taipei_day(session, Member.joined_at)
    joins_by_day = {str(d): int(n) for d, n in session.execute(
        select(day_join.label("k"), func.count()).where(Member.joined_at >= lo, Member.joined_at < hi).group_by(literal_column("k")))}
    trend: list[dict[str, Any]] = []
    day = start
    while day <= end and len(trend) < 370:
        key = day.isoformat()
        visits, revenue = visits_by_day.get(key, (0, Decimal(0)))
        trend.append({"day": key, "new_members": joins_by_day.get(key, 0), "visits": visits, "revenue": str(revenue)})
        day += timedelta(days=1)
    stores = [{"code": c, "name": n, "visits": int(v), "revenue": str(Decimal(r or 0)), "members": int(m)} for c, n, v, r, m in session.execute(
        select(Store.code, Store.name, func.count(Award.id), func.sum(Award.amount), func.count(distinct(Award.member_id)))
        .join(Award, Award.store_id == Store.id).where(Award.created_at >= lo, Award.created_at < hi)
        .group_by(Store.code, Store.name).order_by(func.count(Award.id).desc()).limit(10))]
    setting = get_setting(session)
    revenue = session.scalar(select(func.coalesce(func.sum(Award.amount), 0)).where(Award.created_at >= lo, Award.created_at < hi)) or 0
    from models.campaign_blocks import campaign_blocks  # it builds on this module's taipei_day

    return {
        "period": {"from": start.isoformat(), "to": end.isoformat()},
        "members": {"total": int(total), "reachable": int(reachable), "new": int(new), "new_reachable": int(new_reachable), "friends": int(friends),
                    "in_line": int(total) - int(premembers), "premembers": int(premembers)},
        "visitors": int(visitors),
        "regulars": int(regulars),
        "returning": int(returning),
        "returning_rate": round(returning / visitors, 4) if visitors else 0.0,
        "block_rate": round(blockers / friends_in_period, 4) if friends_in_period else 0.0,
        "blockers_in_period": int(blockers),
        "friends_in_period": int(friends_in_period),
        "blocks_in_period": int(blocks_in_period),
        "blocked_now": int(blocked),
        "revenue": str(Decimal(revenue)),
        "gender": {str(k): int(v) for k, v in genders.items()},
        "age": {label: int(ages.get(label, 0)) for *_, label in AGE_BANDS} | {"unknown": int(ages.get("unknown", 0))},
        "visit_frequency": {label: int(frequency.get(label, 0)) for *_, label in VISIT_BANDS},
        "rfm": rfm_grid(session),
        "nes": nes_funnel(session),
        "segments": {"computed_at": setting.computed_at.isoformat() if setting.computed_at else None,
                     "high": {"r": setting.r_mode, "f": setting.f_mode, "m": setting.m_mode}, "hints": hints_of(setting)},
        "trend": trend,
        "top_stores": stores,
        "campaign_blocks": campaign_blocks(session, start=start, end=end, now=now),
    }
