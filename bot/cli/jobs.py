"""Scheduled work as commands cron or a worker can run; each safe to run twice.

    flask --app bot loyalty expire    expire stamps/points past their date (FIFO), as ledger entries
    flask --app bot loyalty outbox    send pushes still pending (after a crash or a LINE outage)
    flask --app bot loyalty segments  recompute RFM, NES and rule tags
    flask --app bot loyalty campaigns send the campaigns that are due
    flask --app bot loyalty daily     all of the day's work (bot/jobs/daily.py): segments first, then birthdays, tiers,
                                      coupons, expiry, journeys, due campaigns and the outbox
    flask --app bot loyalty insights  LINE's opens and clicks for recent campaigns (bot/jobs/insights.py)
"""
from __future__ import annotations

from typing import Any

import click
from flask import Flask
from flask.cli import AppGroup

from bot.jobs.outbox import deliver
from bot.services import Services, services
from models.expiry import expire_due, members_with_due_lots


def run_expiry(svc: Services) -> dict[str, int]:
    """One transaction per member and currency, so a failure stops nothing else."""
    now = svc.now()
    with svc.db.sessions() as session:
        due = members_with_due_lots(session, now)
    expired = {"stamp": 0, "point": 0, "members": 0}
    with click.progressbar(due, label="expiring", show_pos=True) as bar:
        for member_id, currency in bar:
            with svc.db.transaction() as session:
                amount = expire_due(session, member_id=member_id, currency=currency, now=now)
            if amount:
                expired[currency] += amount
                expired["members"] += 1
    return expired


def run_outbox(svc: Services) -> dict[str, Any]:
    """Send what is due, held pushes whose quiet hours ended included; ``why`` counts the reasons
    of pushes skipped because what they were about is no longer true."""
    totals: dict[str, Any] = {"sent": 0, "failed": 0, "skipped": 0, "retry": 0, "why": {}}
    while True:
        counts = deliver(svc, limit=200)
        for key, value in counts.items():
            if key == "why":
                for reason, n in value.items():
                    totals["why"][reason] = totals["why"].get(reason, 0) + n
            else:
                totals[key] += value
        if counts["sent"] + counts["skipped"] + counts["failed"] == 0:  # nothing left that is due now
            return totals


def register(app: Flask) -> None:
    group = AppGroup("loyalty", help="Scheduled loyalty work (cron-safe, idempotent).")

    @group.command("expire")
    def expire_cmd() -> None:
        """Expire stamps and points past their date."""
        result = run_expiry(services())
        click.echo(f"expired {result['stamp']} stamps and {result['point']} points for {result['members']} member(s)")

    @group.command("daily")
    @click.option("--birthday", type=click.Choice(["month", "day"]), default=None, help="birthday coupons in the birthday month or on the day")
    @click.option("--coupon-reminder-days", type=int, default=None, help="remind this many days before a coupon expires")
    def daily_cmd(birthday: str | None, coupon_reminder_days: int | None) -> None:
        """Segments first, then birthdays, tier period ends and reminders, coupon reminders and expiries, journeys, due campaigns, pushes."""
        from bot.jobs.daily import run_daily

        svc = services()
        whole_month = (birthday or svc.settings.birthday_coupon_on) == "month"
        days = coupon_reminder_days if coupon_reminder_days is not None else svc.settings.coupon_reminder_days
        report = run_daily(svc, birthday_whole_month=whole_month, coupon_reminder_days=days)
        click.echo("; ".join(f"{k}: {v}" for k, v in report.items()))

    @group.command("campaigns")
    def campaigns_cmd() -> None:
        """Send scheduled campaigns that are due, and resume interrupted ones."""
        from bot.jobs.campaign_sender import run_due

        for campaign_id, status in run_due(services()).items():
            click.echo(f"campaign {campaign_id}: {status}")

    @group.command("segments")
    def segments_cmd() -> None:
        """Recompute RFM, NES and rule tags (SQL on the database)."""
        from bot.jobs.segments import run_segments

        click.echo("scoring members (RFM, NES) and refreshing rule tags…")
        done = run_segments(services())
        click.echo(f"scored {done['members_scored']} members")
        for name, count in done["rule_tags"].items():
            click.echo(f"  {name}: {count}")

    @group.command("journeys")
    def journeys_cmd() -> None:
        """Scan for journey occasions (birthdays, lapses, tier ends, expiring coupons) and send due runs."""
        from bot.jobs.journey_runner import run_journeys

        result = run_journeys(services())
        click.echo(f"found {result['found']}; processed {result['processed']}")

    @group.command("insights")
    def insights_cmd() -> None:
        """Fetch LINE's opens and clicks for campaigns of the last 30 days (each at most every 12 hours)."""
        from bot.jobs.insights import fetch_insights

        result = fetch_insights(services())
        click.echo(", ".join(f"{k} {v}" for k, v in result.items()))

    @group.command("outbox")
    def outbox_cmd() -> None:
        """Send pending pushes."""
        result = run_outbox(services())
        click.echo(", ".join(f"{k} {v}" for k, v in result.items()))

    app.cli.add_command(group)
