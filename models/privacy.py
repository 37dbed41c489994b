"""Member data rights (Taiwan PDPA; GDPR's shape): a copy of one's data, and erasure.

``export_data`` gathers everything the programme holds about one member as plain JSON-ready data.
``erase_member`` turns the member into a tombstone under the member's row lock: personal columns
emptied, the LINE user id replaced by ``erased:<random>`` (so the same LINE user who follows again
is a new member), tags, conversation and queued messages removed, open coupons withdrawn. The row
itself stays with its member number, so ledger entries, awards and their line items, coupons,
referrals and campaign recipients keep their ``member_id``: balances, report totals and counts add up as before, and
belong to nobody. An erased member earns, spends and is issued nothing (``member_erased``).

The lock is ``FOR UPDATE`` (not the ledger's ``FOR NO KEY UPDATE``): the erasure rewrites a unique
column, so it must wait for every transaction that inserted a row referencing the member (an award
holds ``KEY SHARE`` from its first insert) and hold off new ones. An award either commits before
the erasure or, once it gets the member's lock, finds the tombstone and is refused.

Export links carry a token signed with SECRET_KEY holding only the member's internal id and the
time it was made (no name, number or LINE id); it lives ``EXPORT_TTL_SECONDS``.
"""
from __future__ import annotations

import secrets
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from itsdangerous import BadSignature, SignatureExpired, TimestampSigner
from sqlalchemy import delete, exists, select, update
from sqlalchemy.orm import Session

from models import admin
from models.errors import DomainError, NotFound
from models.member import FollowLog, Member, mark_locked

TAIPEI = ZoneInfo("Asia/Taipei")
TOMBSTONE_PREFIX = "erased:"
EXPORT_SALT = "member-data-export"
EXPORT_TTL_SECONDS = 15 * 60
ERASE_NOTE = "member data erased"


class ExportTokenError(DomainError):
    code = "export_link_invalid"
    status = 404


# --- export links ------------------------------------------------------------------------------

class _ClockSigner(TimestampSigner):
    def __init__(self, secret: str, now: datetime) -> None:
        super().__init__(secret, salt=EXPORT_SALT)
        self._now = int(now.timestamp())

    def get_timestamp(self) -> int:
        return self._now


def export_token(secret: str, member_id: int, *, now: datetime) -> str:
    return _ClockSigner(secret, now).sign(str(member_id)).decode()


def read_export_token(secret: str, token: str, *, now: datetime, max_age: int = EXPORT_TTL_SECONDS) -> int:
    """The member id in a valid, unexpired link; ``export_link_expired`` / ``export_link_invalid`` otherwise."""
    try:
        value, issued = _ClockSigner(secret, now).unsign(token, max_age=max_age, return_timestamp=True)
    except SignatureExpired as exc:
        raise ExportTokenError("This link has expired; ask for a new one in the chat", code="export_link_expired") from exc
    except BadSignature as exc:
        raise ExportTokenError("This link is not valid") from exc
    if int(issued.timestamp()) > int(now.timestamp()) + 60 or not value.isdigit():
        raise ExportTokenError("This link is not valid")
    return int(value)


# --- export ------------------------------------------------------------------------------------

def _iso(value: datetime | date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _message_texts(messages: list[dict[str, Any]]) -> list[str]:
    """What a pushed message said, readably: texts, and the alt text of anything else."""
    out = []
    for m in messages or []:
        if isinstance(m, dict):
            body = m.get("text") or m.get("altText")
            if isinstance(body, str):
                out.append(body)
    return out


def export_data(session: Session, member_id: int, now: datetime) -> dict[str, Any]:
    """Everything held about the member: profile, consent, balances, ledger, coupons, rewards,
    what they bought (receipt line items), tiers, tags, referrals, follow history and the messages sent to them."""
    from models.campaign import MarketingSend
    from models.coupon import Coupon, CouponTemplate
    from models.ledger import LedgerEntry, balances
    from models.outbox import RICHMENU, RICHMENU_UNLINK, OutboxMessage
    from models.referral import Referral, ReferralCode
    from models.reward import Redemption, RewardGrant, RewardItem
    from models.store import Store
    from models.tag import tags_of
    from models.tier import Tier, TierChange

    member = session.get(Member, member_id)
    if member is None:
        raise NotFound("No such member", code="member_not_found")
    stores = dict(session.execute(select(Store.id, Store.name)).all())
    tiers = dict(session.execute(select(Tier.id, Tier.name)).all())
    entries = session.scalars(select(LedgerEntry).where(LedgerEntry.member_id == member_id).order_by(LedgerEntry.id))
    coupons = session.execute(select(Coupon, CouponTemplate.name).join(CouponTemplate, CouponTemplate.id == Coupon.template_id)
                              .where(Coupon.member_id == member_id).order_by(Coupon.id))
    grants = session.scalars(select(RewardGrant).where(RewardGrant.member_id == member_id).order_by(RewardGrant.id))
    redemptions = session.execute(select(Redemption, RewardItem.name).join(RewardItem, RewardItem.id == Redemption.reward_item_id)
                                  .where(Redemption.member_id == member_id).order_by(Redemption.id))
    changes = session.scalars(select(TierChange).where(TierChange.member_id == member_id).order_by(TierChange.id))
    referred = session.scalars(select(Referral).where(Referral.referrer_id == member_id).order_by(Referral.id))
    referred_by = session.scalars(select(Referral).where(Referral.friend_id == member_id)).one_or_none()
    outbox = session.scalars(select(OutboxMessage).where(OutboxMessage.member_id == member_id, OutboxMessage.purpose.not_in((RICHMENU, RICHMENU_UNLINK)))
                             .order_by(OutboxMessage.id))
    marketing = session.scalars(select(MarketingSend).where(MarketingSend.member_id == member_id).order_by(MarketingSend.id))
    follows = session.scalars(select(FollowLog).where(FollowLog.member_id == member_id).order_by(FollowLog.id))
    from models.ledger import Award
    from models.product import AwardItem

    items = session.execute(select(AwardItem, Award.receipt_id).join(Award, Award.id == AwardItem.award_id)
                            .where(AwardItem.member_id == member_id).order_by(AwardItem.awarded_at, AwardItem.award_id, AwardItem.line_no))
    return {
        "exported_at": _iso(now),
        "profile": {
            "member_no": member.member_no, "display_name": member.display_name, "picture_url": member.picture_url,
            "language": member.language, "birthday_on": _iso(member.birthday_on), "phone": member.phone, "gender": member.gender,
            "followed_at": _iso(member.followed_at), "unfollowed_at": _iso(member.unfollowed_at), "reachable": member.is_reachable,
            "joined_at": _iso(member.joined_at), "erased_at": _iso(member.erased_at),
        },
        "consents": [{"kind": "terms_and_privacy", "version": member.terms_version, "consented_at": _iso(member.consented_at)}]
        if member.terms_version else [],
        "balances": balances(session, member_id),
        "ledger": [{"at": _iso(e.created_at), "currency": e.currency, "amount": e.amount, "reason": e.reason, "note": e.note,
                    "store": stores.get(e.store_id), "receipt_id": e.receipt_id, "expires_at": _iso(e.expires_at)} for e in entries],
        "coupons": [{"name": name, "code": c.code, "status": c.status, "source": c.source, "issued_at": _iso(c.issued_at),
                     "expires_at": _iso(c.expires_at), "redeemed_at": _iso(c.redeemed_at)} for c, name in coupons],
        "rewards": [{"name": g.name, "issued_at": _iso(g.issued_at), "used_at": _iso(g.used_at)} for g in grants],
        "redemptions": [{"reward": name, "points": r.points, "store": stores.get(r.store_id), "at": _iso(r.created_at)}
                        for r, name in redemptions],
        "purchases": [{"at": _iso(i.awarded_at), "store": stores.get(i.store_id), "receipt_id": receipt, "sku": i.sku, "name": i.name,
                       "category": i.category, "qty": i.qty, "unit_price": f"{i.unit_price:.2f}", "line_total": f"{i.line_total:.2f}"}
                      for i, receipt in items],
        "tier": {"current": tiers.get(member.tier_id) if member.tier_id else None, "since": _iso(member.tier_since),
                 "until": _iso(member.tier_until),
                 "history": [{"kind": c.kind, "from": tiers.get(c.from_tier_id), "to": tiers.get(c.to_tier_id), "at": _iso(c.at)}
                             for c in changes]},
        "tags": tags_of(session, member_id),
        "referrals": {
            "code": session.scalar(select(ReferralCode.code).where(ReferralCode.member_id == member_id)),
            # the friends themselves are other people's data: what happened, not who
            "friends_referred": [{"status": r.status, "recorded_at": _iso(r.recorded_at), "joined_at": _iso(r.joined_at),
                                  "rewarded_at": _iso(r.rewarded_at)} for r in referred],
            "referred_by_code": referred_by.code if referred_by else None,
        },
        "follow_history": [{"kind": f.kind, "at": _iso(f.at)} for f in follows],
        "messages": [{"purpose": o.purpose, "status": o.status, "created_at": _iso(o.created_at), "sent_at": _iso(o.sent_at),
                      "texts": _message_texts(o.messages)} for o in outbox],
        "marketing_messages": [{"source": s.source, "sent_at": _iso(s.sent_at)} for s in marketing],
    }


# --- erasure -----------------------------------------------------------------------------------

def lock_for_erasure(session: Session, member_id: int) -> Member:
    """The member's row under FOR UPDATE (see the module's docstring for why not NO KEY UPDATE)."""
    member = session.scalars(select(Member).where(Member.id == member_id).with_for_update()
                             .execution_options(populate_existing=True)).one_or_none()
    if member is None:
        raise NotFound("No such member", code="member_not_found")
    mark_locked(session, member_id)
    return member


def erase_member(session: Session, member_id: int, *, actor: str, now: datetime, reason: str | None = None,
                 via: str = "admin") -> tuple[Member, bool]:
    """Erase the member's personal data, once: (the tombstone, whether this call erased it).
    Recorded in the admin audit log in the same transaction: the member's internal id and number
    and the balances at the erasure, never what was erased."""
    from models.conversation import Conversation
    from models.coupon import Coupon, CouponEvent
    from models.journey import JourneyRun
    from models.outbox import OutboxMessage
    from models.tag import MemberTag

    from models.outbox import enqueue_unlink
    from models.richmenu import menu_for_member

    member = lock_for_erasure(session, member_id)
    if member.erased_at is not None:
        return member, False
    line_user_id = member.line_user_id
    had_menu = member.joined_at is not None and menu_for_member(session, member) is not None
    member.line_user_id = TOMBSTONE_PREFIX + secrets.token_hex(16)
    for column in ("display_name", "picture_url", "language", "birthday_on", "phone", "gender", "terms_version",
                   "consented_at", "flow"):
        setattr(member, column, None)
    member.is_reachable = False
    member.erased_at = now
    session.execute(delete(Conversation).where(Conversation.member_id == member_id))
    session.execute(delete(MemberTag).where(MemberTag.member_id == member_id))
    # what was sent is kept as counts (purpose, status, times), never as its words
    session.execute(update(OutboxMessage).where(OutboxMessage.member_id == member_id, OutboxMessage.status == "pending")
                    .values(status="skipped", last_error="erased"))
    session.execute(update(OutboxMessage).where(OutboxMessage.member_id == member_id).values(messages=[]))
    if had_menu:  # the member menu comes off their LINE once this commits; the default (guest) menu shows again
        enqueue_unlink(session, member_id=member_id, line_user_id=line_user_id, now=now)
    session.execute(update(JourneyRun).where(JourneyRun.member_id == member_id, JourneyRun.status == "pending")
                    .values(status="skipped", skip_reason="erased"))
    session.execute(update(JourneyRun).where(JourneyRun.member_id == member_id).values(context={}))
    open_ids = list(session.scalars(select(Coupon.id).where(Coupon.member_id == member_id, Coupon.status == "issued")))
    if open_ids:  # withdrawn, as a marketer withdraws one: issued and redeemed counts stay as they were
        session.execute(update(Coupon).where(Coupon.id.in_(open_ids)).values(status="voided"))
        session.add_all(CouponEvent(coupon_id=cid, kind="voided", actor_kind="system", note=ERASE_NOTE, at=now) for cid in open_ids)
    from models.ledger import balances

    # the balances the erasure froze (exact: under the lock nothing else can change them); nothing lands after it
    admin.record(session, actor=actor, action="member.erase", now=now, details={
        "member_id": member.id, "member_no": member.member_no, "via": via, "reason": reason, "balances": balances(session, member_id)})
    session.flush()
    return member, True


# --- retention ---------------------------------------------------------------------------------

def months_before(now: datetime, months: int) -> datetime:
    """The same Taipei wall-clock time ``months`` calendar months earlier (the 31st goes to the
    month's last day)."""
    local = now.astimezone(TAIPEI)
    index = local.year * 12 + (local.month - 1) - months
    year, month = divmod(index, 12)
    month += 1
    next_month = date(year + (month == 12), month % 12 + 1, 1)
    last_day = (next_month - timedelta(days=1)).day
    return local.replace(year=year, month=month, day=min(local.day, last_day)).astimezone(now.tzinfo)


def blocked_and_idle(session: Session, *, now: datetime, months: int, member_id: int | None = None) -> list[int]:
    """Members (joined or not) who block the account since before the cutoff and had no activity
    since it: no award, no ledger entry but expiries, no coupon redeemed, no follow event.
    ``member_id``: check just that one (again, under its lock, before erasing it)."""
    from models.coupon import Coupon
    from models.ledger import Award, LedgerEntry

    cutoff = months_before(now, months)
    query = select(Member.id).where(
        Member.erased_at.is_(None), Member.is_reachable.is_(False), Member.unfollowed_at.is_not(None), Member.unfollowed_at < cutoff,
        ~exists().where(Award.member_id == Member.id, Award.created_at >= cutoff),
        ~exists().where(LedgerEntry.member_id == Member.id, LedgerEntry.created_at >= cutoff, LedgerEntry.reason != "expire"),
        ~exists().where(Coupon.member_id == Member.id, Coupon.redeemed_at >= cutoff),
        ~exists().where(FollowLog.member_id == Member.id, FollowLog.at >= cutoff),
    ).order_by(Member.id)
    if member_id is not None:
        query = query.where(Member.id == member_id)
    return list(session.scalars(query))
