"""Member card QR tokens: signed, short-lived, so a screenshot is useless minutes later.

Pure functions over itsdangerous' TimestampSigner; the clock is passed in.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Sequence

from itsdangerous import BadSignature, SignatureExpired, TimestampSigner
from sqlalchemy import Select, bindparam, func, select
from sqlalchemy.orm import Session

from models.base import txn_cache
from models.errors import DomainError
from models.member import Member

SALT = "member-card-qr"


class CardTokenError(DomainError):
    status = 400


class _ClockSigner(TimestampSigner):
    def __init__(self, secret: str, now: datetime) -> None:
        super().__init__(secret, salt=SALT)
        self._now = int(now.timestamp())

    def get_timestamp(self) -> int:
        return self._now


def issue_card_token(secret: str, member_no: str, *, now: datetime) -> str:
    return _ClockSigner(secret, now).sign(member_no).decode()


def read_card_token(secret: str, token: str, *, now: datetime, max_age: int) -> str:
    """The member number inside a valid token; a clear error code otherwise."""
    signer = _ClockSigner(secret, now)
    try:
        value, issued = signer.unsign(token, max_age=max_age, return_timestamp=True)
    except SignatureExpired as exc:
        raise CardTokenError("This QR code has expired; ask the member to refresh it", code="token_expired") from exc
    except BadSignature as exc:
        raise CardTokenError("This QR code is not a valid member card", code="token_invalid") from exc
    if int(issued.timestamp()) > int(now.timestamp()) + 60:
        raise CardTokenError("This QR code is not a valid member card", code="token_invalid")
    return value.decode()


def token_expires_in(secret: str, token: str, *, now: datetime, max_age: int) -> int:
    """Seconds left for a valid token (for the QR image's cache lifetime)."""
    signer = _ClockSigner(secret, now)
    _, issued = signer.unsign(token, max_age=max_age, return_timestamp=True)
    return max(0, int(issued.timestamp()) + max_age - int(now.timestamp()))


@dataclass(frozen=True)
class CardSummary:
    """What the member card shows beside the QR; tiers and the ledger fill it in."""

    tier_name: str | None
    points: int
    stamps: int


def card_summary(session: Session, member: Member) -> CardSummary:
    """The tier's name and both balances in one statement: 會員卡 is the most frequent request
    of all, and this saves it two round trips and loading every tier.

    The tier is the member's, or the first by rank when they have none (as
    ``models.tier.current_tier``); each balance is the sum of the member's ledger entries.
    When the webhook already read them with the event's claim (``prefetch``), no query runs.
    """
    from models.ledger import CURRENCIES, remember_balances

    tier_id, prefetched = txn_cache(session).get(PREFETCH_KEY, {}).get(member.id, (None, None))
    if prefetched is not None and tier_id == member.tier_id:
        return prefetched
    row = session.execute(_summary_statement(), {"member_id": member.id, "tier_id": member.tier_id}).one()
    both = {c: int(v) for c, v in zip(CURRENCIES, row[1:])}
    remember_balances(session, member.id, both)
    return CardSummary(tier_name=row[0], points=both["point"], stamps=both["stamp"])


PREFETCH_KEY = "card_summary"


def summary_columns(member_id: Any, tier_id: Any) -> list[Any]:
    """The card's figures as column expressions: the tier's name, then each currency's balance,
    for a member id and tier id (bound parameters, or columns of a member row in the same query)."""
    from models.ledger import CURRENCIES, LedgerEntry
    from models.tier import Tier

    tier_name = select(Tier.name).order_by((Tier.id == tier_id).desc(), Tier.rank).limit(1).scalar_subquery()
    totals = [
        select(func.coalesce(func.sum(LedgerEntry.amount), 0))
        .where(LedgerEntry.member_id == member_id, LedgerEntry.currency == currency)
        .scalar_subquery()
        for currency in CURRENCIES
    ]
    return [tier_name, *totals]


def prefetch(session: Session, member: Member, values: Sequence[Any]) -> None:
    """Keep figures read in another statement (``summary_columns``) for this transaction's card.

    They are for display only and never become the ledger's balances: read in the statement
    that locked the member, they are as of its start, so they may miss an award that committed
    while it waited for the lock (the card then shows the moment just before it). Any ledger
    entry this transaction adds drops them (models.ledger.add_entry)."""
    from models.ledger import CURRENCIES

    both = {c: int(v) for c, v in zip(CURRENCIES, values[1:])}
    summary = CardSummary(tier_name=values[0], points=both["point"], stamps=both["stamp"])
    txn_cache(session).setdefault(PREFETCH_KEY, {})[member.id] = (member.tier_id, summary)


@functools.cache
def _summary_statement() -> Select:
    """Built once: constructing it cost more than running it."""
    return select(*summary_columns(bindparam("member_id"), bindparam("tier_id")))
