"""Spending asked for by a typed member number waits for the member's confirmation in LINE.

A member number is easy to learn (a receipt, a shoulder), so it may earn but not spend: a
redemption or a card reward's hand-over for a member identified by a typed number becomes a
pending confirmation, pushed to the member with 確認 / 取消 buttons. The member's 確認 performs the
spend in the webhook event's transaction, exactly once: the confirmation's row is locked and
leaves ``pending`` in the same transaction as the spend (a replayed or second tap finds it
decided; an expired or cancelled one spends nothing). The cashier polls it for the outcome.

    cashier (typed number) ──ask──▶ pending ──確認 (in time)──▶ confirmed  (the spend, identified_by=confirmed)
                                        │                  └──▶ failed     (the spend refused: insufficient_balance, …)
                                        ├──取消──────────────▶ cancelled
                                        └──time passes──────▶ expired
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ForeignKey, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from models.base import BigInt, Base, IntPK, Timestamp
from models.errors import Conflict, DomainError, NotFound
from models.ledger import InsufficientBalance, balance, lock_member
from models.reward import Redemption, RedemptionResult, RewardGrant, get_item, redeem_item, use_grant
from models.store import Actor

TTL = timedelta(minutes=3)
KINDS = ("redeem", "grant")
CONFIRMED = "confirmed"  # models.ledger.IDENTIFIED_BY of what a confirmation spends


class SpendConfirmation(Base):
    __tablename__ = "spend_confirmation"

    id: Mapped[IntPK]
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id"), index=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("store.id"))
    actor_kind: Mapped[str] = mapped_column(String(16))  # who asked: the ledger's actor of the spend
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    api_key_id: Mapped[int | None] = mapped_column(ForeignKey("api_key.id"))
    kind: Mapped[str] = mapped_column(String(16))  # redeem | grant
    reward_item_id: Mapped[int | None] = mapped_column(ForeignKey("reward_item.id"))
    grant_id: Mapped[int | None] = mapped_column(ForeignKey("reward_grant.id"))
    request_id: Mapped[str] = mapped_column(String(64))  # the redemption's request id
    what: Mapped[str] = mapped_column(String(120))  # the reward's name, as the member is asked
    points: Mapped[int | None] = mapped_column(BigInt)  # what a redemption costs
    status: Mapped[str] = mapped_column(String(16))  # pending | confirmed | failed | cancelled | expired
    outcome_code: Mapped[str | None] = mapped_column(String(48))  # why a confirmed spend failed
    redemption_id: Mapped[int | None] = mapped_column(ForeignKey("redemption.id"))
    created_at: Mapped[Timestamp]
    expires_at: Mapped[Timestamp]
    decided_at: Mapped[Timestamp | None]

    def status_at(self, now: datetime) -> str:
        return "expired" if self.status == "pending" and self.expires_at <= now else self.status


class ConfirmationRequired(DomainError):
    code = "confirmation_required"
    status = 409


@dataclass(frozen=True)
class Asked:
    """A spend waiting for the member: ``created`` when this request made it (push the member)."""

    confirmation: SpendConfirmation
    created: bool


@dataclass(frozen=True)
class Decision:
    """What the member's tap did: ``fresh`` when this tap decided it (False: decided before)."""

    confirmation: SpendConfirmation
    fresh: bool
    point_balance: int | None = None


def needs_confirmation(actor: Actor) -> bool:
    return actor.identified_by in ("number", "phone")


def redeem_or_ask(session: Session, *, member_id: int, item_id: int, request_id: str, actor: Actor, now: datetime) -> RedemptionResult | Asked:
    """A points redemption: done at once for a member identified by QR; for a typed number, the
    original result when the request was already redeemed (a retry after the member confirmed),
    else a pending confirmation (the same one for a retry while it is pending)."""
    request_id = (request_id or "").strip()
    done = session.scalar(select(Redemption.id).where(Redemption.store_id == actor.store_id, Redemption.request_id == request_id))
    if not needs_confirmation(actor) or done is not None:
        return redeem_item(session, member_id=member_id, item_id=item_id, request_id=request_id, actor=actor, now=now)
    if not request_id or len(request_id) > 64:
        redeem_item(session, member_id=member_id, item_id=item_id, request_id=request_id, actor=actor, now=now)  # its refusal
    item = get_item(session, item_id)
    if not item.is_active:
        raise NotFound("No such reward", code="reward_not_found")
    lock_member(session, member_id)
    have = balance(session, member_id, "point")
    if have < item.points_cost:  # the member is never asked to confirm what cannot happen
        raise InsufficientBalance(f"Balance {have} is less than {item.points_cost}",
                                  details={"balance": have, "needed": item.points_cost, "currency": "point"})
    return _ask(session, member_id=member_id, actor=actor, kind="redeem", request_id=request_id, what=item.name,
                points=item.points_cost, reward_item_id=item.id, now=now)


def use_or_ask(session: Session, *, grant_id: int, member_id: int, actor: Actor, now: datetime) -> RewardGrant | Asked:
    """A stamp card's reward handed over: at once for a member identified by QR; for a typed
    number, a pending confirmation (refused as ``use_grant`` refuses, when it could not be used)."""
    if not needs_confirmation(actor):
        return use_grant(session, grant_id=grant_id, member_id=member_id, actor=actor, now=now)

    lock_member(session, member_id)
    grant = session.get(RewardGrant, grant_id)
    if grant is None or grant.member_id != member_id:
        raise NotFound("No such reward for this member", code="grant_not_found")
    if grant.used_at is not None:
        raise Conflict("This reward was already used", code="grant_used")
    return _ask(session, member_id=member_id, actor=actor, kind="grant", request_id=f"grant:{grant.id}", what=grant.name,
                points=None, grant_id=grant.id, now=now)


def _ask(session: Session, *, member_id: int, actor: Actor, kind: str, request_id: str, what: str, points: int | None,
         now: datetime, reward_item_id: int | None = None, grant_id: int | None = None) -> Asked:
    """The pending confirmation of this spend (made once: the caller holds the member's lock)."""
    pending = session.scalars(select(SpendConfirmation).where(
        SpendConfirmation.member_id == member_id, SpendConfirmation.store_id == actor.store_id,
        SpendConfirmation.kind == kind, SpendConfirmation.request_id == request_id,
        SpendConfirmation.reward_item_id.is_(None) if reward_item_id is None else SpendConfirmation.reward_item_id == reward_item_id,
        SpendConfirmation.status == "pending", SpendConfirmation.expires_at > now,
    ).order_by(SpendConfirmation.id.desc()).limit(1)).first()
    if pending is not None:
        return Asked(pending, created=False)
    row = SpendConfirmation(
        member_id=member_id, store_id=actor.store_id, actor_kind=actor.kind, staff_id=actor.staff_id, api_key_id=actor.api_key_id,
        kind=kind, reward_item_id=reward_item_id, grant_id=grant_id, request_id=request_id, what=what[:120], points=points,
        status="pending", created_at=now, expires_at=now + TTL,
    )
    session.add(row)
    session.flush()
    return Asked(row, created=True)


def _locked(session: Session, confirmation_id: int, member_id: int) -> SpendConfirmation:
    row = session.scalars(
        select(SpendConfirmation).where(SpendConfirmation.id == confirmation_id).with_for_update()
        .execution_options(populate_existing=True)  # as the transaction that held it left it
    ).one_or_none()
    if row is None or row.member_id != member_id:
        raise NotFound("No such confirmation", code="confirmation_unknown")
    return row


def confirm(session: Session, *, confirmation_id: int, member_id: int, now: datetime) -> Decision:
    """The member's 確認: the spend, once, identified as confirmed; a refusal of the spend itself
    (the points were spent meanwhile, the reward withdrawn) leaves it ``failed`` and spends nothing."""
    row = _locked(session, confirmation_id, member_id)
    if row.status_at(now) != "pending":
        if row.status == "pending":
            row.status, row.decided_at = "expired", now
        return Decision(row, fresh=False)
    actor = Actor(store_id=row.store_id, kind=row.actor_kind, staff_id=row.staff_id, api_key_id=row.api_key_id, identified_by=CONFIRMED)
    point_balance = None
    try:
        with session.begin_nested():
            if row.kind == "redeem":
                assert row.reward_item_id is not None
                result = redeem_item(session, member_id=member_id, item_id=row.reward_item_id, request_id=row.request_id, actor=actor, now=now)
                row.redemption_id, point_balance = result.redemption_id, result.point_balance
            else:
                assert row.grant_id is not None
                use_grant(session, grant_id=row.grant_id, member_id=member_id, actor=actor, now=now)
    except DomainError as err:
        row.status, row.outcome_code = "failed", err.code
    else:
        row.status = "confirmed"
    row.decided_at = now
    session.flush()
    return Decision(row, fresh=True, point_balance=point_balance)


def cancel(session: Session, *, confirmation_id: int, member_id: int, now: datetime) -> Decision:
    """The member's 取消: nothing is spent, and a later 確認 spends nothing either."""
    row = _locked(session, confirmation_id, member_id)
    if row.status_at(now) != "pending":
        return Decision(row, fresh=False)
    row.status, row.decided_at = "cancelled", now
    session.flush()
    return Decision(row, fresh=True)


def withdraw(session: Session, *, confirmation_id: int, store_id: int, now: datetime) -> SpendConfirmation:
    """The counter stops waiting (the next customer, or the member chose to show the QR instead):
    a pending confirmation is cancelled, so a 確認 tapped later spends nothing. Decided ones stay."""
    row = session.scalars(
        select(SpendConfirmation).where(SpendConfirmation.id == confirmation_id).with_for_update()
        .execution_options(populate_existing=True)
    ).one_or_none()
    if row is None or row.store_id != store_id:
        raise NotFound("No such confirmation", code="confirmation_unknown")
    if row.status_at(now) == "pending":
        row.status, row.decided_at = "cancelled", now
        session.flush()
    return row


def get_for_store(session: Session, confirmation_id: int, store_id: int) -> SpendConfirmation:
    """A confirmation the store asked for (another store's is not found)."""
    row = session.get(SpendConfirmation, confirmation_id)
    if row is None or row.store_id != store_id:
        raise NotFound("No such confirmation", code="confirmation_unknown")
    return row
