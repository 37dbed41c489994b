"""Pushes through the outbox: written in the change's transaction, sent after commit."""
from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from flask import after_this_request
from linebot.v3.messaging import Message
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.jobs.campaign_sender import QuietHours
from bot.line.gateway import LineError
from bot.line.wire import RawMessage, message_json
from bot.services import Services, services
from handlers.stamps import award_messages, redemption_messages
from models import outbox
from models.checkout import Checkout
from models.guard import broken
from models.member import Member
from models.store import Store

log = logging.getLogger(__name__)


def enqueue_award_push(session: Session, member: Member, done: Checkout, store_id: int) -> int | None:
    if not member.is_reachable:
        return None
    store = session.get(Store, store_id)
    svc = services()
    return enqueue_messages(session, member, "award", award_messages(session, member, done, store.name if store else "", svc.texts), now=svc.now())


def enqueue_redemption_push(session: Session, member: Member, store_id: int, *, reward: str | None = None, points: int = 0,
                            coupon: tuple[str, str] | None = None) -> int | None:
    """What was redeemed at the counter (a reward, with the points it cost, or a coupon's name and
    value) and the new balances, queued in the redemption's transaction."""
    if not member.is_reachable:
        return None
    store = session.get(Store, store_id)
    svc = services()
    messages = redemption_messages(session, member, store_name=store.name if store else "", t=svc.texts, reward=reward, points=points, coupon=coupon)
    return enqueue_messages(session, member, "redemption", messages, now=svc.now())


def enqueue_messages(session: Session, member: Member, purpose: str, messages: list[Message], *, now: datetime) -> int | None:
    """Queue a push in the caller's transaction; None for a member who blocked the account."""
    if not member.is_reachable:
        return None
    row = outbox.enqueue(session, member_id=member.id, purpose=purpose, messages=[message_json(m) for m in messages], now=now)
    return row.id


def enqueue_service(svc: Services, session: Session, member: Member, purpose: str, messages: list[Message], *,
                    now: datetime, guard: dict[str, Any] | None = None) -> int | None:
    """Queue a service message (the member's own card, coupons, tier): never capped, but held in
    quiet hours until they end, then sent once if its guard (what it is about) still holds."""
    if not member.is_reachable:
        return None
    resume = QuietHours(svc.settings.quiet_hours_start, svc.settings.quiet_hours_end).resume_at(now)
    row = outbox.enqueue(session, member_id=member.id, purpose=purpose, messages=[message_json(m) for m in messages], now=now,
                         not_before=resume, guard=guard)
    return row.id


def deliver(svc: Services, ids: list[int] | None = None, limit: int = 100) -> dict[str, Any]:
    """Send due outbox rows; each in its own short transaction, LINE called after it commits.
    A row whose guard no longer holds is skipped with the reason (counted under ``why``)."""
    counts: dict[str, Any] = {"sent": 0, "failed": 0, "skipped": 0, "retry": 0, "why": {}}
    with svc.db.transaction() as session:
        due = outbox.due(session, now=svc.now(), limit=limit, ids=ids)
        for r in [r for r in due if r.guard]:
            reason = broken(session, r.member_id, r.guard, svc.now())
            if reason is not None:
                outbox.mark_skipped(r, reason)
                counts["skipped"] += 1
                counts["why"][reason] = counts["why"].get(reason, 0) + 1
                due.remove(r)
        members = {m.id: (m.line_user_id, m.is_reachable) for m in
                   session.scalars(select(Member).where(Member.id.in_({r.member_id for r in due})))} if due else {}
        rows = [(r.id, r.retry_key, r.purpose, r.messages, *members.get(r.member_id, (None, False))) for r in due]
    for row_id, retry_key, purpose, payload, user_id, reachable in rows:
        error: LineError | None = None
        if purpose == outbox.RICHMENU_UNLINK:  # an erased member's: the row, not the member, knows the LINE user
            user_id, reachable = (payload[0]["userId"] if payload else None), bool(payload)
        if reachable and user_id:
            try:
                if purpose == outbox.RICHMENU_UNLINK:
                    svc.line.unlink_rich_menu(user_id)
                elif purpose == outbox.RICHMENU:
                    svc.line.link_rich_menu(user_id, payload[0]["richMenuId"])
                else:
                    svc.line.push(user_id, [RawMessage.of(m) for m in payload], retry_key=retry_key)
            except LineError as exc:
                error = exc
        with svc.db.transaction() as session:
            row = session.get(outbox.OutboxMessage, row_id, with_for_update=True)
            if row is None or row.status != "pending":
                continue
            if not reachable:
                outbox.mark_skipped(row, "unreachable")
                counts["skipped"] += 1
            elif error is None:
                outbox.mark_sent(row, now=svc.now())
                counts["sent"] += 1
            else:
                log.warning("push %s failed: %s", row_id, error)
                outbox.mark_failed(row, now=svc.now(), error=str(error), retry_after=error.retry_after, retryable=error.retryable)
                counts["failed" if row.status == "failed" else "retry"] += 1
            if purpose == outbox.RICHMENU_UNLINK and row.status != "pending":
                row.messages = []  # done with the LINE user id: nothing of the erased member is left
    return counts


def send_after_response(ids: list[int], runs: list[int] | None = None) -> None:
    """Send these outbox rows (and due journey runs) once the response is on its way;
    the outbox and journey jobs retry what fails."""
    svc = services()

    @after_this_request
    def _hook(response):  # type: ignore[no-untyped-def]
        response.call_on_close(lambda: _safe_deliver(svc, ids, runs or []))
        return response


def _safe_deliver(svc: Services, ids: list[int], runs: list[int]) -> None:
    try:
        deliver(svc, ids)
        if runs:
            from bot.jobs.journey_runner import process_due

            process_due(svc, runs)
    except Exception:  # noqa: BLE001 - rows stay pending for the outbox job
        log.exception("outbox delivery failed; rows stay pending")
