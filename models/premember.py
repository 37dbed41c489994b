"""Members by phone at the counter, and pre-members: customers who collect before they are in LINE.

A pre-member is a ``member`` row with a placeholder LINE user id (``pre:…``, never a real one: LINE
ids start with U), unreachable, with a member number and a ledger of its own, and a ``premember``
row holding its phone (unique while it waits) and the hash of its claim code. The cashier shows or
prints the claim code; the phone alone claims nothing.

    cashier: POST /premembers {phone} ─► pre-member + claim code (again: a new code, the old one void)
    awards by phone / member number ───► the pre-member's ledger (spending waits until they join)
    join in LINE ─► phone step ─► phone is another LINE member's ─► refused (join_phone_in_use)
                               └► phone is a pre-member's ─► claim step ─► right code ─► merged at join
                                                                       ├► wrong code (5 an hour per pre-member)
                                                                       └► skip: joins without it

The merge runs in the joining event's transaction under both rows' locks (the joiner's, taken by
the event, then the pre-member's): every ledger entry, award (with its line items), coupon, card reward, redemption and
tier change is re-pointed to the joiner, the better tier is kept, and the pre-member row loses
``joined_at`` (not its placeholder id: updating a unique column would wait for the KEY SHARE locks
of awards being inserted for it, which wait for our lock: a deadlock): a lock on it afterwards refuses (``member_merged``, models.ledger.lock_member), so an
award racing the merge is either merged or refused and retried on the member, never lost; its member
number then names the joiner (models.member.get_by_member_no).
"""
from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, select, update, delete
from sqlalchemy.orm import Mapped, Session, mapped_column

from models.base import Base, IntPK, Timestamp, TXN_KEY, add_unique
from models.errors import Conflict, InvalidInput, NotFound
from models.member import PREMEMBER_PREFIX, Member, normalise_phone, random_member_no
from models.store import Actor

CLAIM_DIGITS = 8


class Premember(Base):
    __tablename__ = "premember"

    member_id: Mapped[int] = mapped_column(ForeignKey("member.id"), primary_key=True, autoincrement=False)
    phone: Mapped[str | None] = mapped_column(String(16), unique=True)  # NULL once merged
    claim_code_hash: Mapped[str | None] = mapped_column(String(64))
    store_id: Mapped[int] = mapped_column(ForeignKey("store.id"))
    created_at: Mapped[Timestamp]
    code_issued_at: Mapped[Timestamp]
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("member.id"), index=True)
    merged_at: Mapped[Timestamp | None]


class PhoneLookup(Base):
    """One row per look-up by phone at the counter (and per pre-member made): who, where, what came
    of it. The phone is kept only masked (0912****78) and as a keyed hash (the app's secret), so the
    table can answer "who looked this number up" without holding the numbers."""

    __tablename__ = "phone_lookup"

    id: Mapped[IntPK]
    store_id: Mapped[int] = mapped_column(ForeignKey("store.id"), index=True)
    actor_kind: Mapped[str] = mapped_column(String(16))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    api_key_id: Mapped[int | None] = mapped_column(ForeignKey("api_key.id"))
    phone_hash: Mapped[str] = mapped_column(String(64), index=True)
    phone_masked: Mapped[str] = mapped_column(String(16))
    purpose: Mapped[str] = mapped_column(String(16))  # lookup | premember
    outcome: Mapped[str] = mapped_column(String(24))  # found | member_not_found | phone_ambiguous | created | reissued | phone_in_use
    member_id: Mapped[int | None] = mapped_column(ForeignKey("member.id"))
    at: Mapped[Timestamp]


def mask_phone(phone: str) -> str:
    return phone[:4] + "*" * (len(phone) - 6) + phone[-2:]


def phone_hash(secret: str, phone: str) -> str:
    return hmac.new(secret.encode(), f"phone:{phone}".encode(), hashlib.sha256).hexdigest()


def _code_hash(member_id: int, code: str) -> str:
    return hashlib.sha256(f"premember-claim:{member_id}:{code}".encode()).hexdigest()


def format_claim(code: str) -> str:
    return f"{code[:4]}-{code[4:]}"


def clean_claim(raw: str) -> str:
    """The digits of a typed code (``1234-5678``, ``認領碼 1234 5678``, full-width digits too)."""
    return "".join(ch for ch in raw or "" if ch.isdigit() and ch.isascii() or ch in "０１２３４５６７８９").translate(
        str.maketrans("０１２３４５６７８９", "0123456789"))


def _holders(session: Session, phone: str) -> list[Member]:
    """Members who answer to this phone: joined LINE members and waiting pre-members."""
    return list(session.scalars(select(Member).where(Member.phone == phone, Member.joined_at.is_not(None)).order_by(Member.id)))


def line_holder(session: Session, phone: str, *, other_than: int | None = None) -> Member | None:
    """A joined LINE member (not a pre-member) who gave this phone."""
    for m in _holders(session, phone):
        if m.in_line and m.id != other_than:
            return m
    return None


def waiting_premember(session: Session, phone: str) -> Premember | None:
    return session.scalars(select(Premember).where(Premember.phone == phone, Premember.merged_into_id.is_(None))).one_or_none()


def _audit(session: Session, *, actor: Actor, phone: str, secret: str, purpose: str, outcome: str, member_id: int | None, now: datetime) -> None:
    session.add(PhoneLookup(store_id=actor.store_id, actor_kind=actor.kind, staff_id=actor.staff_id, api_key_id=actor.api_key_id,
                            phone_hash=phone_hash(secret, phone), phone_masked=mask_phone(phone), purpose=purpose, outcome=outcome,
                            member_id=member_id, at=now))
    session.flush()


def lookup_phone(session: Session, *, phone: str, actor: Actor, secret: str, now: datetime) -> Member:
    """The one member (LINE member or pre-member) with this phone, audited whatever the answer:
    404 member_not_found for none, 409 phone_ambiguous for several (use the card or the number).
    The caller commits even when this refuses, so the audit row stays."""
    holders = _holders(session, phone)
    outcome = "found" if len(holders) == 1 else ("member_not_found" if not holders else "phone_ambiguous")
    _audit(session, actor=actor, phone=phone, secret=secret, purpose="lookup", outcome=outcome,
           member_id=holders[0].id if len(holders) == 1 else None, now=now)
    if not holders:
        raise NotFound("No member has this phone number", code="member_not_found")
    if len(holders) > 1:
        raise Conflict("Several members gave this phone number; scan the card or type the member number",
                       code="phone_ambiguous", details={"matches": len(holders)})
    return holders[0]


@dataclass(frozen=True)
class Issued:
    member: Member
    claim_code: str  # the digits, shown once (only their hash is kept)
    created: bool


def create_premember(session: Session, *, phone: str, actor: Actor, secret: str, now: datetime) -> Issued:
    """A pre-member for this phone with a fresh claim code; for a phone that already has one, a new
    code for it (the old code stops working). Refused (409 phone_in_use) when a LINE member gave
    this phone: they collect in LINE. Two cashiers at once make one pre-member (unique phone)."""
    holder = line_holder(session, phone)
    waiting = waiting_premember(session, phone) if holder is None else None
    outcome = "phone_in_use" if holder else ("reissued" if waiting else "created")
    if holder is None and waiting is None:
        member = Member(line_user_id=PREMEMBER_PREFIX + secrets.token_hex(16), is_reachable=False, followed_at=now, created_at=now,
                        joined_at=now, member_no=random_member_no(session), phone=phone)
        session.add(member)
        session.flush()
        waiting = Premember(member_id=member.id, phone=phone, store_id=actor.store_id, created_at=now, code_issued_at=now)
        try:
            add_unique(session, waiting, Conflict("pre-member raced", code="premember_raced"))
        except Conflict:
            session.expunge(waiting)
            session.delete(member)
            session.flush()
            waiting, outcome = waiting_premember(session, phone), "reissued"
    _audit(session, actor=actor, phone=phone, secret=secret, purpose="premember", outcome=outcome,
           member_id=holder.id if holder else (waiting.member_id if waiting else None), now=now)
    if holder is not None:
        raise Conflict("A member in LINE gave this phone number: scan their card", code="phone_in_use")
    assert waiting is not None
    code = "".join(secrets.choice("0123456789") for _ in range(CLAIM_DIGITS))
    waiting.claim_code_hash, waiting.code_issued_at = _code_hash(waiting.member_id, code), now
    session.flush()
    return Issued(member=session.get(Member, waiting.member_id), claim_code=code, created=outcome == "created")  # type: ignore[arg-type]


def check_claim(session: Session, premember: Premember, code: str) -> bool:
    code = clean_claim(code)
    if not re.fullmatch(rf"\d{{{CLAIM_DIGITS}}}", code) or premember.claim_code_hash is None:
        return False
    return hmac.compare_digest(premember.claim_code_hash, _code_hash(premember.member_id, code))


@dataclass(frozen=True)
class Merged:
    premember_id: int
    member_no: str | None
    entries: int
    coupons: int


# the tables whose member_id moves from the pre-member to the joiner
def _movable() -> tuple[type[Any], ...]:
    from models.correction import CorrectionRequest
    from models.coupon import Coupon
    from models.ledger import Award, LedgerEntry
    from models.product import AwardItem
    from models.reward import Redemption, RewardGrant
    from models.tier import TierChange
    from models.claim import ClaimCode

    return (LedgerEntry, Award, AwardItem, Coupon, RewardGrant, Redemption, TierChange, CorrectionRequest, ClaimCode)


def merge_premember(session: Session, *, member: Member, premember_id: int, code_hash: str, now: datetime) -> Merged:
    """The pre-member's balances, ledger, tier progress and coupons become ``member``'s, once.

    ``member`` (joining in LINE) is locked by the caller's event; the pre-member's row is locked
    here. Refused, merging nothing: a pre-member already merged (``premember_claimed``), a code
    replaced since it was checked (``claim_code_changed``), a phone another LINE member gave
    (``phone_in_use``), or a joiner who is not in LINE."""
    from models.ledger import lock_member
    from models.segment import MemberStats
    from models.tier import Tier, evaluate_upgrade

    if not member.in_line:
        raise Conflict("Only a member in LINE can take over a pre-member", code="not_in_line")
    try:
        pre = lock_member(session, premember_id)
    except Conflict as exc:
        raise Conflict("This pre-member was already taken over", code="premember_claimed") from exc
    row = session.scalars(select(Premember).where(Premember.member_id == premember_id).with_for_update()
                          .execution_options(populate_existing=True)).one_or_none()
    if row is None or row.merged_into_id is not None or pre.joined_at is None:
        raise Conflict("This pre-member was already taken over", code="premember_claimed")
    if row.claim_code_hash != code_hash:
        raise Conflict("The claim code was replaced; ask the cashier for the new one", code="claim_code_changed")
    if row.phone and line_holder(session, row.phone, other_than=member.id) is not None:
        raise Conflict("Another member in LINE gave this phone number", code="phone_in_use")
    moved = {}
    for model in _movable():
        result = session.execute(update(model).where(model.member_id == premember_id).values(member_id=member.id)
                                 .execution_options(synchronize_session=False))
        moved[model.__tablename__] = result.rowcount or 0
    session.execute(delete(MemberStats).where(MemberStats.member_id == premember_id))
    # the better of the two tiers, then whatever the merged ledger qualifies for
    if pre.tier_id is not None:
        ranks = {t.id: t.rank for t in session.scalars(select(Tier))}
        if member.tier_id is None or ranks.get(pre.tier_id, 0) > ranks.get(member.tier_id, 0):
            member.tier_id, member.tier_since, member.tier_until = pre.tier_id, pre.tier_since, pre.tier_until
    row.merged_into_id, row.merged_at, row.phone, row.claim_code_hash = member.id, now, None, None
    pre.joined_at, pre.phone, pre.tier_id, pre.is_reachable = None, None, None, False
    cache = session.info.get(TXN_KEY, {}).get("balances", {})
    cache.pop(member.id, None)
    cache.pop(premember_id, None)
    movable = _movable()
    for obj in list(session.identity_map.values()):  # loaded rows that moved are re-read
        if isinstance(obj, movable):
            session.expire(obj)
    session.flush()
    evaluate_upgrade(session, member, now)
    return Merged(premember_id=premember_id, member_no=pre.member_no, entries=moved.get("ledger_entry", 0), coupons=moved.get("coupon", 0))


def code_hash_of(premember: Premember) -> str | None:
    return premember.claim_code_hash


def get_premember(session: Session, member_id: int) -> Premember:
    row = session.get(Premember, member_id)
    if row is None:
        raise NotFound("No such pre-member", code="member_not_found")
    return row


def require_phone(raw: object) -> str:
    phone = normalise_phone(raw) if isinstance(raw, str) else None
    if phone is None:
        raise InvalidInput("A Taiwan mobile number: 09xxxxxxxx or +8869xxxxxxxx", code="invalid_phone")
    return phone
