"""Guards: what must still be true when a held or delayed message is sent.

A push about the member's own tier or coupon can wait (quiet hours, a journey's delay). When it is
finally sent it is checked against the occasion that caused it, and skipped with a reason if that is
no longer true, so nobody is congratulated on a tier they lost or reminded of a coupon they used.

    {"tier": "silver"}                          still in the tier            → tier_changed
    {"tier": "silver", "until": "<iso>"}        … and still in that period  → period_over
    {"tier": "silver", "until": …, "short": 1}  … and still short of keeping it → qualified
    {"coupon": 12}                              the coupon still usable      → used | voided | expired
    {"lapsed_since": "<iso>"}                   no purchase since            → came_back
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.coupon import Coupon
from models.ledger import Award
from models.member import Member
from models.tier import current_tier, shortfall


def broken(session: Session, member_id: int, guard: dict[str, Any] | None, now: datetime) -> str | None:
    """Why the guard no longer holds (a skip reason), or None when the message may be sent."""
    if not guard:
        return None
    member = session.get(Member, member_id)
    if member is None:
        return "unreachable"
    if "tier" in guard:
        tier = current_tier(session, member)
        if tier is None or tier.code != guard["tier"]:
            return "tier_changed"
        if "until" in guard:
            until = member.tier_until
            if until is None or abs((until - datetime.fromisoformat(guard["until"])).total_seconds()) >= 1:
                return "period_over"
            if guard.get("short") and shortfall(session, member.id, tier, until) <= 0:
                return "qualified"
    if "coupon" in guard:
        coupon = session.get(Coupon, int(guard["coupon"]))
        if coupon is None or coupon.status == "voided":
            return "voided"
        if coupon.status == "redeemed":
            return "used"
        if coupon.status != "issued" or coupon.expires_at <= now:
            return "expired"
    if "lapsed_since" in guard:
        since = datetime.fromisoformat(guard["lapsed_since"])
        if session.scalar(select(Award.id).where(Award.member_id == member_id, Award.created_at > since).limit(1)):
            return "came_back"
    return None


def tier_guard(tier_code: str, until: datetime | None = None, *, short: bool = False) -> dict[str, Any]:
    guard: dict[str, Any] = {"tier": tier_code}
    if until is not None:
        guard["until"] = until.isoformat()
        if short:
            guard["short"] = 1
    return guard
