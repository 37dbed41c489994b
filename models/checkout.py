"""A purchase or visit at the counter, end to end in one transaction: the award (with the
tier's multiplier), the stamp card's coupon rewards, and an immediate tier upgrade."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from sqlalchemy.orm import Session

from models.coupon import Coupon, issue, issue_for_trigger
from models.coupon import CouponTemplate
from models.journey import trigger
from models.ledger import AwardResult, LedgerEntry, award, balance
from models.items import Line
from models.member import Member
from models.referral import reward_first_purchase
from models.reward import RewardGrant
from models.rule import EarningRule, get_rule
from models.store import Actor
from models.tier import Change, evaluate_upgrade, multiplier_for


@dataclass(frozen=True)
class Checkout:
    award: AwardResult
    tier_change: Change | None = None
    coupons: list[Coupon] = field(default_factory=list)
    coupon_names: list[str] = field(default_factory=list)


def after_award(session: Session, member: Member, result: AwardResult, now: datetime) -> Checkout:
    """What follows a fresh award: stamp-card coupons, then an upgrade when the member qualifies."""
    if result.replayed:
        return Checkout(result)
    rule = get_rule(session)
    coupons: list[Coupon] = []
    if rule.reward_kind == "coupon":  # the card's reward arrives as a coupon; the grant is converted
        for grant_id in result.reward_ids:
            coupons += issue_for_trigger(session, trigger="stamp_card", member_id=member.id, occasion=f"stamp_card:{grant_id}", now=now)
            grant = session.get(RewardGrant, grant_id)
            if grant is not None:
                grant.used_at = now
    reward_first_purchase(session, member, result, now)  # a referred friend's first qualifying purchase
    _card_almost_full(session, member, rule, now)
    change = evaluate_upgrade(session, member, now)
    if change is not None and change.to_tier.upgrade_template_id:
        template = session.get(CouponTemplate, change.to_tier.upgrade_template_id)
        if template is not None:
            got = issue(session, template=template, member_id=member.id, source="tier_upgrade", occasion=f"tier_upgrade:{change.to_tier.code}:{now.date().isoformat()}", now=now)
            if got.created and got.coupon is not None:
                coupons.append(got.coupon)
    names = [t.name for t in (session.get(CouponTemplate, c.template_id) for c in coupons) if t is not None]
    return Checkout(result, change, coupons, names)


def _card_almost_full(session: Session, member: Member, rule: EarningRule, now: datetime) -> None:
    """One stamp from a full card: the journey's occasion is the card being filled (cards done so far)."""
    from sqlalchemy import func, select

    if rule.card_size > 1 and balance(session, member.id, "stamp") == rule.card_size - 1:
        done = session.scalar(select(func.count()).select_from(LedgerEntry).where(
            LedgerEntry.member_id == member.id, LedgerEntry.reason == "card_reward")) or 0
        trigger(session, "card_almost_full", member_id=member.id, occasion=f"card:{done + 1}", now=now)


def checkout(
    session: Session, *, member: Member, receipt_id: str, amount: Decimal | None, visit: bool, actor: Actor, now: datetime,
    items: list[Line] | None = None,
) -> Checkout:
    result = award(
        session, member_id=member.id, receipt_id=receipt_id, amount=amount, visit=visit, actor=actor,
        rule=get_rule(session), now=now, multiplier=multiplier_for(session, member), items=items,
    )
    return after_award(session, member, result, now)
