"""Receipt claim codes: a one-time code printed on a receipt; the member sends it in chat to collect."""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import Boolean, ForeignKey, Numeric, String, UniqueConstraint, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from models.base import Base, IntPK, Timestamp, insert_for
from models.errors import Conflict, DomainError, InvalidInput
from models.checkout import Checkout, checkout
from models.ledger import Award, AwardResult, purchase_details, same_purchase
from models.member import Member
from models.store import Actor

ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I
DEFAULT_TTL = timedelta(days=3)


class ClaimCode(Base):
    __tablename__ = "claim_code"
    __table_args__ = (UniqueConstraint("store_id", "receipt_id", name="uq_claim_code_store_receipt"),)

    id: Mapped[IntPK]
    code: Mapped[str] = mapped_column(String(16), unique=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("store.id"))
    receipt_id: Mapped[str] = mapped_column(String(64))
    amount: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    visit: Mapped[bool] = mapped_column(Boolean, default=False)
    actor_kind: Mapped[str] = mapped_column(String(16))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    api_key_id: Mapped[int | None] = mapped_column(ForeignKey("api_key.id"))
    created_at: Mapped[Timestamp]
    expires_at: Mapped[Timestamp]
    claimed_at: Mapped[Timestamp | None]
    member_id: Mapped[int | None] = mapped_column(ForeignKey("member.id"))


class ClaimError(DomainError):
    status = 409


@dataclass(frozen=True)
class IssuedClaim:
    claim: ClaimCode
    replayed: bool  # the receipt's code made earlier, answered to a retry


@dataclass(frozen=True)
class ClaimResult:
    code: str
    store_id: int
    checkout: Checkout

    @property
    def award(self) -> AwardResult:
        return self.checkout.award


def normalise_code(raw: str) -> str:
    return "".join(ch for ch in raw.upper() if ch in ALPHABET)


def format_code(code: str) -> str:
    return f"{code[:4]}-{code[4:]}"


def create_claim(
    session: Session, *, receipt_id: str, amount: Decimal | None, visit: bool, actor: Actor, now: datetime, ttl: timedelta = DEFAULT_TTL
) -> IssuedClaim:
    """One code per (store, receipt), as awards are one per (store, receipt): the same purchase sent
    again (amount and visit) is a retry and gets the original code; another purchase under the same
    receipt id is refused (``receipt_already_has_claim``). A receipt already awarded at the counter
    gets no code (``receipt_already_awarded``): it could never award anything."""
    receipt_id = (receipt_id or "").strip()
    if not receipt_id or len(receipt_id) > 64:
        raise InvalidInput("receipt_id is required (at most 64 characters)", code="invalid_receipt_id")
    if amount is None and not visit:
        raise InvalidInput("Give an amount, or visit: true", code="nothing_to_award")
    claim = _claim_for(session, actor.store_id, receipt_id)
    if claim is None:
        _refuse_awarded_receipt(session, actor.store_id, receipt_id)
        created = session.execute(
            insert_for(session)(ClaimCode)
            .values(
                code="".join(secrets.choice(ALPHABET) for _ in range(8)),
                store_id=actor.store_id,
                receipt_id=receipt_id,
                amount=amount,
                visit=visit,
                actor_kind=actor.kind,
                staff_id=actor.staff_id,
                api_key_id=actor.api_key_id,
                created_at=now,
                expires_at=now + ttl,
            )
            .on_conflict_do_nothing(index_elements=["store_id", "receipt_id"])
            .returning(ClaimCode.id)
        ).scalar()
        claim = _claim_for(session, actor.store_id, receipt_id)
        assert claim is not None
        if created is not None:
            return IssuedClaim(claim, replayed=False)
    # made earlier, or by a twin request a moment ago: the answer only to the same purchase
    if not same_purchase(claim.amount, claim.visit, amount, visit):
        raise Conflict(
            "This receipt already has a claim code for another amount or visit", code="receipt_already_has_claim",
            details=purchase_details(claim.amount, claim.visit),
        )
    return IssuedClaim(claim, replayed=True)


def _claim_for(session: Session, store_id: int, receipt_id: str) -> ClaimCode | None:
    return session.scalars(
        select(ClaimCode).where(ClaimCode.store_id == store_id, ClaimCode.receipt_id == receipt_id)
    ).one_or_none()


def _refuse_awarded_receipt(session: Session, store_id: int, receipt_id: str) -> None:
    """A receipt awarded at the counter: its code would only ever replay that award (to the same
    member) or be refused (to anyone else), so the cashier is told now instead."""
    awarded = session.scalars(select(Award).where(Award.store_id == store_id, Award.receipt_id == receipt_id)).one_or_none()
    if awarded is not None:
        raise Conflict(
            "This receipt was already awarded at the counter", code="receipt_already_awarded",
            details=purchase_details(awarded.amount, awarded.visit),
        )


def redeem_claim(session: Session, *, raw_code: str, member: Member, now: datetime) -> ClaimResult:
    """Award the claim's purchase to the member, once; the code is then used up."""
    code = normalise_code(raw_code)
    claim = session.scalars(select(ClaimCode).where(ClaimCode.code == code).with_for_update()).one_or_none()
    if claim is None:
        raise ClaimError("Unknown claim code", code="claim_unknown")
    if claim.claimed_at is not None:
        if claim.member_id == member.id:
            raise ClaimError("You already collected this receipt", code="claim_already_yours")
        raise ClaimError("This code was already used", code="claim_used")
    if claim.expires_at <= now:
        raise ClaimError("This code has expired", code="claim_expired")
    actor = Actor(store_id=claim.store_id, kind="member", staff_id=claim.staff_id, api_key_id=claim.api_key_id)
    result = checkout(
        session, member=member, receipt_id=claim.receipt_id, amount=claim.amount, visit=claim.visit, actor=actor, now=now
    )
    claim.claimed_at, claim.member_id = now, member.id
    session.flush()
    return ClaimResult(code=code, store_id=claim.store_id, checkout=result)
