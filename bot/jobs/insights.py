"""Ask LINE for each recent campaign's opens and clicks (``flask --app bot loyalty insights``,
and the scheduler every few hours): one call per campaign due (models.insight.due), one
transaction per answer, so a failure on one campaign stops nothing else."""
from __future__ import annotations

import logging

from bot.line.gateway import LineError
from bot.services import Services
from models import insight

log = logging.getLogger(__name__)


def fetch_insights(svc: Services) -> dict[str, int]:
    now = svc.now()
    with svc.db.sessions() as session:
        todo = [(c.id, c.started_at) for c in insight.due(session, now=now)]
    counts = {"fetched": 0, "withheld": 0, "failed": 0}
    for campaign_id, started_at in todo:
        first, last = insight.period(started_at, now)
        try:
            stats = svc.line.unit_statistics(insight.unit_for(campaign_id), first, last)
        except LineError as exc:
            log.warning("campaign %s: LINE statistics not available: %s", campaign_id, exc)
            with svc.db.transaction() as session:
                insight.store(session, campaign_id=campaign_id, first=first, last=last, now=now, error=str(exc))
            counts["failed"] += 1
            continue
        with svc.db.transaction() as session:
            insight.store(session, campaign_id=campaign_id, first=first, last=last, now=now,
                          unique_impressions=stats.unique_impressions, unique_clicks=stats.unique_clicks, clicks=stats.clicks)
        counts["fetched"] += 1
        if stats.unique_impressions is None:
            counts["withheld"] += 1
    return counts
