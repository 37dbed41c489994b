"""Receipt claim codes: a one-time code printed on a receipt; the member sends it in chat to collect."""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Numeric, String, UniqueConstraint, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from models.base import Base, IntPK, Timestamp, insert_for
from models.errors import Conflict, DomainError
from models.checkout import Checkout, checkout
from models.items import Line, lines_from_json, lines_json, same_items
from models.ledger import Award, AwardResult, check_purchase, lock_member, purchase_details, same_purchase
from models.member import Member
from models.store import Actor

ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I
DEFAULT_TTL = timedelta(days=3)
IN_CHAT = "member"  # the actor kind of an award collected with a code (any other: made at the counter)


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
    # the receipt's line items as sent (models.items.lines_json), stored with the award the code
    # makes; null: none were sent
    items: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON(none_as_null=True))


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
    session: Session, *, receipt_id: str, amount: Decimal | None, visit: bool, actor: Actor, now: datetime, ttl: timedelta = DEFAULT_TTL,
    items: list[Line] | None = None,
) -> IssuedClaim:
    """One code per (store, receipt), as awards are one per (store, receipt): the same purchase sent
    again (amount, visit and line items) is a retry and gets the original code; another purchase under the same
    receipt id is refused (``receipt_already_has_claim``). A receipt already awarded at the counter
    gets no code (``receipt_already_awarded``): it could never award anything. Nor does a purchase
    no award would take (``models.ledger.check_purchase``: ``invalid_amount`` above the limit, …)."""
    receipt_id = check_purchase(receipt_id, amount, visit)
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
                items=lines_json(items),
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
    _refuse_other_purchase(claim, amount, visit, items)
    return IssuedClaim(claim, replayed=True)


def award_at_counter(
    session: Session, *, member: Member, receipt_id: str, amount: Decimal | None, visit: bool, actor: Actor, now: datetime,
    items: list[Line] | None = None,
) -> Checkout:
    """A purchase awarded at the counter (the member's card scanned). A code printed for the same
    receipt and still open is used up by this award: it can then neither award the receipt again nor
    replay this award, and whoever scans it is told the receipt was awarded at the counter
    (``redeem_claim``). An award for another purchase than the open code's is refused
    (``receipt_already_has_claim``), as a code for another purchase than an award's is.

    With an open code, the locks are taken in the order a claim sent in chat takes them (the
    member's row, the code's row, then the award's receipt), so the two at the same moment wait
    for each other rather than deadlock: the first awards, the second finds it done."""
    receipt_id = check_purchase(receipt_id, amount, visit)
    claim = _claim_for(session, actor.store_id, receipt_id)
    if claim is not None and claim.claimed_at is None:
        lock_member(session, member.id)
        claim = _claim_for(session, actor.store_id, receipt_id, lock=True)
        if claim is not None and claim.claimed_at is None:  # still open, and ours until commit
            _refuse_other_purchase(claim, amount, visit, items)
            claim.claimed_at, claim.member_id = now, member.id
    return checkout(session, member=member, receipt_id=receipt_id, amount=amount, visit=visit, actor=actor, now=now, items=items)


def _refuse_other_purchase(claim: ClaimCode, amount: Decimal | None, visit: bool, items: list[Line] | None) -> None:
    if not same_purchase(claim.amount, claim.visit, amount, visit):
        raise Conflict(
            "This receipt already has a claim code for another amount or visit", code="receipt_already_has_claim",
            details=purchase_details(claim.amount, claim.visit),
        )
    if not same_items(lines_from_json(claim.items), items):
        raise Conflict("This receipt already has a claim code for other items", code="receipt_already_has_claim",
                       details={**purchase_details(claim.amount, claim.visit), "items": "differ"})


def _claim_for(session: Session, store_id: int, receipt_id: str, *, lock: bool = False) -> ClaimCode | None:
    query = select(ClaimCode).where(ClaimCode.store_id == store_id, ClaimCode.receipt_id == receipt_id)
    if lock:  # the row as the transaction that held it left it
        query = query.with_for_update().execution_options(populate_existing=True)
    return session.scalars(query).one_or_none()


def _award_for(session: Session, store_id: int, receipt_id: str) -> Award | None:
    return session.scalars(select(Award).where(Award.store_id == store_id, Award.receipt_id == receipt_id)).one_or_none()


def _refuse_awarded_receipt(session: Session, store_id: int, receipt_id: str) -> None:
    """A receipt awarded at the counter: its code would only ever replay that award (to the same
    member) or be refused (to anyone else), so the cashier is told now instead."""
    awarded = _award_for(session, store_id, receipt_id)
    if awarded is not None:
        raise Conflict(
            "This receipt was already awarded at the counter", code="receipt_already_awarded",
            details=purchase_details(awarded.amount, awarded.visit),
        )


def redeem_claim(session: Session, *, raw_code: str, member: Member, now: datetime) -> ClaimResult:
    """Award the claim's purchase to the member, once; the code is then used up. A receipt awarded
    at the counter is never awarded again nor its award replayed: the member is told it was
    (``claim_awarded_at_counter``, or ``claim_awarded_at_counter_yours`` to the member it went to)."""
    code = normalise_code(raw_code)
    claim = session.scalars(select(ClaimCode).where(ClaimCode.code == code).with_for_update()).one_or_none()
    if claim is None:
        raise ClaimError("Unknown claim code", code="claim_unknown")
    if claim.claimed_at is not None:
        raise _collected(session, claim, member)
    if claim.expires_at <= now:
        raise ClaimError("This code has expired", code="claim_expired")
    actor = Actor(store_id=claim.store_id, kind=IN_CHAT, staff_id=claim.staff_id, api_key_id=claim.api_key_id, identified_by="claim_code")
    try:
        result = checkout(
            session, member=member, receipt_id=claim.receipt_id, amount=claim.amount, visit=claim.visit, actor=actor, now=now,
            items=lines_from_json(claim.items),
        )
    except Conflict as err:  # awarded at the counter while the code stayed open (made by an older
        if err.code != "receipt_already_awarded":  # release, or at the very moment of the award)
            raise
        raise _collected(session, claim, member) from err
    if result.award.replayed:  # the same: the counter's award to this member, which a code must not replay
        raise _collected(session, claim, member)
    claim.claimed_at, claim.member_id = now, member.id
    session.flush()
    return ClaimResult(code=code, store_id=claim.store_id, checkout=result)


def _collected(session: Session, claim: ClaimCode, member: Member) -> ClaimError:
    """Why the claim's receipt cannot be collected: it was, with this code or at the counter, by this
    member or by another."""
    awarded = _award_for(session, claim.store_id, claim.receipt_id)
    owner = awarded.member_id if awarded is not None else claim.member_id
    if awarded is not None and awarded.actor_kind != IN_CHAT:
        if owner == member.id:
            return ClaimError("This receipt was awarded to you at the counter", code="claim_awarded_at_counter_yours")
        return ClaimError("This receipt was awarded at the counter", code="claim_awarded_at_counter")
    if owner == member.id:
        return ClaimError("You already collected this receipt", code="claim_already_yours")
    return ClaimError("This code was already used", code="claim_used")
