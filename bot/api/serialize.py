"""JSON shapes the APIs share."""
from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from datetime import datetime

from models.coupon import coupon_json, usable_coupons
from models.ledger import LedgerEntry, balance
from models.tier import current_tier
from models.member import Member
from models.reward import open_grants
from models.rule import get_rule


def member_summary(session: Session, member: Member, now: datetime, *, coupon_codes: bool = True) -> dict[str, Any]:
    """``coupon_codes=False`` (a member identified by a typed number): the coupons without their
    codes, since a code redeems its coupon and a typed number must not spend."""
    rule = get_rule(session)
    stamps = balance(session, member.id, "stamp")
    tier = current_tier(session, member)
    return {
        "member_no": member.member_no,
        "name": member.display_name,
        "tier": tier.name if tier else None,
        "joined_at": member.joined_at.isoformat() if member.joined_at else None,
        "balances": {"stamps": stamps, "points": balance(session, member.id, "point")},
        "card": {"size": rule.card_size, "filled": min(stamps, rule.card_size), "reward": rule.reward_name},
        "rewards": [{"id": g.id, "name": g.name, "issued_at": g.issued_at.isoformat()} for g in open_grants(session, member.id)],
        "coupons": [{**coupon_json(c, t), **({} if coupon_codes else {"code": None})} for c, t in usable_coupons(session, member.id, now)],
    }


def entry_json(entry: LedgerEntry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "currency": entry.currency,
        "amount": entry.amount,
        "reason": entry.reason,
        "note": entry.note,
        "receipt_id": entry.receipt_id,
        "store_id": entry.store_id,
        "actor_kind": entry.actor_kind,
        "staff_id": entry.staff_id,
        "identified_by": entry.identified_by,  # qr | number | confirmed | claim_code | system; null before it was recorded
        "expires_at": entry.expires_at.isoformat() if entry.expires_at else None,
        "created_at": entry.created_at.isoformat(),
    }
