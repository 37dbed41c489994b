"""Referrals in chat: a friend's code, and the notices that follow (invite.py is the member's card).

    friend taps the invitation → follows the account, sends "邀請碼 ABC123"
        ├─ refused → the reason (unknown, left, own code, member, not new, taken, cap, closed)
        └─ recorded → "已收到…的邀請" + the join invitation
    friend completes joining (join._finish → on_joined) → told here; the referrer gets a push
    friend's first qualifying purchase (models/referral.py) → ``notify`` pushes both

Pushes go through the outbox in the event's (or the award's) transaction and are sent after
it commits.
"""
from __future__ import annotations

import re
from datetime import datetime

from linebot.v3.messaging import Message
from sqlalchemy.orm import Session

from handlers import Context, Input, join
from handlers.messages import text
from handlers.texts import Texts
from models.member import Member
from models.outbox import enqueue
from models.referral import CODE_LENGTH, Notice, ReferralRefused, mark_joined, record_referral
from models.referral_program import Gift, get_program, planned_gift

CODE_RE = re.compile(rf"^(?:邀請碼|invite)\s*[:：]?\s*([A-Za-z0-9]{{{CODE_LENGTH}}})$", re.IGNORECASE)


def message_for(code: str) -> str:
    """The message the invitation pre-fills (kept in step with CODE_RE)."""
    return f"邀請碼 {code}"


def is_code(text_: str | None) -> bool:
    return bool(text_ and CODE_RE.match(text_.strip()))


def describe(gift: Gift, t: Texts) -> str:
    if gift.kind == "coupon":
        return t("gift_coupon", name=gift.coupon_name or "")
    return t("gift_stamps" if gift.kind == "stamps" else "gift_points", n=gift.amount)


def _name(member: Member | None, t: Texts) -> str:
    return (member.display_name if member else None) or t("name_fallback")


def use_code(inp: Input, ctx: Context) -> list[Message]:
    """A friend sent a referral code (typed, or pre-filled by the invitation's link)."""
    t, session = ctx.texts, ctx.session
    match = CODE_RE.match((inp.text or "").strip())
    try:
        recorded = record_referral(session, friend=ctx.member, raw_code=match.group(1) if match else "", now=ctx.now)
    except ReferralRefused as refused:
        return [text(t(refused.code, hours=get_program(session).new_friend_hours))]
    referrer = _name(session.get(Member, recorded.referral.referrer_id), t)
    if not recorded.created:
        return [text(t("referral_already", name=referrer))]
    lines = [t("referral_recorded", name=referrer)]
    gift = planned_gift(session, get_program(session), "friend")
    if gift is not None:
        lines.append(t("referral_recorded_gift", gift=describe(gift, t)))
    lines.append(t("referral_join_now"))
    return [text("\n".join(lines)), join.join_invitation(t)]


def on_joined(ctx: Context, member: Member) -> list[Message]:
    """The friend completed joining: the referral counts; the referrer hears of it by push."""
    notice = mark_joined(ctx.session, friend_id=member.id, now=ctx.now)
    if notice is None:
        return []
    notify(ctx.session, notice, ctx.now, texts=ctx.texts)
    t = ctx.texts
    lines = [t("referral_joined_friend", name=_name(ctx.session.get(Member, notice.referrer_id), t))]
    gift = planned_gift(ctx.session, get_program(ctx.session), "friend")
    if gift is not None:
        lines.append(t("referral_recorded_gift", gift=describe(gift, t)))
    return [text("\n".join(lines))]


def _push(session: Session, member: Member | None, body: str, now: datetime) -> None:
    if member is not None and member.is_reachable:
        enqueue(session, member_id=member.id, purpose="referral", messages=[text(body).to_dict()], now=now)


def notify(session: Session, notice: Notice, now: datetime, *, texts: Texts) -> None:
    """Word a referral notice and queue the pushes (the app installs this as the models' notifier)."""
    t = texts
    referrer, friend = session.get(Member, notice.referrer_id), session.get(Member, notice.friend_id)
    if notice.kind == "joined":
        _push(session, referrer, t("referral_joined_referrer", name=_name(friend, t)), now)
    elif notice.kind == "rewarded":
        if notice.referrer_gift is not None:
            _push(session, referrer, t("referral_rewarded_referrer", name=_name(friend, t), gift=describe(notice.referrer_gift, t)), now)
        if notice.friend_gift is not None:
            _push(session, friend, t("referral_rewarded_friend", name=_name(referrer, t), gift=describe(notice.friend_gift, t)), now)
    elif notice.kind == "capped":
        _push(session, referrer, t("referral_capped_referrer", name=_name(friend, t), cap=notice.cap), now)
        _push(session, friend, t("referral_capped_friend"), now)
