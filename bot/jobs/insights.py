"""Ask LINE for the opens and clicks of recent campaigns and journeys (``flask --app bot loyalty
insights``, and the scheduler every few hours): one call per aggregation unit due (models.insight.due
for campaigns, models.journey_insight.due for journeys), one transaction per answer, so a failure on
one unit stops nothing else. The counts returned are per unit, campaigns and journeys together."""
from __future__ import annotations

import logging

from bot.line.gateway import LineError
from bot.services import Services
from models import insight, journey_insight
from models.journey import Journey

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
    _fetch_journeys(svc, counts)
    return counts


def _fetch_journeys(svc: Services, counts: dict[str, int]) -> None:
    now = svc.now()
    with svc.db.sessions() as session:
        todo = [(j.id, j.kind, first_sent) for j, first_sent in journey_insight.due(session, now=now)]
    for journey_id, kind, first_sent in todo:
        first, last = journey_insight.window(first_sent, now)
        try:
            stats = svc.line.unit_statistics(journey_insight.unit_for_journey(kind), first, last)
        except LineError as exc:
            log.warning("journey %s: LINE statistics not available: %s", kind, exc)
            with svc.db.transaction() as session:
                journey_insight.store(session, journey=session.get(Journey, journey_id), first=first, last=last,
                                      now=now, error=str(exc))
            counts["failed"] += 1
            continue
        with svc.db.transaction() as session:
            journey_insight.store(session, journey=session.get(Journey, journey_id), first=first, last=last, now=now,
                                  impressions=stats.impressions, unique_impressions=stats.unique_impressions,
                                  unique_clicks=stats.unique_clicks, clicks=stats.clicks)
        counts["fetched"] += 1
        if stats.unique_impressions is None:
            counts["withheld"] += 1
