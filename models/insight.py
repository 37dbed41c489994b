"""Opens and clicks that LINE counts per aggregation unit, kept per campaign.

Every campaign is multicast under its own unit (``campaign_<id>``), and a job asks LINE for the
unit's statistics (``fetch_due``/``store``, called by ``bot.jobs.insights``). LINE's rules shape what is
kept: its statistics arrive with a delay and are refreshed a few times a day, so a campaign is
asked again at most every ``REFRESH_HOURS`` and for ``KEEP_DAYS`` after it started; LINE's period is
at most 31 days of UTC+9 dates; and any count under 20 users comes back null, which is kept as
null ("too few to show"), never as zero.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, or_, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from models.base import Base, BigInt, Timestamp, insert_for
from models.campaign import Campaign

LINE_DAY = timezone(timedelta(hours=9))  # LINE's statistics dates are UTC+9
REFRESH_HOURS = 12
KEEP_DAYS = 30  # LINE's period is at most 31 days from the first day
PRIVACY_MINIMUM = 20


class CampaignInsight(Base):
    __tablename__ = "campaign_insight"

    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id"), primary_key=True)
    unit: Mapped[str] = mapped_column(String(30), unique=True)
    unique_impressions: Mapped[int | None] = mapped_column(BigInt)
    unique_clicks: Mapped[int | None] = mapped_column(BigInt)
    clicks: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    first_day: Mapped[date]
    last_day: Mapped[date]
    fetched_at: Mapped[Timestamp]
    last_error: Mapped[str | None] = mapped_column(String(200))


def unit_for(campaign_id: int) -> str:
    """The aggregation unit name: LINE allows [a-zA-Z0-9_]{1,30}, case-sensitive."""
    return f"campaign_{campaign_id}"


def period(started_at: datetime, now: datetime) -> tuple[date, date]:
    """LINE's days from the campaign's first send to today, at most 31 of them."""
    first = started_at.astimezone(LINE_DAY).date()
    last = min(now.astimezone(LINE_DAY).date(), first + timedelta(days=KEEP_DAYS))
    return first, max(first, last)


def due(session: Session, *, now: datetime) -> list[Campaign]:
    """Campaigns that sent in the last KEEP_DAYS and were not asked about in the last REFRESH_HOURS."""
    stale = now - timedelta(hours=REFRESH_HOURS)
    stmt = (
        select(Campaign)
        .outerjoin(CampaignInsight, CampaignInsight.campaign_id == Campaign.id)
        .where(Campaign.status.in_(("sending", "sent")), Campaign.started_at.is_not(None),
               Campaign.started_at > now - timedelta(days=KEEP_DAYS + 1), Campaign.started_at <= now)
        .where(or_(CampaignInsight.fetched_at.is_(None), CampaignInsight.fetched_at <= stale))
        .order_by(Campaign.id)
    )
    return list(session.scalars(stmt))


def store(session: Session, *, campaign_id: int, first: date, last: date, now: datetime,
          unique_impressions: int | None = None, unique_clicks: int | None = None,
          clicks: list[dict[str, Any]] | None = None, error: str | None = None) -> CampaignInsight:
    """Keep what LINE answered (or why it could not be asked): one row per campaign, replaced."""
    row = session.get(CampaignInsight, campaign_id)
    if row is None:
        session.execute(insert_for(session)(CampaignInsight).values(
            campaign_id=campaign_id, unit=unit_for(campaign_id), clicks=[], first_day=first, last_day=last,
            fetched_at=now).on_conflict_do_nothing(index_elements=["campaign_id"]))
        row = session.get(CampaignInsight, campaign_id)
        assert row is not None
    row.first_day, row.last_day, row.fetched_at = first, last, now
    if error is not None:  # keep the last good figures; say why they are not newer
        row.last_error = error[:200]
    else:
        row.unique_impressions, row.unique_clicks, row.clicks, row.last_error = unique_impressions, unique_clicks, clicks or [], None
    session.flush()
    return row


def describe(session: Session, campaign: Campaign, *, sent: int) -> dict[str, Any]:
    """The report's view: opens and clicks with their rates, or why there are none."""
    row = session.get(CampaignInsight, campaign.id)
    out: dict[str, Any] = {"unit": unit_for(campaign.id), "unique_impressions": None, "unique_clicks": None,
                           "open_rate": None, "click_rate": None, "clicks": [], "fetched_at": None, "note": None}
    if row is None:
        out["note"] = "not_fetched"  # LINE's statistics come with a delay; the job asks after sending
        return out
    out.update(unique_impressions=row.unique_impressions, unique_clicks=row.unique_clicks, clicks=row.clicks,
               fetched_at=row.fetched_at.isoformat(), period={"from": row.first_day.isoformat(), "to": row.last_day.isoformat()})
    if row.last_error and row.unique_impressions is None:
        out["note"] = "error"
        out["error"] = row.last_error
    elif row.unique_impressions is None:
        out["note"] = "below_minimum"  # LINE shows no count under 20 users
    if sent and row.unique_impressions is not None:
        out["open_rate"] = round(row.unique_impressions / sent, 4)
    if sent and row.unique_clicks is not None:
        out["click_rate"] = round(row.unique_clicks / sent, 4)
    return out
