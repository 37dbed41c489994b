"""Quiet hours (bot/jobs/campaign_sender.py ``QuietHours``): no marketing message between ``start`` and ``end``,
Asia/Taipei; a campaign sent then waits until ``end``."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from bot.jobs.campaign_sender import QuietHours

TAIPEI = ZoneInfo("Asia/Taipei")
moments = st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2035, 12, 31), timezones=st.just(UTC))
hours = st.integers(0, 23)


def quiet(q: QuietHours, at: datetime) -> bool:
    hour = at.astimezone(TAIPEI).hour
    if q.start == q.end:
        return False
    return (q.start <= hour or hour < q.end) if q.start > q.end else q.start <= hour < q.end


def test_the_night_window_wraps_midnight():
    q = QuietHours(21, 9)
    at = lambda h, m=0: datetime(2026, 12, 31, h, m, tzinfo=TAIPEI)  # noqa: E731
    assert q.resume_at(at(20, 59)) is None and q.resume_at(at(9)) is None
    assert q.resume_at(at(21)) == datetime(2027, 1, 1, 9, tzinfo=TAIPEI)  # New Year's Eve: tomorrow is another year
    assert q.resume_at(at(8, 59)) == at(9)
    assert QuietHours(0, 0).resume_at(at(3)) is None  # start == end: no quiet hours


@given(start=hours, end=hours, now=moments)
def test_sending_resumes_at_the_first_end_of_the_window_and_not_before(start, end, now):
    q = QuietHours(start, end)
    resume = q.resume_at(now)
    assert (resume is None) == (not quiet(q, now))
    if resume is not None:
        local = resume.astimezone(TAIPEI)
        assert (local.hour, local.minute, local.second) == (end, 0, 0)
        assert now < resume <= now + timedelta(hours=24)
        assert q.resume_at(resume) is None  # at the end of the window sending is allowed
        assert quiet(q, resume - timedelta(minutes=1))  # and not a minute earlier
