"""What a campaign earned: delivery counts, coupons, revenue, and uplift against the holdout."""
from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Subquery, and_, func, literal_column, or_, select
from sqlalchemy.orm import Session

from models.campaign import Campaign, CampaignBatch, CampaignRecipient, recipients_with_outcome
from models.campaign_link import click_report
from models.coupon import Coupon
from models.insight import describe
from models.ledger import Award
from models.member import FollowLog

BLOCK_WINDOW = timedelta(hours=24)  # an unfollow this soon after a member's campaign message is the campaign's


def _group_outcome(session: Session, campaign: Campaign, *, group: str, statuses: tuple[str, ...], days: int) -> dict[str, Any]:
    start = campaign.started_at or campaign.created_at
    end = start + timedelta(days=days)
    recipient = recipients_with_outcome(campaign.id)
    members = select(recipient.c.member_id).where(recipient.c.group == group, recipient.c.status.in_(statuses))
    size = int(session.scalar(select(func.count()).select_from(members.subquery())) or 0)
    buyers, revenue = session.execute(
        select(func.count(func.distinct(Award.member_id)), func.coalesce(func.sum(Award.amount), 0))
        .where(Award.member_id.in_(members), Award.created_at > start, Award.created_at <= end)
    ).one()
    rate = Decimal(buyers) / size if size else Decimal(0)
    return {"members": size, "buyers": int(buyers), "conversion": float(round(rate, 4)), "revenue": str(Decimal(revenue)),
            "revenue_per_member": str(round(Decimal(revenue) / size, 2)) if size else "0"}


def _accepted(status, batch_status) -> ColumnElement[bool]:
    """A recipient's message was accepted by LINE: its batch was (or, written by earlier versions, it was)."""
    return or_(and_(status == "batched", batch_status == "sent"), status == "sent")


def _live(sent_from: datetime | None, sent_to: datetime | None):
    """Campaigns that can have sent in [sent_from, sent_to): a batch is sent between its campaign's start and finish."""
    live = select(Campaign.id).where(Campaign.started_at.is_not(None))
    if sent_from is not None:
        live = live.where(or_(Campaign.finished_at.is_(None), Campaign.finished_at >= sent_from))
    if sent_to is not None:
        live = live.where(Campaign.started_at < sent_to)
    return live


def received(*, campaign_id: int | None = None, sent_from: datetime | None = None, sent_to: datetime | None = None,
             members: Any = None) -> Subquery:
    """(campaign_id, member_id, sent_at): target members whose campaign message LINE accepted, and
    when (their batch's time), for one campaign or every campaign, optionally sent in [sent_from,
    sent_to) and only of ``members`` (a select of member ids: who unfollowed, say)."""
    sent_at = func.coalesce(CampaignBatch.sent_at, CampaignRecipient.sent_at)
    stmt = (
        select(CampaignRecipient.campaign_id, CampaignRecipient.member_id, sent_at.label("sent_at"))
        .outerjoin(CampaignBatch, and_(CampaignBatch.campaign_id == CampaignRecipient.campaign_id,
                                       CampaignBatch.batch_no == CampaignRecipient.batch_no))
        .where(CampaignRecipient.group == "target", _accepted(CampaignRecipient.status, CampaignBatch.status))
    )
    if campaign_id is not None:
        stmt = stmt.where(CampaignRecipient.campaign_id == campaign_id)
    if members is not None:
        stmt = stmt.where(CampaignRecipient.member_id.in_(members))
    if sent_from is not None or sent_to is not None:
        stmt = stmt.where(CampaignRecipient.campaign_id.in_(_live(sent_from, sent_to)))
        if sent_from is not None:
            stmt = stmt.where(sent_at >= sent_from)
        if sent_to is not None:
            stmt = stmt.where(sent_at < sent_to)
    return stmt.subquery()


def sent_per_batch(*, sent_from: datetime, sent_to: datetime) -> Subquery:
    """(campaign_id, sent_at, members): ``received`` counted per batch (and per send of recipients
    written by earlier versions), for campaigns that sent in [sent_from, sent_to): the recipients are
    counted before their batch is joined, so a campaign to a million members is a million index rows
    counted, not a million joins."""
    counted = (
        select(CampaignRecipient.campaign_id, CampaignRecipient.batch_no, CampaignRecipient.status,
               CampaignRecipient.sent_at, func.count().label("members"))
        .where(CampaignRecipient.group == "target", CampaignRecipient.status.in_(("batched", "sent")),
               CampaignRecipient.campaign_id.in_(_live(sent_from, sent_to)))
        .group_by(CampaignRecipient.campaign_id, CampaignRecipient.batch_no, CampaignRecipient.status, CampaignRecipient.sent_at)
        .subquery()
    )
    sent_at = func.coalesce(CampaignBatch.sent_at, counted.c.sent_at)
    return (
        select(counted.c.campaign_id, sent_at.label("sent_at"), counted.c.members)
        .select_from(counted)
        .outerjoin(CampaignBatch, and_(CampaignBatch.campaign_id == counted.c.campaign_id, CampaignBatch.batch_no == counted.c.batch_no))
        .where(_accepted(counted.c.status, CampaignBatch.status), sent_at >= sent_from, sent_at < sent_to)
        .subquery()
    )


def unfollowed(*, since: datetime | None = None, before: datetime | None = None):
    """The members who unfollowed in [since, before): what ``received(members=…)`` narrows to."""
    stmt = select(FollowLog.member_id).where(FollowLog.kind == "unfollow")
    if since is not None:
        stmt = stmt.where(FollowLog.at >= since)
    if before is not None:
        stmt = stmt.where(FollowLog.at < before)
    return stmt


def blocked_after(session: Session, got: Subquery) -> ColumnElement[bool]:
    """The join condition of a FollowLog row to a ``received`` row: the member unfollowed within
    BLOCK_WINDOW after the message. The one definition of a block caused by a campaign (the
    report's block rate, the dashboard's blocks per campaign and per week)."""
    if session.get_bind().dialect.name == "sqlite":  # no interval arithmetic on a column: compare Julian days
        soon = func.julianday(FollowLog.at) - func.julianday(got.c.sent_at) <= BLOCK_WINDOW.total_seconds() / 86400
    else:
        soon = FollowLog.at <= got.c.sent_at + literal_column(f"INTERVAL '{int(BLOCK_WINDOW.total_seconds())} seconds'")
    return and_(FollowLog.member_id == got.c.member_id, FollowLog.kind == "unfollow", FollowLog.at >= got.c.sent_at, soon)


def blocks(session: Session, campaign: Campaign) -> int:
    """Members who blocked the account within 24 hours after their batch of this campaign was sent."""
    got = received(campaign_id=campaign.id, members=unfollowed(since=campaign.started_at) if campaign.started_at else None)
    return int(session.scalar(
        select(func.count(func.distinct(FollowLog.member_id))).select_from(got).join(FollowLog, blocked_after(session, got))
    ) or 0)


def report(session: Session, campaign: Campaign, *, days: int = 14) -> dict[str, Any]:
    recipient = recipients_with_outcome(campaign.id)
    counts: dict[str, int] = dict(session.execute(select(recipient.c.status, func.count()).group_by(recipient.c.status)).all())
    skipped: dict[str | None, int] = dict(session.execute(
        select(recipient.c.skip_reason, func.count()).where(recipient.c.status == "skipped").group_by(recipient.c.skip_reason)
    ).all())
    start = campaign.started_at or campaign.created_at
    occasion = Coupon.occasion == f"campaign:{campaign.id}"
    claimed = int(session.scalar(select(func.count()).select_from(Coupon).where(occasion)) or 0)
    redeemed, coupon_revenue = session.execute(
        select(func.count(), func.coalesce(func.sum(Coupon.redeemed_amount), 0))
        .where(occasion, Coupon.status == "redeemed", Coupon.redeemed_at <= start + timedelta(days=days))
    ).one()
    target = _group_outcome(session, campaign, group="target", statuses=("sent",), days=days)
    holdout = _group_outcome(session, campaign, group="holdout", statuses=("held",), days=days)
    targeted = sum(v for k, v in counts.items() if k != "held")
    sent = int(counts.get("sent", 0))
    blocked = blocks(session, campaign)
    stats_at = campaign.stats_computed_at
    return {
        "status": campaign.status,
        # The member stats (RFM, NES, rule tags) its rule selected on, and how old they were when it started.
        "segments": {"computed_at": stats_at.isoformat() if stats_at else None,
                     "age_seconds": max(0, int((start - stats_at).total_seconds())) if stats_at else None},
        "targeted": targeted,
        "held_out": int(counts.get("held", 0)),
        "sent": int(counts.get("sent", 0)),
        "failed": int(counts.get("failed", 0)),
        "skipped": {str(k): int(v) for k, v in skipped.items()},
        "pending": int(counts.get("pending", 0) + counts.get("batched", 0)),
        "line": describe(session, campaign, sent=sent),
        "blocks": {"members": blocked, "rate": round(blocked / sent, 4) if sent else None, "window_hours": 24},
        # Per member, through the bot's /r/<token> (campaigns with web links are sent one push per member)
        "clicks": click_report(session, campaign.id, sent=sent, start=start, days=days, coupon_occasion=f"campaign:{campaign.id}"),
        "coupons": {"claimed": claimed, "redeemed": int(redeemed), "revenue": str(Decimal(coupon_revenue))},
        "window_days": days,
        "target": target,
        "holdout": holdout,
        "uplift": {
            "conversion_points": round((target["conversion"] - holdout["conversion"]) * 100, 2) if holdout["members"] else None,
            "revenue_per_member": str(Decimal(target["revenue_per_member"]) - Decimal(holdout["revenue_per_member"])) if holdout["members"] else None,
        },
    }


def funnel(got: dict[str, Any]) -> list[tuple[str, str, int | None, str]]:
    """The report as a funnel (step, group, members, note) for the CSV: targeted → sent → opened →
    clicked (LINE's aggregated counts, empty when LINE shows none) → clicked per member, redeemed and
    bought after a click, and each link's clickers (only for a campaign sent with tracked links) →
    redeemed → bought, then the holdout's members and buyers; blocks beside them."""
    line, notes = got["line"], {"below_minimum": "LINE shows no count under 20 users", "not_fetched": "LINE's statistics not fetched yet",
                                "error": "LINE's statistics could not be fetched"}
    why = notes.get(line.get("note") or "", notes["below_minimum"])  # fetched, but this count was withheld

    def by_line(count: int | None) -> str:
        return why if count is None else "LINE, unique users"

    clicks = got["clicks"]
    tracked: list[tuple[str, str, int | None, str]] = []
    if clicks["tracked"]:  # who clicked, per member, through the bot's redirect; then per link
        after = clicks["after_click"]
        tracked = [("clicked_tracked", "target", clicks["unique_clickers"], "the bot's redirect, unique members"),
                   ("redeemed_after_click", "target", after["coupons_redeemed"], f"within {got['window_days']} days, after the first click"),
                   ("bought_after_click", "target", after["buyers"], f"within {got['window_days']} days, after the first click"),
                   *((f"link_{link['position'] + 1}", "target", link["unique_clickers"], link["url"]) for link in clicks["links"])]
    return [
        ("targeted", "target", got["targeted"], ""),
        ("sent", "target", got["sent"], ""),
        ("opened", "target", line["unique_impressions"], by_line(line["unique_impressions"])),
        ("clicked", "target", line["unique_clicks"], by_line(line["unique_clicks"])),
        *tracked,
        ("blocked_within_24h", "target", got["blocks"]["members"], ""),
        ("coupons_redeemed", "target", got["coupons"]["redeemed"], ""),
        ("bought", "target", got["target"]["buyers"], f"within {got['window_days']} days"),
        ("held_out", "holdout", got["holdout"]["members"], ""),
        ("bought", "holdout", got["holdout"]["buyers"], f"within {got['window_days']} days"),
    ]
