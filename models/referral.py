"""Member-get-member referrals (舊客帶新客): codes, referrals, the programme and its rewards.

    friend sends 邀請碼 ─► recorded ──(friend completes joining)──► joined
        ──(first qualifying purchase)──► rewarded, or purchased (no reward: over the monthly cap,
                                          programme switched off, or no reward configured)

A refused code stores nothing (``ReferralRefused`` carries the reason's code). One referral per
friend (unique ``friend_id``), so a second referrer or the same code twice records nothing new.
The first qualifying purchase moves ``joined`` on under the referral's row lock, so the rewards
(ledger entries with reason ``referral``, coupons with occasion ``referral:<id>``) are issued
once whatever the retries or concurrent purchases; the monthly cap counts the referrer's
rewarded referrals in the Taipei calendar month under the referrer's row lock.

Models never word messages: a reward (or a capped purchase) is handed as a ``Notice`` to the
notifier in ``session.info[NOTIFY_KEY]``, which the app installs on its sessions
(bot/api/admin/referrals.py); handlers/referral.py words it and queues it in the outbox, in this
same transaction.
"""
from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import ForeignKey, String, and_, case, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from models.base import Base, IntPK, Timestamp, insert_for
from models.coupon import CouponTemplate, issue
from models.errors import DomainError
from models.ledger import Award, AwardResult, add_entry, lock_member
from models.member import FollowLog, Member
from models.referral_program import Gift, ReferralProgram, get_program, qualifies
from models.rule import get_rule

log = logging.getLogger(__name__)
TAIPEI = ZoneInfo("Asia/Taipei")
ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud or typed, nothing is ambiguous
CODE_LENGTH = 6
NOTIFY_KEY = "referral_notify"


class ReferralCode(Base):
    """A member's personal code, made the first time they open their invitation."""

    __tablename__ = "referral_code"

    member_id: Mapped[int] = mapped_column(ForeignKey("member.id"), primary_key=True, autoincrement=False)
    code: Mapped[str] = mapped_column(String(8), unique=True)
    created_at: Mapped[Timestamp]


class Referral(Base):
    __tablename__ = "referral"

    id: Mapped[IntPK]
    referrer_id: Mapped[int] = mapped_column(ForeignKey("member.id"), index=True)
    friend_id: Mapped[int] = mapped_column(ForeignKey("member.id"), unique=True)
    code: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(12))  # recorded | joined | purchased | rewarded
    skip_reason: Mapped[str | None] = mapped_column(String(16))  # purchased without reward: monthly_cap | program_off | no_reward
    award_id: Mapped[int | None] = mapped_column(ForeignKey("award.id"))
    recorded_at: Mapped[Timestamp]
    joined_at: Mapped[Timestamp | None]
    purchased_at: Mapped[Timestamp | None]
    rewarded_at: Mapped[Timestamp | None]


class ReferralRefused(DomainError):
    """A code that does not count; the code names the zh-TW reply (texts ``referral_*``)."""

    status = 409


@dataclass(frozen=True)
class Notice:
    kind: str  # joined | rewarded | capped
    referral_id: int
    referrer_id: int
    friend_id: int
    referrer_gift: Gift | None = None
    friend_gift: Gift | None = None
    cap: int | None = None


@dataclass(frozen=True)
class Recorded:
    referral: Referral
    created: bool  # False: this friend had already sent this referrer's code



def month_bounds(now: datetime) -> tuple[datetime, datetime]:
    """The Taipei calendar month ``now`` falls in, as [start, end)."""
    start = now.astimezone(TAIPEI).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    end = (start + timedelta(days=32)).replace(day=1)
    return start, end


# --- codes -----------------------------------------------------------------------------

def normalise_code(raw: str) -> str:
    return (raw or "").strip().upper()


def code_for(session: Session, member_id: int, *, now: datetime) -> str:
    """The member's code, made once (two taps at once make one; a clash of random codes draws again)."""
    for _ in range(8):
        code = session.scalar(select(ReferralCode.code).where(ReferralCode.member_id == member_id))
        if code is not None:
            return code
        fresh = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
        session.execute(insert_for(session)(ReferralCode).values(member_id=member_id, code=fresh, created_at=now).on_conflict_do_nothing())
    raise RuntimeError("could not draw a free referral code")


def is_new_friend(session: Session, member: Member, *, now: datetime, hours: int) -> bool:
    """Followed for the first time (never blocked, never came back) within the last ``hours``."""
    rows = session.execute(select(FollowLog.kind, FollowLog.at).where(FollowLog.member_id == member.id)).all()
    return len(rows) == 1 and rows[0].kind == "follow" and rows[0].at >= now - timedelta(hours=hours)


def rewarded_this_month(session: Session, referrer_id: int, now: datetime) -> int:
    start, end = month_bounds(now)
    return session.scalar(select(func.count()).select_from(Referral).where(
        Referral.referrer_id == referrer_id, Referral.status == "rewarded", Referral.rewarded_at >= start, Referral.rewarded_at < end)) or 0


def referral_of(session: Session, friend_id: int, *, lock: bool = False) -> Referral | None:
    stmt = select(Referral).where(Referral.friend_id == friend_id)
    if lock:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    return session.scalars(stmt).one_or_none()


# --- the referral's life ---------------------------------------------------------------

def record_referral(session: Session, *, friend: Member, raw_code: str, now: datetime) -> Recorded:
    """A friend sent a code: record it once, or refuse with the reason's code."""
    program = get_program(session)
    if not program.enabled:
        raise ReferralRefused("The referral programme is off", code="referral_closed")
    code = normalise_code(raw_code)
    owner = session.scalar(select(ReferralCode.member_id).where(ReferralCode.code == code))
    referrer = session.get(Member, owner) if owner is not None else None
    if referrer is None:
        raise ReferralRefused("Unknown code", code="referral_unknown")
    if referrer.id == friend.id:
        raise ReferralRefused("Own code", code="referral_self")
    existing = referral_of(session, friend.id)
    if existing is not None:
        if existing.referrer_id == referrer.id:
            return Recorded(existing, created=False)
        raise ReferralRefused("Already referred by someone else", code="referral_taken")
    if not referrer.is_member or not referrer.is_reachable:
        raise ReferralRefused("The code's member blocked the account or left", code="referral_inactive")
    if friend.is_member:
        raise ReferralRefused("Already a member", code="referral_member")
    if not is_new_friend(session, friend, now=now, hours=program.new_friend_hours):
        raise ReferralRefused("Not a new friend", code="referral_not_new")
    if program.monthly_cap is not None and rewarded_this_month(session, referrer.id, now) >= program.monthly_cap:
        raise ReferralRefused("The referrer reached this month's cap", code="referral_cap")
    new_id = session.execute(
        insert_for(session)(Referral)
        .values(referrer_id=referrer.id, friend_id=friend.id, code=code, status="recorded", recorded_at=now)
        .on_conflict_do_nothing(index_elements=["friend_id"])
        .returning(Referral.id)
    ).scalar()
    referral = referral_of(session, friend.id)
    assert referral is not None
    if new_id is None and referral.referrer_id != referrer.id:  # a twin event with another code won
        raise ReferralRefused("Already referred by someone else", code="referral_taken")
    return Recorded(referral, created=new_id is not None)


def mark_joined(session: Session, *, friend_id: int, now: datetime) -> Notice | None:
    """The friend completed joining: the referral now counts."""
    referral = referral_of(session, friend_id, lock=True)
    if referral is None or referral.status != "recorded":
        return None
    referral.status, referral.joined_at = "joined", now
    session.flush()
    return Notice("joined", referral.id, referral.referrer_id, referral.friend_id)


def _give(session: Session, program: ReferralProgram, side: str, member_id: int, referral_id: int, now: datetime) -> Gift | None:
    kind = getattr(program, f"{side}_reward")
    if kind is None:
        return None
    if kind == "coupon":
        template = session.get(CouponTemplate, getattr(program, f"{side}_template_id"))
        if template is None:
            return None
        got = issue(session, template=template, member_id=member_id, source="referral", occasion=f"referral:{referral_id}", now=now)
        return Gift("coupon", 1, template.name) if got.coupon is not None else None
    amount = getattr(program, f"{side}_amount")
    currency = "stamp" if kind == "stamps" else "point"
    rule = get_rule(session)
    days = rule.stamp_expiry_days if currency == "stamp" else rule.point_expiry_days
    if lock_member(session, member_id).erased_at is not None:  # an erased referrer gets nothing (the friend still does)
        return None
    add_entry(session, member_id=member_id, currency=currency, amount=amount, reason="referral", actor=None, now=now,
              note=f"referral:{referral_id}", expires_at=now + timedelta(days=days) if days else None)
    return Gift(kind, amount)


def reward_first_purchase(session: Session, member: Member, result: AwardResult, now: datetime) -> Notice | None:
    """Called after every fresh award: the referred friend's first qualifying purchase rewards, once."""
    pending = session.scalar(select(Referral.id).where(Referral.friend_id == member.id, Referral.status == "joined"))
    if pending is None:
        return None
    program = get_program(session)
    award = session.get(Award, result.award_id)
    if award is None or not qualifies(program, award.amount, award.visit):
        return None
    referral = referral_of(session, member.id, lock=True)
    if referral is None or referral.status != "joined":  # a concurrent purchase got there first
        return None
    referral.award_id, referral.purchased_at, referral.status = award.id, now, "purchased"
    lock_member(session, referral.referrer_id)  # the monthly cap is counted under the referrer's lock
    notice: Notice | None = None
    if not program.enabled:
        referral.skip_reason = "program_off"
    elif program.referrer_reward is None and program.friend_reward is None:
        referral.skip_reason = "no_reward"
    elif program.monthly_cap is not None and rewarded_this_month(session, referral.referrer_id, now) >= program.monthly_cap:
        referral.skip_reason = "monthly_cap"
        notice = Notice("capped", referral.id, referral.referrer_id, referral.friend_id, cap=program.monthly_cap)
    else:
        referrer_gift = _give(session, program, "referrer", referral.referrer_id, referral.id, now)
        friend_gift = _give(session, program, "friend", referral.friend_id, referral.id, now)
        referral.status, referral.rewarded_at = "rewarded", now
        notice = Notice("rewarded", referral.id, referral.referrer_id, referral.friend_id, referrer_gift, friend_gift)
    session.flush()
    if notice is not None:
        notify(session, notice, now)
    return notice


def notify(session: Session, notice: Notice, now: datetime) -> None:
    """Hand the notice to the app's notifier (it queues the pushes in this transaction)."""
    notifier = session.info.get(NOTIFY_KEY)
    if notifier is None:
        log.warning("referral %s: no notifier installed; %s notice not pushed", notice.referral_id, notice.kind)
        return
    notifier(session, notice, now)


# --- the report ------------------------------------------------------------------------

@dataclass(frozen=True)
class ReferrerRow:
    member_no: str | None
    name: str | None
    code: str | None
    invited: int
    joined: int
    purchased: int
    rewarded: int


STAGES = ("invited", "joined", "purchased", "rewarded")


def report(session: Session, *, start: datetime | None, end: datetime | None, limit: int = 500) -> tuple[dict[str, int], list[ReferrerRow]]:
    """Per referrer and in total, each stage counted when it happened within [start, end)."""
    def happened(column):  # type: ignore[no-untyped-def]
        conditions = [column.is_not(None)]
        if start is not None:
            conditions.append(column >= start)
        if end is not None:
            conditions.append(column < end)
        return func.coalesce(func.sum(case((and_(*conditions), 1), else_=0)), 0)

    counts = [happened(c).label(s) for s, c in zip(STAGES, (Referral.recorded_at, Referral.joined_at, Referral.purchased_at, Referral.rewarded_at))]
    per = select(Referral.referrer_id.label("referrer_id"), *counts).group_by(Referral.referrer_id).subquery()
    active = per.c.invited + per.c.joined + per.c.purchased + per.c.rewarded > 0
    totals_row = session.execute(select(*(func.coalesce(func.sum(per.c[s]), 0) for s in STAGES), func.count()).where(active)).one()
    totals = {s: int(v) for s, v in zip(STAGES, totals_row[:4])} | {"referrers": int(totals_row[4])}
    rows = session.execute(
        select(Member.member_no, Member.display_name, ReferralCode.code, *(per.c[s] for s in STAGES))
        .join(Member, Member.id == per.c.referrer_id)
        .outerjoin(ReferralCode, ReferralCode.member_id == per.c.referrer_id)
        .where(active)
        .order_by(per.c.rewarded.desc(), per.c.joined.desc(), per.c.invited.desc(), Member.id)
        .limit(limit)
    )
    return totals, [ReferrerRow(r[0], r[1], r[2], *(int(v) for v in r[3:])) for r in rows]
