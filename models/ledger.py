"""The ledger: every change of stamps or points is an append-only entry.

A balance is the sum of a member's entries. Changes happen under a lock on the
member's row (PostgreSQL ``FOR NO KEY UPDATE``; SQLite takes the write lock at BEGIN),
so concurrent requests see each other's entries and a balance never goes below
zero; while the lock is held the sums are kept per transaction (``balances``).
Awards are idempotent on (store, receipt id), redemptions on (store, request id):
a retried request answers with the original result, a reused id for anything else
is refused.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import Boolean, ForeignKey, Index, Numeric, String, UniqueConstraint, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from models.base import BigInt, Base, IntPK, Timestamp, TXN_KEY, txn_cache, insert_for
from models.bonus import bonus_note, split_capped
from models.items import Line, award_lines, same_items, store_items
from models.card import PREFETCH_KEY as CARD_PREFETCH
from models.errors import Conflict, DomainError, InvalidInput, NotFound
from models.limits import MAX_CORRECTION, MAX_PURCHASE, MAX_STAMPS_PER_AWARD
from models.member import Member, holds_lock, is_taken_over, mark_locked, refuse_erased
from models.rule import EarningRule, capped, earn_for
from models.store import Actor, Forbidden

CURRENCIES = ("stamp", "point")
# How the member behind an entry was identified: their card's QR (signed, short-lived), a member
# number or a phone typed by hand, a confirmation the member tapped in LINE, a receipt claim code the member
# sent in chat, or nobody (the system: expiry, referral gifts). NULL on entries from before 0012.
IDENTIFIED_BY = ("qr", "number", "phone", "confirmed", "claim_code", "system")
# Coupon events also record a coupon's own QR (signed) or its code typed by hand.
COUPON_IDENTIFIED_BY = (*IDENTIFIED_BY, "coupon_qr", "coupon_code")
MAX_AMOUNT = MAX_PURCHASE  # NT$ per receipt; check_purchase
EARNING_REASONS = ("award", "bonus")  # what an award writes: the rule's earning, and its bonuses on the items (models/bonus.py)
TAIPEI = ZoneInfo("Asia/Taipei")


class LedgerEntry(Base):
    __tablename__ = "ledger_entry"
    __table_args__ = (Index("ix_ledger_entry_member_currency", "member_id", "currency"),)

    id: Mapped[IntPK]
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id"))
    currency: Mapped[str] = mapped_column(String(8))
    amount: Mapped[int] = mapped_column(BigInt)
    reason: Mapped[str] = mapped_column(String(16))  # award | bonus | card_reward | redeem | expire | correction | void | referral | import (models.member_import)
    store_id: Mapped[int | None] = mapped_column(ForeignKey("store.id"))
    actor_kind: Mapped[str] = mapped_column(String(16))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    api_key_id: Mapped[int | None] = mapped_column(ForeignKey("api_key.id"))
    receipt_id: Mapped[str | None] = mapped_column(String(64))
    award_id: Mapped[int | None] = mapped_column(ForeignKey("award.id"), index=True)  # a void looks its award up
    note: Mapped[str | None] = mapped_column(String(200))
    expires_at: Mapped[Timestamp | None]
    created_at: Mapped[Timestamp]
    identified_by: Mapped[str | None] = mapped_column(String(16))  # IDENTIFIED_BY


class Award(Base):
    __tablename__ = "award"
    __table_args__ = (UniqueConstraint("store_id", "receipt_id", name="uq_award_store_receipt"),)

    id: Mapped[IntPK]
    store_id: Mapped[int] = mapped_column(ForeignKey("store.id"))
    receipt_id: Mapped[str] = mapped_column(String(64))
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id"), index=True)
    amount: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    visit: Mapped[bool] = mapped_column(Boolean, default=False)
    stamps: Mapped[int] = mapped_column(BigInt, default=0)
    points: Mapped[int] = mapped_column(BigInt, default=0)
    rewards: Mapped[int] = mapped_column(BigInt, default=0)
    actor_kind: Mapped[str] = mapped_column(String(16))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    api_key_id: Mapped[int | None] = mapped_column(ForeignKey("api_key.id"))
    created_at: Mapped[Timestamp]


class InsufficientBalance(DomainError):
    code = "insufficient_balance"
    status = 409


@dataclass(frozen=True)
class AwardResult:
    award_id: int
    member_id: int
    receipt_id: str
    stamps: int
    points: int
    rewards: int
    stamp_balance: int
    point_balance: int
    replayed: bool = False
    capped: bool = False
    reward_ids: list[int] = field(default_factory=list)



def lock_member(session: Session, member_id: int) -> Member:
    # FOR NO KEY UPDATE: serialises balance changes without conflicting with the KEY SHARE
    # locks that inserting rows which reference the member (awards, entries) take.
    # Read fresh with the lock (populate_existing: the row as the lock found it, not as this session
    # loaded it before waiting): an erasure or a merge that committed meanwhile must be seen. A
    # pre-member taken over by a member who joined refuses, so an award racing the merge is
    # refused and retried on the member (models.premember), never written to the old row.
    row = session.execute(select(Member, Member.line_user_id, Member.joined_at).where(Member.id == member_id)
                          .with_for_update(key_share=True).execution_options(populate_existing=True)).one_or_none()
    if row is None:
        raise NotFound("No such member", code="member_not_found")
    member, line_user_id, joined_at = row
    if is_taken_over(line_user_id, joined_at):
        raise Conflict("This pre-member joined in LINE: its balances are the member's now; try again", code="member_merged")
    mark_locked(session, member_id)
    return member


def balance(session: Session, member_id: int, currency: str) -> int:
    if holds_lock(session, member_id):
        return balances(session, member_id)[currency]
    total = session.scalar(
        select(func.coalesce(func.sum(LedgerEntry.amount), 0)).where(
            LedgerEntry.member_id == member_id, LedgerEntry.currency == currency
        )
    )
    return int(total or 0)


def balances(session: Session, member_id: int) -> dict[str, int]:
    """Both balances in one query.

    While this transaction holds the member's lock, nobody else can change the member's
    ledger, so the sums are kept for the rest of the transaction and kept current by
    ``add_entry`` (an award used to sum the ledger eight times). The cache is dropped when any
    transaction or savepoint of the session ends (models/base.py ``txn_cache``).
    """
    cache: dict[int, dict[str, int]] | None = None
    if holds_lock(session, member_id):
        cache = txn_cache(session).setdefault("balances", {})
        if member_id in cache:
            return dict(cache[member_id])
    rows = dict(session.execute(
        select(LedgerEntry.currency, func.sum(LedgerEntry.amount)).where(LedgerEntry.member_id == member_id).group_by(LedgerEntry.currency)
    ).all())
    result = {c: int(rows.get(c) or 0) for c in CURRENCIES}
    if cache is not None:
        cache[member_id] = dict(result)
    return result


def remember_balances(session: Session, member_id: int, both: dict[str, int]) -> None:
    """Keep balances summed elsewhere (the member card's one query) while the lock makes them final."""
    if holds_lock(session, member_id):
        txn_cache(session).setdefault("balances", {})[member_id] = dict(both)


def business_day_start(now: datetime) -> datetime:
    local = now.astimezone(TAIPEI)
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def earned_today(session: Session, member_id: int, now: datetime) -> dict[str, int]:
    """What the member was awarded this business day (Taipei), per currency, for the daily caps."""
    rows = dict(session.execute(
        select(LedgerEntry.currency, func.sum(LedgerEntry.amount)).where(
            LedgerEntry.member_id == member_id,
            LedgerEntry.reason.in_(EARNING_REASONS),
            LedgerEntry.created_at >= business_day_start(now),
        ).group_by(LedgerEntry.currency)
    ).all())
    return {c: int(rows.get(c) or 0) for c in CURRENCIES}


def identified_by(actor: Actor | None) -> str | None:
    """What an entry written for ``actor`` records as the member's identification."""
    return "system" if actor is None else actor.identified_by


def add_entry(
    session: Session,
    *,
    member_id: int,
    currency: str,
    amount: int,
    reason: str,
    actor: Actor | None,
    now: datetime,
    receipt_id: str | None = None,
    award_id: int | None = None,
    note: str | None = None,
    expires_at: datetime | None = None,
) -> LedgerEntry:
    if currency not in CURRENCIES:
        raise InvalidInput(f"currency must be one of {CURRENCIES}", code="invalid_currency")
    entry = LedgerEntry(
        member_id=member_id,
        currency=currency,
        amount=amount,
        reason=reason,
        store_id=actor.store_id if actor else None,
        actor_kind=actor.kind if actor else "system",
        staff_id=actor.staff_id if actor else None,
        api_key_id=actor.api_key_id if actor else None,
        receipt_id=receipt_id,
        award_id=award_id,
        note=note,
        expires_at=expires_at,
        created_at=now,
        identified_by=identified_by(actor),
    )
    session.add(entry)
    session.info.get(TXN_KEY, {}).pop(CARD_PREFETCH, None)  # models.card.prefetch: figures from before this entry
    cached = session.info.get(TXN_KEY, {}).get("balances", {}).get(member_id)
    if cached is not None:
        cached[currency] += amount
    return entry


def _expiry(now: datetime, days: int | None) -> datetime | None:
    return now + timedelta(days=days) if days else None


def _result(session: Session, award: Award, *, replayed: bool, was_capped: bool = False, reward_ids: list[int] | None = None) -> AwardResult:
    return AwardResult(
        award_id=award.id,
        member_id=award.member_id,
        receipt_id=award.receipt_id,
        stamps=award.stamps,
        points=award.points,
        rewards=award.rewards,
        stamp_balance=balance(session, award.member_id, "stamp"),
        point_balance=balance(session, award.member_id, "point"),
        replayed=replayed,
        capped=was_capped,
        reward_ids=list(reward_ids or []),
    )


def same_purchase(original_amount: Decimal | None, original_visit: bool, amount: Decimal | None, visit: bool) -> bool:
    """Whether a receipt id sent again repeats its purchase: the same amount (120 and "120.00" are
    the same) and the same visit. Awards and receipt claim codes both answer only such a retry."""
    if (original_amount is None) != (amount is None):
        return False
    return original_amount == amount and bool(original_visit) == visit


def check_purchase(receipt_id: str | None, amount: Decimal | None, visit: bool) -> str:
    """What a receipt must be to award anything, the one rule for awards and for receipt claim codes
    (a code is refused when its award would be): a receipt id, and an amount from 0 to MAX_AMOUNT
    or a visit. Returns the receipt id as stored (stripped)."""
    receipt_id = (receipt_id or "").strip()
    if not receipt_id or len(receipt_id) > 64:
        raise InvalidInput("receipt_id is required (at most 64 characters)", code="invalid_receipt_id")
    if amount is None and not visit:
        raise InvalidInput("Give an amount, or visit: true", code="nothing_to_award")
    if amount is not None and (not amount.is_finite() or amount < 0 or amount > MAX_AMOUNT):
        raise InvalidInput(f"amount must be between 0 and {MAX_AMOUNT:,}", code="invalid_amount",
                           details={"field": "amount", "max": str(MAX_AMOUNT)})
    return receipt_id


def purchase_details(amount: Decimal | None, visit: bool) -> dict[str, object]:
    """What a receipt was recorded for, as a refusal's ``details``."""
    return {"amount": None if amount is None else f"{amount:.2f}", "visit": bool(visit)}


def _refuse_other_purchase(session: Session, original: Award, *, member_id: int, amount: Decimal | None, visit: bool,
                           items: list[Line] | None) -> None:
    """A repeated receipt id is a retry only when it repeats the purchase: the same member, amount,
    visit and items (models.items.canonical). Anything else is refused rather than answered with the original award."""
    if original.member_id != member_id:
        raise Conflict("This receipt was already awarded to another member", code="receipt_already_awarded")
    if not same_purchase(original.amount, original.visit, amount, visit):
        raise Conflict(
            "This receipt was already awarded for another amount or visit", code="receipt_already_awarded",
            details=purchase_details(original.amount, original.visit),
        )
    if not same_items(award_lines(session, original.id), items):
        raise Conflict("This receipt was already awarded with other items", code="receipt_already_awarded",
                       details={**purchase_details(original.amount, original.visit), "items": "differ"})


def award(
    session: Session,
    *,
    member_id: int,
    receipt_id: str,
    amount: Decimal | None,
    visit: bool,
    actor: Actor,
    rule: EarningRule,
    now: datetime,
    multiplier: Decimal = Decimal(1),
    items: list[Line] | None = None,
) -> AwardResult:
    """Award stamps/points for one receipt, once, with its line items (models/items.py: checked by
    the caller). The rule's bonuses on the items are their own ``bonus`` entries. A full stamp card issues its reward."""
    from models.reward import issue_card_rewards

    receipt_id = check_purchase(receipt_id, amount, visit)
    # The member's lock first, then the award row: a transaction that holds the lock and must
    # strengthen it (an erasure in the chat rewrites the unique LINE user id: FOR UPDATE) then waits
    # for no award holding the KEY SHARE an inserted award row takes, so the two cannot deadlock.
    # An award that waited on an erasure finds the tombstone and is refused (member_erased).
    refuse_erased(lock_member(session, member_id))
    inserted = session.execute(
        insert_for(session)(Award)
        .values(
            store_id=actor.store_id,
            receipt_id=receipt_id,
            member_id=member_id,
            amount=amount,
            visit=visit,
            stamps=0,
            points=0,
            rewards=0,
            actor_kind=actor.kind,
            staff_id=actor.staff_id,
            api_key_id=actor.api_key_id,
            created_at=now,
        )
        .on_conflict_do_nothing(index_elements=["store_id", "receipt_id"])
        .returning(Award.id)
    ).scalar()
    if inserted is None:  # this receipt was awarded before: answer with the original result
        original = session.scalars(
            select(Award).where(Award.store_id == actor.store_id, Award.receipt_id == receipt_id)
        ).one()
        _refuse_other_purchase(session, original, member_id=member_id, amount=amount, visit=visit, items=items)
        return _result(session, original, replayed=True)

    record = session.get(Award, inserted)
    assert record is not None
    stored = store_items(session, award_id=inserted, member_id=member_id, store_id=actor.store_id, lines=items, now=now) if items else None
    earned = earn_for(rule, amount=amount, visit=visit, multiplier=multiplier, items=stored)
    extra = earned.bonus
    capped_at = (rule.daily_cap_stamps, rule.daily_cap_points)
    today = earned_today(session, member_id, now) if capped_at != (None, None) else {}
    # A receipt earns at most MAX_STAMPS_PER_AWARD stamps whatever the rule says (a big amount at a
    # small amount_per_stamp): each full card is a reward grant written in this transaction.
    # Caps and that limit take from the bonus first.
    stamps, bonus_stamps = split_capped(earned.stamps, extra.stamps, min(
        capped(earned.stamps + extra.stamps, today.get("stamp", 0), rule.daily_cap_stamps), MAX_STAMPS_PER_AWARD))
    points, bonus_points = split_capped(earned.points, extra.points,
                                        capped(earned.points + extra.points, today.get("point", 0), rule.daily_cap_points))
    common = dict(member_id=member_id, reason="award", actor=actor, now=now, receipt_id=receipt_id, award_id=inserted)
    if stamps:
        add_entry(session, currency="stamp", amount=stamps, expires_at=_expiry(now, rule.stamp_expiry_days), **common)
    if points:
        add_entry(session, currency="point", amount=points, expires_at=_expiry(now, rule.point_expiry_days), **common)
    common.update(reason="bonus", note=bonus_note(extra))
    if bonus_stamps:
        add_entry(session, currency="stamp", amount=bonus_stamps, expires_at=_expiry(now, rule.stamp_expiry_days), **common)
    if bonus_points:
        add_entry(session, currency="point", amount=bonus_points, expires_at=_expiry(now, rule.point_expiry_days), **common)
    stamps, points = stamps + bonus_stamps, points + bonus_points
    session.flush()
    reward_ids = issue_card_rewards(session, member_id=member_id, award_id=inserted, rule=rule, actor=actor, now=now)
    record.stamps, record.points, record.rewards = stamps, points, len(reward_ids)
    session.flush()
    return _result(
        session, record, replayed=False, was_capped=(stamps, points) != (earned.stamps + extra.stamps, earned.points + extra.points),
        reward_ids=reward_ids
    )


def spend(
    session: Session, *, member_id: int, currency: str, amount: int, reason: str, actor: Actor | None, now: datetime, note: str | None = None
) -> LedgerEntry:
    """Take ``amount`` off a balance; never below zero. The caller holds the member lock."""
    if amount <= 0:
        raise InvalidInput("amount must be positive", code="invalid_amount")
    have = balance(session, member_id, currency)
    if have < amount:
        raise InsufficientBalance(
            f"Balance {have} is less than {amount}", details={"balance": have, "needed": amount, "currency": currency}
        )
    entry = add_entry(session, member_id=member_id, currency=currency, amount=-amount, reason=reason, actor=actor, now=now, note=note)
    session.flush()
    return entry


def check_correction(actor: Actor, *, currency: str, amount: int, note: str) -> None:
    """What any correction must be, applied now or waiting for approval: a manager's, with a reason,
    a known currency, not zero and within MAX_CORRECTION."""
    if not actor.is_manager:
        raise Forbidden("Only a manager can correct balances", code="manager_only")
    if not note or not note.strip():
        raise InvalidInput("A reason is required", code="reason_required")
    if amount == 0:
        raise InvalidInput("amount must not be zero", code="invalid_amount")
    if currency not in CURRENCIES:
        raise InvalidInput(f"currency must be one of {CURRENCIES}", code="invalid_currency", details={"field": "currency"})
    most = MAX_CORRECTION[currency]
    if abs(amount) > most:
        raise InvalidInput(f"One correction moves at most {most:,} {currency}s either way", code="amount_too_large",
                           details={"field": "amount", "currency": currency, "max": most})


def correct(
    session: Session, *, member_id: int, currency: str, amount: int, note: str, actor: Actor, now: datetime, rule: EarningRule
) -> LedgerEntry:
    """A manager's compensating entry (never an edit). Cannot take a balance below zero.
    Large ones need a second manager's approval first (models/correction.py)."""
    check_correction(actor, currency=currency, amount=amount, note=note)
    refuse_erased(lock_member(session, member_id))
    if amount < 0:
        return spend(session, member_id=member_id, currency=currency, amount=-amount, reason="correction", actor=actor, now=now, note=note.strip())
    days = rule.stamp_expiry_days if currency == "stamp" else rule.point_expiry_days
    entry = add_entry(
        session, member_id=member_id, currency=currency, amount=amount, reason="correction", actor=actor, now=now,
        note=note.strip(), expires_at=_expiry(now, days),
    )
    session.flush()
    return entry


def recent_entries(session: Session, member_id: int, limit: int = 10) -> list[LedgerEntry]:
    return list(
        session.scalars(
            select(LedgerEntry).where(LedgerEntry.member_id == member_id).order_by(LedgerEntry.id.desc()).limit(limit)
        )
    )
