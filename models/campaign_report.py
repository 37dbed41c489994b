"""What a campaign earned: delivery counts, coupons, revenue, and uplift against the holdout."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models.campaign import Campaign, recipients_with_outcome
from models.coupon import Coupon
from models.ledger import Award


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


def report(session: Session, campaign: Campaign, *, days: int = 14) -> dict[str, Any]:
    recipient = recipients_with_outcome(campaign.id)
    counts = dict(session.execute(select(recipient.c.status, func.count()).group_by(recipient.c.status)).all())
    skipped = dict(session.execute(
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
        "coupons": {"claimed": claimed, "redeemed": int(redeemed), "revenue": str(Decimal(coupon_revenue))},
        "window_days": days,
        "target": target,
        "holdout": holdout,
        "uplift": {
            "conversion_points": round((target["conversion"] - holdout["conversion"]) * 100, 2) if holdout["members"] else None,
            "revenue_per_member": str(Decimal(target["revenue_per_member"]) - Decimal(holdout["revenue_per_member"])) if holdout["members"] else None,
        },
    }
