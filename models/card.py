"""Member card QR tokens: signed, short-lived, so a screenshot is useless minutes later.

Pure functions over itsdangerous' TimestampSigner; the clock is passed in.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from itsdangerous import BadSignature, SignatureExpired, TimestampSigner

from sqlalchemy.orm import Session

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
    from models.ledger import balances
    from models.tier import current_tier

    tier = current_tier(session, member)
    both = balances(session, member.id)
    return CardSummary(tier_name=tier.name if tier else None, points=both["point"], stamps=both["stamp"])
