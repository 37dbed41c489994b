"""Receipt claim codes: a one-time code printed on a receipt; the member sends it in chat to collect."""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import Boolean, ForeignKey, Numeric, String, UniqueConstraint, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from models.base import Base, IntPK, Timestamp, insert_for
from models.errors import DomainError, InvalidInput
from models.checkout import Checkout, checkout
from models.ledger import AwardResult
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
) -> ClaimCode:
    receipt_id = (receipt_id or "").strip()
    if not receipt_id or len(receipt_id) > 64:
        raise InvalidInput("receipt_id is required (at most 64 characters)", code="invalid_receipt_id")
    if amount is None and not visit:
        raise InvalidInput("Give an amount, or visit: true", code="nothing_to_award")
    session.execute(
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
    )
    # One receipt, one code: a retried or doubled request gets the same code.
    return session.scalars(
        select(ClaimCode).where(ClaimCode.store_id == actor.store_id, ClaimCode.receipt_id == receipt_id)
    ).one()


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
