"""A member's own changes to their profile in chat: phone, gender, and the birthday once.

The birthday may be given when it is missing, and changed once ever (``birthday_changed_at``):
birthday coupons depend on it, so it is not a dial to turn every month."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy.orm import Session

from models.errors import Conflict, InvalidInput
from models.member import Member, normalise_phone

GENDERS = ("male", "female", "other")


def may_change_birthday(member: Member) -> bool:
    return member.birthday_on is None or member.birthday_changed_at is None


def change_phone(session: Session, member: Member, *, phone: str | None, now: datetime) -> Member:
    """A new mobile number (validated), or None to remove it."""
    if phone is not None:
        normal = normalise_phone(phone)
        if normal is None:
            raise InvalidInput("A Taiwan mobile number: 09 and 8 digits", code="invalid_phone", details={"field": "phone"})
        phone = normal
    member.phone = phone
    session.flush()
    return member


def change_gender(session: Session, member: Member, *, gender: str | None, now: datetime) -> Member:
    if gender is not None and gender not in GENDERS:
        raise InvalidInput(f"gender is one of {', '.join(GENDERS)}", code="invalid_gender", details={"field": "gender"})
    member.gender = gender
    session.flush()
    return member


def change_birthday(session: Session, member: Member, *, birthday_on: date, now: datetime, today: date) -> Member:
    """Give a missing birthday, or change it the one time allowed (recorded); ``today``: the Taipei day."""
    if not date(1900, 1, 1) <= birthday_on <= today:
        raise InvalidInput("A birthday between 1900-01-01 and today", code="invalid_birthday", details={"field": "birthday_on"})
    if member.birthday_on == birthday_on:
        return member  # the same date again (a redelivered answer): nothing changes, nothing is used up
    if not may_change_birthday(member):
        raise Conflict("The birthday was already changed once", code="birthday_change_used")
    if member.birthday_on is not None:
        member.birthday_changed_at = now
    member.birthday_on = birthday_on
    session.flush()
    return member
