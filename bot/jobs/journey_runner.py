"""Running journeys: the scheduled scan that finds occasions, and sending due runs.

Sending a run is one transaction under the run's row lock (``SKIP LOCKED``), so two
workers scanning at once send each run once; the push goes through the outbox.
"""
from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.jobs.campaign_sender import QuietHours
from bot.jobs.outbox import deliver, enqueue_messages
from bot.jobs.segments import recompute_segments
from bot.services import Services
from handlers.messages import text
from handlers.tiers import keep_text
from models.campaign import MarketingSend
from models.coupon import Coupon, CouponTemplate, issue
from models.journey import Journey, JourneyRun, due_runs, recent_marketing, trigger
from models.ledger import Award
from models.member import Member
from models.outbox import queued_in
from models.placeholder import render
from models.rule import get_rule
from models.segment import MemberStats
from models.segment_rules import compile_rule
from models.tier import TierReminder, birthday_members, claim_reminder, current_tier, shortfall

log = logging.getLogger(__name__)
TAIPEI = ZoneInfo("Asia/Taipei")


def _values(session, member: Member, run: JourneyRun, svc: Services) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """Placeholders describe the occasion (the tier reached, the coupon expiring), recorded when
    it happened; only what the occasion did not record comes from the member's current state."""
    tier = current_tier(session, member)
    return {"brand": svc.settings.brand_name, "name": member.display_name or svc.texts("name_fallback"),
            "tier": str(run.context.get("tier") or (tier.name if tier else "")), "reward": get_rule(session).reward_name,
            "coupon": str(run.context.get("coupon", ""))}


def _skip(run: JourneyRun, reason: str) -> str:
    run.status, run.skip_reason = "skipped", reason
    return reason


def _gone(session, journey: Journey, member: Member, run: JourneyRun, now) -> str | None:  # type: ignore[no-untyped-def]
    """Why a scheduled occasion no longer applies when its run is sent (a delay or quiet hours
    can pass in between): the member kept the tier or left the one reached, or the coupon was used
    or withdrawn."""
    if journey.kind in ("tier_up", "tier_expiring") and run.context.get("tier_code"):
        tier = current_tier(session, member)
        if tier is None or tier.code != run.context["tier_code"]:
            return "tier_changed"  # downgraded (or moved on) since: the congratulation is no longer true
    if journey.kind == "tier_expiring":
        tier = current_tier(session, member)
        until = member.tier_until
        if tier is None or until is None or run.occasion != f"tier_end:{until.astimezone(TAIPEI).date()}":
            return "period_over"  # the period the run was about ended, or an upgrade began a new one
        if shortfall(session, member.id, tier, until) <= 0:
            return "qualified"
        if session.scalar(select(TierReminder.id).where(TierReminder.member_id == member.id, TierReminder.period_ends_at == until)):
            return "reminded"  # the daily job's built-in reminder said it
    if journey.kind == "coupon_expiring":
        coupon = session.get(Coupon, int(run.occasion.removeprefix("coupon:")))
        if coupon is None or coupon.status in ("redeemed", "voided"):
            return "used" if coupon is not None and coupon.status == "redeemed" else "voided"
        if coupon.status != "issued" or coupon.expires_at <= now:
            return "expired"
        if coupon.reminded_at is not None:  # the daily job's built-in reminder said it
            return "reminded"
    return None


def _said(session, journey: Journey, member: Member, run: JourneyRun, svc: Services, now) -> list[str]:  # type: ignore[no-untyped-def]
    """Lines a reminder adds (what it takes to keep the tier), recording it as the daily job's
    reminder for the occasion, so the built-in one is not sent as well if the journey is switched off."""
    if journey.kind == "tier_expiring":
        tier = current_tier(session, member)
        claim_reminder(session, member, now)
        return [keep_text(session, member, tier, now, svc.texts)] if tier else []
    if journey.kind == "coupon_expiring":
        session.get(Coupon, int(run.occasion.removeprefix("coupon:"))).reminded_at = now
    return []


def send_run(svc: Services, run_id: int) -> str:
    """Send one due run (or skip it, saying why); returns what happened."""
    now = svc.now()
    with svc.db.transaction() as session:
        run = session.scalars(select(JourneyRun).where(JourneyRun.id == run_id).with_for_update(skip_locked=True)).one_or_none()
        if run is None or run.status != "pending" or run.due_at > now:
            return "taken"
        journey = session.get(Journey, run.journey_id)
        member = session.get(Member, run.member_id)
        if journey is None or not journey.enabled:
            return _skip(run, "disabled")
        if not member.is_reachable:
            return _skip(run, "unreachable")
        if journey.kind == "winback" and session.scalar(select(Award.id).where(Award.member_id == member.id, Award.created_at > run.created_at).limit(1)):
            return _skip(run, "came_back")
        if journey.condition:
            matches = session.scalar(select(Member.id).outerjoin(MemberStats, MemberStats.member_id == Member.id)
                                     .where(Member.id == member.id, compile_rule(session, journey.condition, now)))
            if matches is None:
                return _skip(run, "condition")
        gone = _gone(session, journey, member, run, now)
        if gone is not None:
            return _skip(run, gone)
        resume = QuietHours(svc.settings.quiet_hours_start, svc.settings.quiet_hours_end).resume_at(now)
        if resume is not None:
            run.due_at = resume
            return "quiet_hours"
        if not journey.is_service and recent_marketing(session, member.id, now) >= svc.settings.marketing_per_week:
            return _skip(run, "capped")  # service messages (own card, coupons, tier) are not marketing
        lines = [render(journey.text, _values(session, member, run, svc)), *_said(session, journey, member, run, svc, now)]
        if journey.coupon_template_id:
            template = session.get(CouponTemplate, journey.coupon_template_id)
            got = issue(session, template=template, member_id=member.id, source="journey", occasion=f"journey:{journey.kind}:{run.occasion}"[:64], now=now)
            if got.coupon is not None:
                run.coupon_id = got.coupon.id
                lines.append(svc.texts("coupon_received", name=template.name))
        enqueue_messages(session, member, f"journey:{journey.kind}", [text("\n".join(lines))], now=now)  # text() cuts at 5,000
        if not journey.is_service:
            session.add(MarketingSend(member_id=member.id, source=f"journey:{journey.kind}", sent_at=now))
        run.status, run.sent_at = "sent", now
        queued = queued_in(session)
    if queued:
        deliver(svc, queued)
    return "sent"


def process_due(svc: Services, ids: list[int] | None = None) -> dict[str, int]:
    counts: dict[str, int] = {}
    with svc.db.sessions() as session:
        ids = ids if ids is not None else due_runs(session, svc.now())
    for run_id in ids:
        outcome = send_run(svc, run_id)
        counts[outcome] = counts.get(outcome, 0) + 1
    return counts


def scan(svc: Services) -> dict[str, int]:
    """Find scheduled occasions: birthdays, lapses (the win-back's NES stages, S1/S2 by default), tier
    ends, expiring coupons."""
    now = svc.now()
    today = now.astimezone(TAIPEI).date()
    found = {"birthday": 0, "winback": 0, "tier_expiring": 0, "coupon_expiring": 0}
    with svc.db.transaction() as session:
        journeys = {j.kind: j for j in session.scalars(select(Journey).where(Journey.enabled.is_(True)))}
        if "birthday" in journeys:  # any birthday from today to days_before ahead: a missed scan day still catches it
            for offset in range(journeys["birthday"].days_before + 1):
                day = today + timedelta(days=offset)
                for member_id in birthday_members(session, day, whole_month=False):
                    found["birthday"] += trigger(session, "birthday", member_id=member_id, occasion=f"birthday:{day.year}", now=now)
        if "winback" in journeys:
            recompute_segments(svc, session)  # lapses by today's NES (and the rule tags with them: one "computed at")
            targets = journeys["winback"].nes_targets
            for member_id, last in session.execute(select(MemberStats.member_id, MemberStats.last_visit_at).where(MemberStats.nes.in_(targets))):
                found["winback"] += trigger(session, "winback", member_id=member_id, occasion=f"lapse:{last.astimezone(TAIPEI).date()}", now=now)
        if "tier_expiring" in journeys:
            horizon = now + timedelta(days=journeys["tier_expiring"].days_before)
            for member in session.scalars(select(Member).where(Member.tier_until.is_not(None), Member.tier_until > now, Member.tier_until <= horizon)):
                tier = current_tier(session, member)
                if tier is not None and shortfall(session, member.id, tier, member.tier_until) > 0:
                    day = member.tier_until.astimezone(TAIPEI).date()
                    found["tier_expiring"] += trigger(session, "tier_expiring", member_id=member.id, occasion=f"tier_end:{day}", now=now,
                                                      context={"tier": tier.name, "tier_code": tier.code})
        if "coupon_expiring" in journeys:
            horizon = now + timedelta(days=journeys["coupon_expiring"].days_before)
            rows = session.execute(select(Coupon.id, Coupon.member_id, CouponTemplate.name).join(CouponTemplate, CouponTemplate.id == Coupon.template_id)
                                   .where(Coupon.status == "issued", Coupon.reminded_at.is_(None), Coupon.expires_at > now, Coupon.expires_at <= horizon))
            for coupon_id, member_id, name in rows:
                found["coupon_expiring"] += trigger(session, "coupon_expiring", member_id=member_id, occasion=f"coupon:{coupon_id}", now=now, context={"coupon": name})
    return found


def run_journeys(svc: Services) -> dict[str, Any]:
    return {"found": scan(svc), "processed": process_due(svc)}
