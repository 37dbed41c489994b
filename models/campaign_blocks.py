"""Blocks caused by campaigns over time, for the dashboard: each campaign's block rate by the day it
was sent, and the period's unfollows per week with the share campaigns caused. "Caused" is the
campaign report's own rule (models.campaign_report.received and blocked_after: an unfollow within
24 hours after the member's campaign message); each series is one grouped statement, whatever the
number of campaigns (bench/dashboard_blocks.py measures them)."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Date, and_, case, cast, func, literal_column, select
from sqlalchemy.orm import Session

from models.campaign import Campaign
from models.campaign_report import BLOCK_WINDOW, blocked_after, received, sent_per_batch, unfollowed
from models.dashboard import TAIPEI, taipei_day
from models.member import FollowLog


def week_of(session: Session, column):
    """The Monday (Asia/Taipei) of a UTC timestamp column's week, as a date, on either database."""
    if session.get_bind().dialect.name == "postgresql":
        return cast(func.date_trunc("week", func.timezone("Asia/Taipei", column)), Date)
    return func.date(column, "+8 hours", "weekday 0", "-6 days")  # the coming Sunday (or today), back to its Monday


def _day(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _at(value: Any) -> datetime:
    at = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def by_send_day(session: Session, *, lo: datetime, hi: datetime, now: datetime) -> list[dict[str, Any]]:
    """Campaigns that sent in [lo, hi): per Taipei send day, the members sent to, those who blocked
    within 24 hours, the rate, and whether the 24 hours are over for everyone sent that day. One
    statement: the members sent (counted per batch) beside the blocks, which are read from the
    period's unfollowers (a few) rather than from every recipient (many)."""
    batches = sent_per_batch(sent_from=lo, sent_to=hi)
    sent = (select(batches.c.campaign_id, taipei_day(session, batches.c.sent_at).label("k"),
                   func.sum(batches.c.members).label("sent"), func.max(batches.c.sent_at).label("last_sent_at"))
            .group_by(batches.c.campaign_id, literal_column("k")).subquery())
    got = received(sent_from=lo, sent_to=hi, members=unfollowed(since=lo, before=hi + BLOCK_WINDOW))
    blocked = (select(got.c.campaign_id, taipei_day(session, got.c.sent_at).label("k"), func.count(func.distinct(FollowLog.member_id)).label("blocked"))
               .select_from(got).join(FollowLog, blocked_after(session, got))
               .group_by(got.c.campaign_id, literal_column("k")).subquery())
    rows = session.execute(
        select(sent.c.campaign_id, Campaign.name, sent.c.k, sent.c.sent, func.coalesce(blocked.c.blocked, 0), sent.c.last_sent_at)
        .join(Campaign, Campaign.id == sent.c.campaign_id)
        .outerjoin(blocked, and_(blocked.c.campaign_id == sent.c.campaign_id, blocked.c.k == sent.c.k))
        .order_by(sent.c.campaign_id, sent.c.k)
    ).all()
    campaigns: dict[int, dict[str, Any]] = {}
    for campaign_id, name, sent_on, members, blocks, last_sent in rows:
        entry = campaigns.setdefault(campaign_id, {"id": campaign_id, "name": name, "sent": 0, "blocked": 0, "days": []})
        entry["sent"] += int(members)
        entry["blocked"] += int(blocks)  # a member is one campaign recipient: days never share a member
        entry["days"].append({"day": _day(sent_on).isoformat(), "sent": int(members), "blocked": int(blocks),
                              "rate": round(int(blocks) / int(members), 4), "settled": _at(last_sent) + BLOCK_WINDOW <= now})
    for entry in campaigns.values():
        entry["rate"] = round(entry["blocked"] / entry["sent"], 4) if entry["sent"] else None
    return list(campaigns.values())


def by_week(session: Session, *, start: date, end: date, lo: datetime, hi: datetime) -> list[dict[str, Any]]:
    """Unfollows in [lo, hi) per Monday-to-Sunday week (the first and last clipped to the period),
    and how many of them came within 24 hours after a campaign message (of any campaign, one sent
    before the period included); weeks without unfollows are there with zeros."""
    got = received(sent_from=lo - BLOCK_WINDOW, sent_to=hi, members=unfollowed(since=lo, before=hi))
    week = week_of(session, FollowLog.at).label("k")
    counted = {_day(k): (int(n), int(a)) for k, n, a in session.execute(
        select(week, func.count(func.distinct(FollowLog.id)),
               func.count(func.distinct(case((got.c.member_id.is_not(None), FollowLog.id)))))
        .select_from(FollowLog).outerjoin(got, blocked_after(session, got))
        .where(FollowLog.kind == "unfollow", FollowLog.at >= lo, FollowLog.at < hi)
        .group_by(literal_column("k")))}
    weeks: list[dict[str, Any]] = []
    monday = start - timedelta(days=start.weekday())
    while monday <= end and len(weeks) < 60:
        unfollows, attributed = counted.get(monday, (0, 0))
        weeks.append({"week": monday.isoformat(), "from": max(monday, start).isoformat(), "to": min(monday + timedelta(days=6), end).isoformat(),
                      "unfollows": unfollows, "attributed": attributed, "share": round(attributed / unfollows, 4) if unfollows else None})
        monday += timedelta(days=7)
    return weeks


def campaign_blocks(session: Session, *, start: date, end: date, now: datetime) -> dict[str, Any]:
    lo = datetime(start.year, start.month, start.day, tzinfo=TAIPEI)
    hi = datetime(end.year, end.month, end.day, tzinfo=TAIPEI) + timedelta(days=1)
    return {"window_hours": int(BLOCK_WINDOW.total_seconds() // 3600),
            "campaigns": by_send_day(session, lo=lo, hi=hi, now=now),
            "weeks": by_week(session, start=start, end=end, lo=lo, hi=hi)}
