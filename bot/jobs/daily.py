"""`flask --app bot loyalty daily`: the day's scheduled work, safe to run twice on one day.

Segments are recomputed first, so everything after reads today's RFM, NES and rule tags; due
campaigns are started after the journeys. Each member step runs in its own transaction and records what it did
(tier changes, reminders, coupons with their occasion), so a second run finds
nothing left to do; pushes go through the outbox and are sent at the end. They are service
messages (the member's own coupons and tier): never capped, but a push due in quiet hours is held
in the outbox until they end and then sent once by the outbox job, if what it is about still holds
(models/guard.py).
"""
from __future__ import annotations

from datetime import timedelta
from typing import Callable, Iterable
from zoneinfo import ZoneInfo

import click

from bot.cli.jobs import run_expiry, run_outbox
from bot.jobs.outbox import enqueue_service
from bot.services import Services
from handlers.messages import text
from handlers.tiers import keep_text
from models.correction import expire_requests
from models.coupon import CouponTemplate, due_reminders, expire_coupons, issue, issue_for_trigger
from models.guard import tier_guard
from models.journey import journey_on
from models.ledger import lock_member
from models.member import Member
from models.tier import needs_reminder, claim_reminder, current_tier, end_of_period, members_at_period_end, members_to_remind, birthday_members

TAIPEI = ZoneInfo("Asia/Taipei")


def _each(label: str, ids: list[int], fn: Callable[[int], bool]) -> int:
    done = 0
    with click.progressbar(ids, label=f"{label:<22}", show_pos=True) as bar:
        for item in bar:
            done += 1 if fn(item) else 0
    return done


def birthdays(svc: Services, *, whole_month: bool) -> int:
    now = svc.now()
    today = now.astimezone(TAIPEI).date()
    with svc.db.sessions() as session:
        ids = birthday_members(session, today, whole_month=whole_month)

    def one(member_id: int) -> bool:
        with svc.db.transaction() as session:
            member = session.get(Member, member_id)
            occasion = f"birthday:{today.year}"
            coupons = issue_for_trigger(session, trigger="birthday", member_id=member_id, occasion=occasion, now=now)
            tier = current_tier(session, member)
            if tier and tier.birthday_template_id:
                template = session.get(CouponTemplate, tier.birthday_template_id)
                got = issue(session, template=template, member_id=member_id, source="birthday", occasion=occasion, now=now) if template else None
                if got and got.created and got.coupon:
                    coupons.append(got.coupon)
            for coupon in coupons:  # announced in the push that issues it, journey or not (once: issued once)
                name = session.get(CouponTemplate, coupon.template_id).name
                enqueue_service(svc, session, member, "birthday", [text(svc.texts("coupon_birthday", name=name))], now=now,
                                guard={"coupon": coupon.id})
            return bool(coupons)

    return _each("birthday coupons", ids, one)


def tier_periods(svc: Services) -> int:
    now = svc.now()
    with svc.db.sessions() as session:
        ids = members_at_period_end(session, now)

    def one(member_id: int) -> bool:
        with svc.db.transaction() as session:
            member = lock_member(session, member_id)
            change = end_of_period(session, member, now)
            if change is None:
                return False
            if change.announced_by_journey:  # the tier_up journey congratulates instead
                return True
            until = member.tier_until.astimezone(TAIPEI).strftime("%Y/%m/%d") if member.tier_until else ""
            key = {"downgrade": "tier_changed_down", "renew": "tier_renewed", "upgrade": "tier_upgraded"}[change.kind]
            enqueue_service(svc, session, member, f"tier_{change.kind}", [text(svc.texts(key, tier=change.to_tier.name, date=until))], now=now,
                            guard=tier_guard(change.to_tier.code))
            return True

    return _each("tier period ends", ids, one)


def tier_reminders(svc: Services) -> int:
    now = svc.now()
    with svc.db.sessions() as session:
        ids = [] if journey_on(session, "tier_expiring") else members_to_remind(session, now)

    def one(member_id: int) -> bool:
        with svc.db.transaction() as session:
            member = lock_member(session, member_id)
            tier = current_tier(session, member)
            if tier is None or not needs_reminder(session, member, tier) or not claim_reminder(session, member, now):
                return False
            enqueue_service(svc, session, member, "tier_reminder", [text(keep_text(session, member, tier, now, svc.texts))], now=now,
                            guard=tier_guard(tier.code, member.tier_until, short=True))
            return True

    return _each("tier reminders", ids, one)


def coupon_reminders(svc: Services, *, days_before: int) -> int:
    now = svc.now()
    sent = 0
    with svc.db.transaction() as session:
        for coupon in [] if journey_on(session, "coupon_expiring") else due_reminders(session, now=now, days_before=days_before):
            member = session.get(Member, coupon.member_id)
            name = session.get(CouponTemplate, coupon.template_id).name
            day = coupon.expires_at.astimezone(TAIPEI).strftime("%Y/%m/%d")
            enqueue_service(svc, session, member, "coupon_reminder", [text(svc.texts("coupon_expiring", name=name, date=day))], now=now,
                            guard={"coupon": coupon.id})
            coupon.reminded_at = now
            sent += 1
    click.echo(f"{'coupon reminders':<22} {sent}")
    return sent


def retention(svc: Services) -> int | str:
    """ERASE_BLOCKED_AFTER_MONTHS: erase members who block the account and had no activity for that
    many months; each in its own transaction, checked again under the member's lock."""
    from models.privacy import blocked_and_idle, erase_member, lock_for_erasure

    months, now = svc.settings.erase_blocked_after_months, svc.now()
    if months <= 0:
        click.echo(f"{'retention erasures':<22} off")
        return "off"
    with svc.db.sessions() as session:
        ids = blocked_and_idle(session, now=now, months=months)

    def one(member_id: int) -> bool:
        with svc.db.transaction() as session:
            lock_for_erasure(session, member_id)
            if not blocked_and_idle(session, now=now, months=months, member_id=member_id):
                return False  # followed again or active since the list was made
            return erase_member(session, member_id, actor="system:retention", via="retention", now=now,
                                reason=f"blocked and inactive for {months} months")[1]

    return _each("retention erasures", ids, one)


def run_daily(svc: Services, *, birthday_whole_month: bool = True, coupon_reminder_days: int = 3) -> dict[str, object]:
    """Segments first (journeys' conditions and campaigns' rules read them), then the member
    steps, journeys, the campaigns that are due, and the outbox."""
    from bot.jobs.segments import run_segments

    report: dict[str, object] = {}
    segments = run_segments(svc)
    report["segments"] = {"members_scored": segments["members_scored"], "rule_tags": segments["rule_tags"]}
    click.echo(f"{'segments':<22} {segments['members_scored']} scored")
    report["birthday_coupons"] = birthdays(svc, whole_month=birthday_whole_month)
    report["tier_changes"] = tier_periods(svc)
    report["tier_reminders"] = tier_reminders(svc)
    report["coupon_reminders"] = coupon_reminders(svc, days_before=coupon_reminder_days)
    with svc.db.transaction() as session:
        report["coupons_expired"] = expire_coupons(session, now=svc.now())
    with svc.db.transaction() as session:  # waiting corrections nobody decided in time
        report["corrections_expired"] = expire_requests(session, now=svc.now(), valid_for=timedelta(hours=svc.settings.correction_approval_hours))
    report["ledger_expired"] = run_expiry(svc)
    from bot.jobs.journey_runner import run_journeys

    report["journeys"] = run_journeys(svc)
    from bot.jobs.campaign_sender import run_due

    report["campaigns"] = run_due(svc)
    report["members_erased"] = retention(svc)
    report["pushes"] = run_outbox(svc)
    return report
