"""Members: LINE friends, and the friends who joined the programme."""
from __future__ import annotations

import re
import secrets
from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, String, bindparam, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from models.base import Base, IntPK, Timestamp, TXN_KEY, txn_cache, insert_for
from models.errors import DomainError, NotFound

MEMBER_NO_BASE = 10_000_000
# The placeholder LINE user id of a pre-member, who collects at the counter before joining in LINE
# (real ids start with U). Taken over by the member who joined with its phone, it keeps the
# placeholder and loses ``joined_at`` (models.premember): a key column is never updated, so the
# take-over does not wait for the KEY SHARE locks of awards being written for it.
PREMEMBER_PREFIX = "pre:"


class Member(Base):
    __tablename__ = "member"

    id: Mapped[IntPK]
    line_user_id: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str | None] = mapped_column(String(120))
    picture_url: Mapped[str | None] = mapped_column(String(1000))
    language: Mapped[str | None] = mapped_column(String(16))
    is_reachable: Mapped[bool] = mapped_column(Boolean, default=True)
    followed_at: Mapped[Timestamp]
    unfollowed_at: Mapped[Timestamp | None]
    member_no: Mapped[str | None] = mapped_column(String(16), unique=True)
    joined_at: Mapped[Timestamp | None]
    birthday_on: Mapped[date | None] = mapped_column(Date)
    birthday_changed_at: Mapped[Timestamp | None]  # the one change a member may make in chat (models.profile)
    phone: Mapped[str | None] = mapped_column(String(16), index=True)
    gender: Mapped[str | None] = mapped_column(String(16))
    terms_version: Mapped[str | None] = mapped_column(String(32))
    consented_at: Mapped[Timestamp | None]
    tier_id: Mapped[int | None] = mapped_column(ForeignKey("tier.id"))
    tier_since: Mapped[Timestamp | None]
    tier_until: Mapped[Timestamp | None]
    # The multi-step conversation the member is in (models.conversation), if any. It lives on the
    # row every event locks, so the lock's read is current (READ COMMITTED re-reads a row updated
    # while it waited) and the many events outside a flow skip reading the conversation table.
    flow: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[Timestamp]
    # Erased at the member's request or by the retention setting (models/privacy.py): personal
    # columns empty, line_user_id a tombstone; the row stays so ledgers and counts add up.
    erased_at: Mapped[Timestamp | None]

    @property
    def is_member(self) -> bool:
        return self.joined_at is not None and self.erased_at is None

    @property
    def is_erased(self) -> bool:
        return self.erased_at is not None

    @property
    def in_line(self) -> bool:
        """A LINE friend (not a pre-member collecting before joining, nor one taken over)."""
        return not self.line_user_id.startswith(PREMEMBER_PREFIX)

    @property
    def is_taken_over(self) -> bool:
        return is_taken_over(self.line_user_id, self.joined_at)


class MemberErased(DomainError):
    """The member's data was erased: nothing can be earned, spent or issued for them any more."""

    code = "member_erased"
    status = 410


def refuse_erased(member: Member) -> Member:
    if member.erased_at is not None:
        raise MemberErased("This member's data was erased at their request; they can join again as a new member")
    return member


class FollowLog(Base):
    """Append-only history of follow / unfollow / refollow (block rate, returning friends)."""

    __tablename__ = "follow_log"

    id: Mapped[IntPK]
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # follow | refollow | unfollow
    at: Mapped[Timestamp]


def is_taken_over(line_user_id: str, joined_at: datetime | None) -> bool:
    """A pre-member whose balances became a joined member's (models.premember.merge_premember)."""
    return joined_at is None and line_user_id.startswith(PREMEMBER_PREFIX)


def normalise_phone(raw: str) -> str | None:
    """A Taiwan mobile number as 09xxxxxxxx; +886 (or 886) and separators accepted; None if it is not one.
    The one rule for every place a phone comes in: joining, the profile, the counter, pre-members."""
    digits = re.sub(r"[\s\-().]", "", raw or "")
    if digits.startswith("+886"):
        digits = "0" + digits[4:]
    elif digits.startswith("886") and len(digits) == 12:
        digits = "0" + digits[3:]
    return digits if re.fullmatch(r"09\d{8}", digits) else None


def luhn_digit(digits: str) -> str:
    """Check digit so a mistyped member number is rejected, not matched to someone else."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


def member_no_for(member_id: int) -> str:
    """The sequential number members who joined before random numbers keep (and benchmarks use)."""
    base = str(MEMBER_NO_BASE + member_id)
    return base + luhn_digit(base)


def random_member_no(session: Session) -> str:
    """A new member's number: 8 random digits (not starting with 0) and a check digit, the same
    shape as the old sequential ones, so a neighbour's number cannot be worked out from one's own.
    A number already given is drawn again (the unique constraint guards the rest)."""
    for _ in range(10):
        base = str(10_000_000 + secrets.randbelow(90_000_000))
        number = base + luhn_digit(base)
        if session.scalar(select(Member.id).where(Member.member_no == number)) is None:
            return number
    raise RuntimeError("could not draw a free member number")  # 90 million numbers: not in this universe


def is_valid_member_no(value: str) -> bool:
    return value.isdigit() and len(value) >= 2 and luhn_digit(value[:-1]) == value[-1]



_BY_LINE_USER = select(Member).where(Member.line_user_id == bindparam("line_user_id"))
# FOR NO KEY UPDATE: see models.ledger.lock_member. Built once: every webhook event runs it.
_BY_LINE_USER_LOCKED = _BY_LINE_USER.with_for_update(key_share=True)


def get_by_line_user(session: Session, line_user_id: str, *, lock: bool = False) -> Member | None:
    stmt = _BY_LINE_USER_LOCKED if lock else _BY_LINE_USER
    member = session.scalars(stmt, {"line_user_id": line_user_id}).one_or_none()
    if lock and member is not None:
        mark_locked(session, member.id)
    return member


def mark_locked(session: Session, member_id: int) -> None:
    """Record that this transaction holds the member's row lock (models.ledger caches balances
    only then: nobody else can change them until the transaction ends)."""
    txn_cache(session).setdefault("locked_members", set()).add(member_id)


def holds_lock(session: Session, member_id: int) -> bool:
    return member_id in session.info.get(TXN_KEY, {}).get("locked_members", ())


def get_by_member_no(session: Session, member_no: str) -> Member:
    member = None
    if is_valid_member_no(member_no):
        member = session.scalars(select(Member).where(Member.member_no == member_no)).one_or_none()
    if member is not None and member.is_taken_over:  # a pre-member taken over: its number names the joiner
        from models.premember import Premember

        row = session.get(Premember, member.id)
        member = session.get(Member, row.merged_into_id) if row and row.merged_into_id else None
    if member is None:
        raise NotFound("No member has this number", code="member_not_found")
    return member


def ensure_member(session: Session, line_user_id: str, *, now: datetime) -> Member:
    """The row for this LINE user, created once even when two events race (unique + DO NOTHING).

    The common case (a known user) is one locking SELECT; the INSERT runs only for a new
    user, so ids (and the member numbers made from them) do not skip with message volume.
    """
    existing = get_by_line_user(session, line_user_id, lock=True)
    if existing is not None:
        return existing
    stmt = (
        insert_for(session)(Member)
        .values(line_user_id=line_user_id, is_reachable=True, followed_at=now, created_at=now)
        .on_conflict_do_nothing(index_elements=["line_user_id"])
    )
    session.execute(stmt)
    member = get_by_line_user(session, line_user_id, lock=True)
    assert member is not None
    return member


def record_follow(
    session: Session,
    line_user_id: str,
    *,
    now: datetime,
    display_name: str | None = None,
    picture_url: str | None = None,
    language: str | None = None,
) -> tuple[Member, str]:
    """Record a follow; returns the member and 'follow' (first time) or 'refollow'."""
    existing = get_by_line_user(session, line_user_id, lock=True)
    member = existing or ensure_member(session, line_user_id, now=now)
    # A brand-new row has no log yet; a row that raced in from another event does.
    has_history = session.scalar(select(FollowLog.id).where(FollowLog.member_id == member.id).limit(1))
    kind = "refollow" if has_history else "follow"
    member.is_reachable = True
    member.followed_at = now
    member.unfollowed_at = None
    if display_name:
        member.display_name = display_name
    if picture_url:
        member.picture_url = picture_url
    if language:
        member.language = language
    session.add(FollowLog(member_id=member.id, kind=kind, at=now))
    session.flush()
    return member, kind


def record_unfollow(session: Session, line_user_id: str, *, now: datetime) -> Member | None:
    """Blocked: unreachable from now on, history and membership kept."""
    member = get_by_line_user(session, line_user_id, lock=True)
    if member is None:
        return None
    member.is_reachable = False
    member.unfollowed_at = now
    session.add(FollowLog(member_id=member.id, kind="unfollow", at=now))
    session.flush()
    return member


def complete_join(
    session: Session,
    member: Member,
    *,
    now: datetime,
    birthday_on: date,
    terms_version: str,
    consented_at: datetime,
    phone: str | None,
    gender: str | None,
) -> Member:
    member.birthday_on = birthday_on
    member.terms_version = terms_version
    member.consented_at = consented_at
    member.phone = phone
    member.gender = gender
    if member.joined_at is None:
        from models.journey import trigger

        member.joined_at = now
        member.member_no = random_member_no(session)
        session.flush()
        trigger(session, "welcome", member_id=member.id, occasion="welcome", now=now)
    session.flush()
    return member
