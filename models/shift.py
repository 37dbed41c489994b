"""A store's business day at the till: today's transactions (awards, redemptions, coupon uses), the
shift summary, and a manager's void of an award made today.

A void never edits the award: it writes compensating ledger entries (reason ``void``, the award's
id) that take back exactly what the award gave, under the member's lock, once (a second void, a
retry or a second manager at the same moment, answers with the first), and an audit row. It is
bounded to the store's own awards of the current business day (Asia/Taipei), and refused when the
award filled a card (its reward is the member's now; a correction is the way) or when the member
has already spent what it gave (a balance never goes below zero).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import admin
from models.coupon import Coupon, CouponEvent
from models.errors import Conflict, InvalidInput, NotFound
from models.ledger import EARNING_REASONS, Award, LedgerEntry, add_entry, balances, business_day_start, lock_member
from models.member import Member
from models.reward import Redemption, RewardItem
from models.rule import EarningRule
from models.store import Actor, Forbidden, Store

LIST_LIMIT = 200  # a till's day; the summary counts them all


def _today(now: datetime) -> tuple[datetime, datetime]:
    start = business_day_start(now)
    return start, start + timedelta(days=1)


def voided_award_ids(session: Session, award_ids: list[int]) -> set[int]:
    if not award_ids:
        return set()
    return set(session.scalars(select(LedgerEntry.award_id).where(LedgerEntry.reason == "void", LedgerEntry.award_id.in_(award_ids)).distinct()))


def today_transactions(session: Session, *, store_id: int, now: datetime, limit: int = LIST_LIMIT) -> list[dict[str, Any]]:
    """The store's awards, redemptions and coupon uses of this business day, newest first."""
    lo, hi = _today(now)
    awards = session.execute(
        select(Award, Member.member_no, Member.display_name).join(Member, Member.id == Award.member_id)
        .where(Award.store_id == store_id, Award.created_at >= lo, Award.created_at < hi).order_by(Award.id.desc()).limit(limit)).all()
    voided = voided_award_ids(session, [a.id for a, _, _ in awards])
    rows: list[dict[str, Any]] = [{
        "kind": "award", "id": a.id, "at": a.created_at, "member_no": no, "member_name": name, "receipt_id": a.receipt_id,
        "amount": None if a.amount is None else f"{a.amount:.2f}", "visit": a.visit, "stamps": a.stamps, "points": a.points,
        "rewards": a.rewards, "voided": a.id in voided,
    } for a, no, name in awards]
    redemptions = session.execute(
        select(Redemption, RewardItem.name, Member.member_no, Member.display_name)
        .join(RewardItem, RewardItem.id == Redemption.reward_item_id).join(Member, Member.id == Redemption.member_id)
        .where(Redemption.store_id == store_id, Redemption.created_at >= lo, Redemption.created_at < hi)
        .order_by(Redemption.id.desc()).limit(limit)).all()
    rows += [{"kind": "redemption", "id": r.id, "at": r.created_at, "member_no": no, "member_name": name, "reward": item, "points": r.points}
             for r, item, no, name in redemptions]
    uses = session.execute(
        select(CouponEvent, Coupon.code, Member.member_no, Member.display_name).join(Coupon, Coupon.id == CouponEvent.coupon_id)
        .join(Member, Member.id == Coupon.member_id)
        .where(CouponEvent.store_id == store_id, CouponEvent.kind == "redeemed", CouponEvent.at >= lo, CouponEvent.at < hi)
        .order_by(CouponEvent.id.desc()).limit(limit)).all()
    rows += [{"kind": "coupon", "id": e.id, "at": e.at, "member_no": no, "member_name": name, "code": code,
              "amount": None if e.amount is None else f"{e.amount:.2f}"} for e, code, no, name in uses]
    rows.sort(key=lambda r: (r["at"], r["id"]), reverse=True)
    return rows[:limit]


def shift_summary(session: Session, *, store_id: int, now: datetime) -> dict[str, Any]:
    """Counts and totals of the store's business day; a voided award counts in ``voided`` only."""
    lo, hi = _today(now)
    today = (Award.store_id == store_id) & (Award.created_at >= lo) & (Award.created_at < hi)
    void_of_award = select(LedgerEntry.award_id).where(LedgerEntry.reason == "void", LedgerEntry.award_id.is_not(None))
    n, revenue, stamps, points = session.execute(
        select(func.count(), func.coalesce(func.sum(Award.amount), 0), func.coalesce(func.sum(Award.stamps), 0), func.coalesce(func.sum(Award.points), 0))
        .where(today, Award.id.not_in(void_of_award))).one()
    voided = session.scalar(select(func.count()).where(today, Award.id.in_(void_of_award))) or 0
    members = session.scalar(select(func.count(func.distinct(Award.member_id))).where(today, Award.id.not_in(void_of_award))) or 0
    redemptions, redeemed_points = session.execute(
        select(func.count(), func.coalesce(func.sum(Redemption.points), 0))
        .where(Redemption.store_id == store_id, Redemption.created_at >= lo, Redemption.created_at < hi)).one()
    coupons = session.scalar(select(func.count()).select_from(CouponEvent).where(
        CouponEvent.store_id == store_id, CouponEvent.kind == "redeemed", CouponEvent.at >= lo, CouponEvent.at < hi)) or 0
    coupon_voids = session.scalar(select(func.count()).select_from(CouponEvent).where(
        CouponEvent.store_id == store_id, CouponEvent.kind == "voided", CouponEvent.at >= lo, CouponEvent.at < hi)) or 0
    return {
        "business_day": lo.date().isoformat(),
        "awards": int(n), "members": int(members), "revenue": f"{Decimal(revenue):.2f}", "stamps": int(stamps), "points": int(points),
        "voided_awards": int(voided), "redemptions": int(redemptions), "redeemed_points": int(redeemed_points),
        "coupons_used": max(0, int(coupons) - int(coupon_voids)),
    }


@dataclass(frozen=True)
class VoidResult:
    award: Award
    entries: list[LedgerEntry]
    replayed: bool


def void_award(session: Session, *, award_id: int, reason: str, actor: Actor, now: datetime) -> VoidResult:
    """Take back what one award of today gave, once (see the module's docstring)."""
    if not actor.is_manager:
        raise Forbidden("Only a manager can void an award", code="manager_only")
    note = (reason or "").strip()
    if not note or len(note) > 200:
        raise InvalidInput("A reason is required (at most 200 characters)", code="reason_required", details={"field": "reason"})
    record = session.get(Award, award_id)
    if record is None or record.store_id != actor.store_id:
        raise NotFound("No such award at this store", code="award_not_found")
    lock_member(session, record.member_id)
    done = list(session.scalars(select(LedgerEntry).where(LedgerEntry.reason == "void", LedgerEntry.award_id == award_id)))
    if done:
        return VoidResult(record, done, replayed=True)
    lo, _ = _today(now)
    if record.created_at < lo:
        raise Conflict("Only today's awards can be voided; use a correction", code="award_not_today")
    if record.rewards:
        raise Conflict("This award filled a card and issued its reward; use a correction", code="award_issued_reward")
    given = {c: int(n) for c, n in session.execute(
        select(LedgerEntry.currency, func.sum(LedgerEntry.amount)).where(LedgerEntry.award_id == award_id, LedgerEntry.reason.in_(EARNING_REASONS))
        .group_by(LedgerEntry.currency))}
    have = balances(session, record.member_id)
    for currency, amount in given.items():
        if amount > have.get(currency, 0):
            raise Conflict("The member has already spent what this award gave; use a correction", code="award_already_spent",
                           details={"currency": currency, "balance": have.get(currency, 0), "needed": amount})
    entries = [add_entry(session, member_id=record.member_id, currency=c, amount=-n, reason="void", actor=actor, now=now,
                         receipt_id=record.receipt_id, award_id=award_id, note=note) for c, n in sorted(given.items()) if n]
    if not entries:  # nothing was given (a visit under a cap, say): the void is still recorded, once
        entries = [add_entry(session, member_id=record.member_id, currency="point", amount=0, reason="void", actor=actor, now=now,
                             receipt_id=record.receipt_id, award_id=award_id, note=note)]
    session.flush()
    store = session.get(Store, record.store_id)
    member = session.get(Member, record.member_id)
    admin.record(session, actor=f"staff:{actor.staff_id}", action="award.void", now=now, details={
        "store": store.code if store else None, "member": member.member_no if member else None, "award_id": award_id,
        "receipt_id": record.receipt_id, "stamps": -given.get("stamp", 0), "points": -given.get("point", 0), "reason": note})
    return VoidResult(record, entries, replayed=False)


@dataclass(frozen=True)
class RepeatVisit:
    minutes_ago: int
    within: int
    policy: str  # warn | refuse

    def json(self) -> dict[str, Any]:
        return {"minutes_ago": self.minutes_ago, "within": self.within, "policy": self.policy}


def check_repeat_visit(session: Session, *, member_id: int, store_id: int, receipt_id: str, rule: EarningRule, now: datetime) -> RepeatVisit | None:
    """The brand's repeat-visit rule before an award at the counter: the member's last award (any
    store, another receipt) within ``repeat_visit_minutes``. ``refuse`` raises 409 repeat_visit,
    unless this receipt is already awarded (a retry answers with its award); ``warn`` returns what
    the page shows. Under the member's lock, so two tills at once cannot both pass a refusal."""
    minutes = rule.repeat_visit_minutes
    if not minutes:
        return None
    lock_member(session, member_id)
    last = session.scalar(select(func.max(Award.created_at)).where(
        Award.member_id == member_id, Award.created_at > now - timedelta(minutes=minutes), Award.created_at <= now,
        ~((Award.store_id == store_id) & (Award.receipt_id == receipt_id.strip()))))
    if last is None:
        return None
    found = RepeatVisit(int((now - last).total_seconds() // 60), int(minutes), rule.repeat_visit_policy or "warn")
    if found.policy == "refuse":
        retry = session.scalar(select(Award.id).where(Award.store_id == store_id, Award.receipt_id == receipt_id.strip()))
        if retry is None:
            raise Conflict(f"This member was awarded {found.minutes_ago} minutes ago; the brand allows one award per {minutes} minutes",
                           code="repeat_visit", details=found.json())
    return found
