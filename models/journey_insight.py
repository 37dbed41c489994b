"""Opens and clicks that LINE counts per aggregation unit, kept per journey.

Every journey's pushes carry one unit for the journey (``journey_<kind>``, ``unit_for_journey``):
seven names in all, whatever the number of members or months, so journeys take 7 of LINE's 1,000
unit names a channel may use in a month (campaigns take one each). A journey never ends, so the job
asks LINE about a rolling window: the UTC+9 days from its first send in the last ``KEEP_DAYS`` to
today (LINE's period is at most 31 days), at most every ``REFRESH_HOURS``, for journeys that sent in
that window. LINE's rules are kept as for campaigns (models.insight): its figures arrive with a
delay, and any count under 20 users comes back null, kept as null ("too few to show"), never as 0.
"""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from models.base import Base, BigInt, Timestamp, insert_for
from models.insight import KEEP_DAYS, LINE_DAY, PRIVACY_MINIMUM, REFRESH_HOURS
from models.journey import KINDS, Journey, JourneyRun

PURPOSE_PREFIX = "journey:"  # the outbox purpose of a journey's push (bot/jobs/journey_runner.py)


class JourneyInsight(Base):
    __tablename__ = "journey_insight"

    journey_id: Mapped[int] = mapped_column(ForeignKey("journey.id"), primary_key=True)
    unit: Mapped[str] = mapped_column(String(30), unique=True)
    impressions: Mapped[int | None] = mapped_column(BigInt)  # times the message (its first bubble) was shown
    unique_impressions: Mapped[int | None] = mapped_column(BigInt)
    unique_clicks: Mapped[int | None] = mapped_column(BigInt)
    clicks: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    first_day: Mapped[date]
    last_day: Mapped[date]
    fetched_at: Mapped[Timestamp]
    last_error: Mapped[str | None] = mapped_column(String(200))


def unit_for_journey(kind: str) -> str:
    """The journey's aggregation unit: LINE allows one per request, [a-zA-Z0-9_]{1,30}, case-sensitive."""
    return f"journey_{kind}"


def unit_of_purpose(purpose: str) -> str | None:
    """The unit an outbox push is counted under: a journey's ``journey:<kind>`` has its journey's;
    every other push (awards, the daily job's built-in reminders, rich menus) has none."""
    kind = purpose.removeprefix(PURPOSE_PREFIX) if purpose.startswith(PURPOSE_PREFIX) else None
    return unit_for_journey(kind) if kind in KINDS else None


def window(first_sent_at: datetime, now: datetime) -> tuple[date, date]:
    """LINE's days to ask about: from the first send of the last KEEP_DAYS days to today (UTC+9)."""
    last = now.astimezone(LINE_DAY).date()
    first = max(first_sent_at.astimezone(LINE_DAY).date(), last - timedelta(days=KEEP_DAYS))
    return min(first, last), last


def due(session: Session, *, now: datetime) -> list[tuple[Journey, datetime]]:
    """Journeys that sent in the last KEEP_DAYS days and were not asked about in the last
    REFRESH_HOURS, each with its first send in that window."""
    since = now - timedelta(days=KEEP_DAYS + 1)
    first_sent = (select(JourneyRun.journey_id, func.min(JourneyRun.sent_at).label("first_sent_at"))
                  .where(JourneyRun.status == "sent", JourneyRun.sent_at > since, JourneyRun.sent_at <= now)
                  .group_by(JourneyRun.journey_id).subquery())
    stmt = (
        select(Journey, first_sent.c.first_sent_at)
        .join(first_sent, first_sent.c.journey_id == Journey.id)
        .outerjoin(JourneyInsight, JourneyInsight.journey_id == Journey.id)
        .where((JourneyInsight.fetched_at.is_(None)) | (JourneyInsight.fetched_at <= now - timedelta(hours=REFRESH_HOURS)))
        .order_by(Journey.id)
    )
    return [(journey, at if at.tzinfo else at.replace(tzinfo=UTC)) for journey, at in session.execute(stmt)]


def store(session: Session, *, journey: Journey, first: date, last: date, now: datetime, impressions: int | None = None,
          unique_impressions: int | None = None, unique_clicks: int | None = None, clicks: list[dict[str, Any]] | None = None,
          error: str | None = None) -> JourneyInsight:
    """Keep what LINE answered (or why it could not be asked): one row per journey, replaced."""
    row = session.get(JourneyInsight, journey.id)
    if row is None:
        session.execute(insert_for(session)(JourneyInsight).values(
            journey_id=journey.id, unit=unit_for_journey(journey.kind), clicks=[], first_day=first, last_day=last,
            fetched_at=now).on_conflict_do_nothing(index_elements=["journey_id"]))
        row = session.get(JourneyInsight, journey.id)
        assert row is not None
    row.first_day, row.last_day, row.fetched_at = first, last, now
    if error is not None:  # keep the last good figures; say why they are not newer
        row.last_error = error[:200]
    else:
        row.impressions, row.unique_impressions, row.unique_clicks = impressions, unique_impressions, unique_clicks
        row.clicks, row.last_error = clicks or [], None
    session.flush()
    return row


def describe(session: Session, journey: Journey) -> dict[str, Any]:
    """The journey report's view: LINE's impressions, unique impressions and clicks over its period,
    the members the journey reached in those days, the rates, or why there are none:
    ``not_fetched`` (LINE's figures come with a delay; the job asks after sending), ``too_few_recipients``
    (under 20 members received it in the period: LINE shows no count at all), ``below_minimum``
    (a count LINE withheld: under 20 users), ``error`` (the last call failed, nothing fetched before)."""
    row = session.get(JourneyInsight, journey.id)
    out: dict[str, Any] = {"unit": unit_for_journey(journey.kind), "impressions": None, "unique_impressions": None,
                           "unique_clicks": None, "open_rate": None, "click_rate": None, "clicks": [], "recipients": None,
                           "period": None, "fetched_at": None, "note": None}
    if row is None:
        out["note"] = "not_fetched"
        return out
    lo = datetime(row.first_day.year, row.first_day.month, row.first_day.day, tzinfo=LINE_DAY)
    hi = datetime(row.last_day.year, row.last_day.month, row.last_day.day, tzinfo=LINE_DAY) + timedelta(days=1)
    recipients = int(session.scalar(select(func.count(func.distinct(JourneyRun.member_id))).where(  # those LINE could count
        JourneyRun.journey_id == journey.id, JourneyRun.status == "sent", JourneyRun.sent_at >= lo, JourneyRun.sent_at < hi,
        JourneyRun.sent_at <= row.fetched_at)) or 0)
    out.update(impressions=row.impressions, unique_impressions=row.unique_impressions, unique_clicks=row.unique_clicks,
               clicks=row.clicks, recipients=recipients, fetched_at=row.fetched_at.isoformat(),
               period={"from": row.first_day.isoformat(), "to": row.last_day.isoformat()})
    if row.last_error and row.unique_impressions is None:
        out["note"], out["error"] = "error", row.last_error
    elif row.unique_impressions is None:
        out["note"] = "too_few_recipients" if recipients < PRIVACY_MINIMUM else "below_minimum"
    if recipients and row.unique_impressions is not None:
        out["open_rate"] = round(row.unique_impressions / recipients, 4)
    if recipients and row.unique_clicks is not None:
        out["click_rate"] = round(row.unique_clicks / recipients, 4)
    return out
