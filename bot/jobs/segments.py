"""Recomputing segments (RFM, NES, rule tags) with the app's settings: the one way the admin API,
the CLI, the daily job, the scheduler and a campaign's send refresh them."""
from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from bot.services import Services
from models.segment import compute_stats
from models.tag import refresh_rule_tags


def recompute_segments(svc: Services, session: Session) -> dict[str, Any]:
    """In the caller's transaction: member stats, then the rule tags that read them."""
    now = svc.now()
    scored = compute_stats(session, now=now, window_days=svc.settings.rfm_window_days, cycle_days=svc.settings.purchase_cycle_days)
    return {"members_scored": scored, "rule_tags": refresh_rule_tags(session, now=now), "computed_at": now.isoformat()}


def run_segments(svc: Services) -> dict[str, Any]:
    """The scheduled recompute (daily job, Celery beat): one transaction."""
    with svc.db.transaction() as session:
        return recompute_segments(svc, session)
