"""Expiry: what is left of earnings past their due date leaves the balance as one ledger entry.

Split from models.ledger, whose entries and locks it uses; the daily job (bot/cli/jobs.py) runs it.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from models.ledger import CURRENCIES, LedgerEntry, add_entry, lock_member


def expire_due(session: Session, *, member_id: int, currency: str, now: datetime) -> int:
    """Expire what is left of earnings past their due date under the current rule, as one entry.

    An earning (any positive entry) is due once it is older than the rule's current period for
    its currency: a period changed later moves the due date of earnings made before it too (the
    ``expires_at`` written on an entry is only the date under the rule of its day), and without a
    period nothing is due. Replaying the ledger FIFO, every debit (spending, card rewards,
    negative corrections, earlier expiries) took the oldest earnings first, so what is left of
    the balance is its newest units: the earnings made since the cutoff hold at most their sum of
    it, and the rest is exactly what is left of the due ones. A second run finds nothing.
    """
    lock_member(session, member_id)
    days = _current_period(session, currency)
    if days is None:
        return 0
    due = _left_in_due_earnings(session, member_id, currency, cutoff=now - timedelta(days=days))
    if due <= 0:
        return 0
    add_entry(session, member_id=member_id, currency=currency, amount=-due, reason="expire", actor=None, now=now)
    session.flush()
    return due


def _current_period(session: Session, currency: str) -> int | None:
    """Days an earning of ``currency`` lives under the brand's rule now (None, or 0: forever)."""
    from models.rule import get_rule

    rule = get_rule(session)
    return (rule.stamp_expiry_days if currency == "stamp" else rule.point_expiry_days) or None


def _earned_since(cutoff: datetime):  # type: ignore[no-untyped-def]
    """SUM of the earnings made after ``cutoff`` (the ones not yet due), for a grouped query."""
    recent = and_(LedgerEntry.amount > 0, LedgerEntry.created_at > cutoff)
    return func.coalesce(func.sum(case((recent, LedgerEntry.amount), else_=0)), 0)


def _left_in_due_earnings(session: Session, member_id: int, currency: str, *, cutoff: datetime) -> int:
    have, recent = session.execute(
        select(func.coalesce(func.sum(LedgerEntry.amount), 0), _earned_since(cutoff)).where(
            LedgerEntry.member_id == member_id, LedgerEntry.currency == currency
        )
    ).one()
    return int(have or 0) - int(recent or 0)


def members_with_due_lots(session: Session, now: datetime) -> list[tuple[int, str]]:
    """(member, currency) with something due under the current rule: what expire_due would take."""
    found: list[tuple[int, str]] = []
    for currency in CURRENCIES:
        days = _current_period(session, currency)
        if days is None:
            continue
        rows = session.scalars(
            select(LedgerEntry.member_id)
            .where(LedgerEntry.currency == currency)
            .group_by(LedgerEntry.member_id)
            .having(func.sum(LedgerEntry.amount) > _earned_since(now - timedelta(days=days)))
            .order_by(LedgerEntry.member_id)
        )
        found += [(member_id, currency) for member_id in rows]
    return found
