"""Large balance corrections wait for a second manager's approval.

A correction up to the approval threshold (per currency, CORRECTION_APPROVAL_STAMPS / _POINTS) is a
ledger entry at once, as before. A larger one is a pending ``correction_request``; another manager of
the same store (at the counter) or a console owner (in the office) approves it, which writes the
ledger entry in the same transaction, or rejects it. A request is decided once: the decision takes a
row lock on the request, so two approvals at the same moment make one entry. A request older than
the approval window (CORRECTION_APPROVAL_HOURS) can no longer be approved. Every step, and every
correction applied directly, is an admin audit row (who, store, member, delta, reason).

    submit ──(|amount| ≤ threshold)──> ledger entry                       audit: correction.applied
       └────(|amount| > threshold)───> request: pending                   audit: correction.requested
                                          ├─ approve (someone else) ─> approved + ledger entry
                                          ├─ reject (someone else) ──> rejected
                                          └─ too old to decide ──────> expired
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Mapping

from sqlalchemy import ForeignKey, Index, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from models import admin
from models.base import BigInt, Base, IntPK, Timestamp
from models.errors import Conflict, NotFound
from models.ledger import InsufficientBalance, LedgerEntry, balance, check_correction, correct
from models.member import Member
from models.rule import EarningRule
from models.store import Actor, Forbidden, Store

STATUSES = ("pending", "approved", "rejected", "expired")


class CorrectionRequest(Base):
    __tablename__ = "correction_request"
    __table_args__ = (Index("ix_correction_request_status_store", "status", "store_id"),)

    id: Mapped[IntPK]
    store_id: Mapped[int | None] = mapped_column(ForeignKey("store.id"))  # None: asked for in the console
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id"), index=True)
    currency: Mapped[str] = mapped_column(String(8))  # stamp | point
    amount: Mapped[int] = mapped_column(BigInt)  # the delta: added when positive, taken off when negative
    reason: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16))  # pending | approved | rejected | expired
    requested_by: Mapped[str] = mapped_column(String(160))  # as the audit log names them
    requester_key: Mapped[str] = mapped_column(String(64))  # one person, whichever sign-in: staff:<id>, user:<id>, token:<id>, root
    requester_name: Mapped[str] = mapped_column(String(120))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))  # the requester at the counter: the entry's staff
    created_at: Mapped[Timestamp]
    decided_by: Mapped[str | None] = mapped_column(String(160))
    decider_name: Mapped[str | None] = mapped_column(String(120))
    decided_at: Mapped[Timestamp | None]
    decision_note: Mapped[str | None] = mapped_column(String(200))
    ledger_entry_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_entry.id"))


class CorrectionExpired(Conflict):
    code = "correction_expired"


@dataclass(frozen=True)
class Person:
    """Who asks for or decides a correction. ``key`` is the same for one person on every device and
    sign-in (a staff account, a console user), so nobody approves their own request."""

    key: str  # staff:<id> | user:<admin user id> | token:<id> | root
    label: str  # as the audit log names them
    name: str  # shown to people
    actor: Actor  # for the ledger; store_id None: the office (console), which sees every store

    @property
    def in_office(self) -> bool:
        return self.actor.store_id is None


@dataclass(frozen=True)
class Submitted:
    """A correction applied now (``entry``), or waiting for approval (``request``)."""

    entry: LedgerEntry | None = None
    request: CorrectionRequest | None = None


def submit_correction(session: Session, *, member: Member, currency: str, amount: int, note: str, by: Person, now: datetime,
                      rule: EarningRule, approval_over: Mapping[str, int]) -> Submitted:
    """Apply a correction, or ask for approval when it moves more than ``approval_over[currency]``.
    A negative one past the balance is refused now rather than left waiting for a refusal later."""
    check_correction(by.actor, currency=currency, amount=amount, note=note)
    if abs(amount) <= approval_over[currency]:
        entry = correct(session, member_id=member.id, currency=currency, amount=amount, note=note, actor=by.actor, now=now, rule=rule)
        _audit(session, "correction.applied", by, member=member, store_id=by.actor.store_id, currency=currency, amount=amount,
               reason=note.strip(), now=now, entry_id=entry.id)
        return Submitted(entry=entry)
    have = balance(session, member.id, currency)
    if amount < 0 and have < -amount:
        raise InsufficientBalance(f"Balance {have} is less than {-amount}", details={"balance": have, "needed": -amount, "currency": currency})
    request = CorrectionRequest(
        store_id=by.actor.store_id, member_id=member.id, currency=currency, amount=amount, reason=note.strip(), status="pending",
        requested_by=by.label[:160], requester_key=by.key[:64], requester_name=by.name[:120], staff_id=by.actor.staff_id, created_at=now,
    )
    session.add(request)
    session.flush()
    _audit(session, "correction.requested", by, member=member, store_id=request.store_id, currency=currency, amount=amount,
           reason=request.reason, now=now, request_id=request.id, threshold=approval_over[currency])
    return Submitted(request=request)


def approve_correction(session: Session, *, request_id: int, by: Person, now: datetime, valid_for: timedelta,
                       rule: EarningRule) -> CorrectionRequest:
    """Apply a pending request exactly once: under the request's row lock, in the caller's transaction.
    Not one's own; at the counter only a manager of the request's store. Past ``valid_for`` it is
    marked expired (flushed: the caller commits that) and refused; a balance it would take below
    zero is refused (insufficient_balance) and the request stays pending."""
    request = _decidable(session, request_id, by, now, valid_for)
    actor = Actor(store_id=request.store_id, kind="staff" if request.staff_id else "admin", staff_id=request.staff_id, role="manager")  # type: ignore[arg-type]
    entry = correct(session, member_id=request.member_id, currency=request.currency, amount=request.amount, note=request.reason,
                    actor=actor, now=now, rule=rule)
    _decide(request, "approved", by, now)
    request.ledger_entry_id = entry.id
    session.flush()
    _audit(session, "correction.approved", by, member=session.get(Member, request.member_id), store_id=request.store_id,
           currency=request.currency, amount=request.amount, reason=request.reason, now=now, request_id=request.id,
           entry_id=entry.id, requested_by=request.requested_by)
    return request


def reject_correction(session: Session, *, request_id: int, by: Person, now: datetime, valid_for: timedelta,
                      note: str | None = None) -> CorrectionRequest:
    """Close a pending request without touching the ledger (same rules as approving)."""
    request = _decidable(session, request_id, by, now, valid_for)
    _decide(request, "rejected", by, now)
    request.decision_note = (note or "").strip()[:200] or None
    session.flush()
    _audit(session, "correction.rejected", by, member=session.get(Member, request.member_id), store_id=request.store_id,
           currency=request.currency, amount=request.amount, reason=request.reason, now=now, request_id=request.id,
           requested_by=request.requested_by, note=request.decision_note)
    return request


def list_requests(session: Session, *, store_id: int | None, now: datetime, valid_for: timedelta, status: str = "pending",
                  limit: int = 100) -> list[CorrectionRequest]:
    """Newest first; ``store_id`` None: every store and the office. ``pending`` means still decidable
    (older pending requests show as expired)."""
    query = select(CorrectionRequest).order_by(CorrectionRequest.id.desc()).limit(limit)
    if store_id is not None:
        query = query.where(CorrectionRequest.store_id == store_id)
    if status == "pending":
        query = query.where(CorrectionRequest.status == "pending", CorrectionRequest.created_at > now - valid_for)
    elif status == "expired":
        query = query.where((CorrectionRequest.status == "expired")
                            | ((CorrectionRequest.status == "pending") & (CorrectionRequest.created_at <= now - valid_for)))
    elif status != "all":
        query = query.where(CorrectionRequest.status == status)
    return list(session.scalars(query))


def status_of(request: CorrectionRequest, now: datetime, valid_for: timedelta) -> str:
    """The status as the people deciding see it: a pending request past the window is expired."""
    if request.status == "pending" and now >= request.created_at + valid_for:
        return "expired"
    return request.status


def expire_requests(session: Session, *, now: datetime, valid_for: timedelta) -> int:
    """Mark pending requests past the window expired (the daily run), each with its audit row."""
    stale = list(session.scalars(select(CorrectionRequest).where(
        CorrectionRequest.status == "pending", CorrectionRequest.created_at <= now - valid_for).with_for_update(skip_locked=True)))
    system = Person(key="system", label="system", name="system", actor=Actor(store_id=None, kind="system"))  # type: ignore[arg-type]
    for request in stale:
        request.status, request.decided_at = "expired", now
        _audit(session, "correction.expired", system, member=session.get(Member, request.member_id), store_id=request.store_id,
               currency=request.currency, amount=request.amount, reason=request.reason, now=now, request_id=request.id)
    session.flush()
    return len(stale)


# --- internals -------------------------------------------------------------------------------

def _decidable(session: Session, request_id: int, by: Person, now: datetime, valid_for: timedelta) -> CorrectionRequest:
    if not by.actor.is_manager:
        raise Forbidden("Only a manager can approve or reject corrections", code="manager_only")
    request = session.scalars(select(CorrectionRequest).where(CorrectionRequest.id == request_id).with_for_update()).one_or_none()
    if request is None or (not by.in_office and request.store_id != by.actor.store_id):
        raise NotFound(f"No correction request {request_id}", code="correction_not_found")
    if request.status != "pending":
        raise Conflict(f"This request was already {request.status}", code="correction_already_decided",
                       details={"status": request.status, "decided_by": request.decider_name})
    if request.requester_key == by.key:
        raise Forbidden("Another manager must approve or reject your own request", code="own_correction")
    if now >= request.created_at + valid_for:
        request.status, request.decided_at = "expired", now
        session.flush()
        _audit(session, "correction.expired", by, member=session.get(Member, request.member_id), store_id=request.store_id,
               currency=request.currency, amount=request.amount, reason=request.reason, now=now, request_id=request.id)
        raise CorrectionExpired(f"Requests can be decided for {valid_for.total_seconds() / 3600:g} hours; ask again",
                                details={"requested_at": request.created_at.isoformat(), "hours": valid_for.total_seconds() / 3600})
    return request


def _decide(request: CorrectionRequest, status: str, by: Person, now: datetime) -> None:
    request.status, request.decided_at = status, now
    request.decided_by, request.decider_name = by.label[:160], by.name[:120]


def _audit(session: Session, action: str, by: Person, *, member: Member | None, store_id: int | None, currency: str, amount: int,
           reason: str, now: datetime, **more: Any) -> None:
    store = session.get(Store, store_id) if store_id is not None else None
    details = {"store": store.code if store else None, "member": member.member_no if member else None, "currency": currency,
               "delta": amount, "reason": reason, **more}
    admin.record(session, actor=by.label, action=action, details=details, now=now)
