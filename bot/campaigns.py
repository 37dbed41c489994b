"""Sending campaigns: quiet hours, the frequency cap, batches of 500 with their retry keys,
LINE's multicast rate limit, and retries of 429/5xx with backoff and the same key."""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable
from zoneinfo import ZoneInfo

from linebot.v3.messaging import Message

from bot.line import LineError
from bot.services import Services
from models import campaign as cm

log = logging.getLogger(__name__)
TAIPEI = ZoneInfo("Asia/Taipei")


class RateLimiter:
    """A token bucket shared by the threads of one process (LINE: multicast 200 requests/s)."""

    def __init__(self, per_second: float, clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep) -> None:
        self.rate, self.tokens, self.clock, self.sleep = per_second, per_second, clock, sleep
        self.updated = clock()
        self.lock = threading.Lock()

    def acquire(self) -> None:
        while True:
            with self.lock:
                now = self.clock()
                self.tokens = min(self.rate, self.tokens + (now - self.updated) * self.rate)
                self.updated = now
                if self.tokens >= 1:
                    self.tokens -= 1
                    return
                wait = (1 - self.tokens) / self.rate
            self.sleep(wait)


@dataclass(frozen=True)
class QuietHours:
    start: int  # hour in Asia/Taipei, e.g. 21
    end: int    # e.g. 9

    def resume_at(self, now: datetime) -> datetime | None:
        """When sending may resume, or None when ``now`` is outside the quiet hours."""
        if self.start == self.end:
            return None
        local = now.astimezone(TAIPEI)
        hour = local.hour
        quiet = (self.start <= hour or hour < self.end) if self.start > self.end else (self.start <= hour < self.end)
        if not quiet:
            return None
        resume = local.replace(hour=self.end, minute=0, second=0, microsecond=0)
        if resume <= local:
            resume += timedelta(days=1)
        return resume


_limiters: dict[float, RateLimiter] = {}


def limiter(per_second: float) -> RateLimiter:
    return _limiters.setdefault(per_second, RateLimiter(per_second))


def run_campaign(svc: Services, campaign_id: int, *, max_attempts: int = 6, sleep: Callable[[float], None] = time.sleep) -> str:
    """Send (or resume) one campaign; returns its status. Safe to call from several workers."""
    s = svc.settings
    now = svc.now()
    with svc.db.transaction() as session:
        if not cm.claim_for_sending(session, campaign_id, now=now):
            return cm.get_campaign(session, campaign_id).status
        campaign = cm.get_campaign(session, campaign_id, lock=True)
        resume = QuietHours(s.quiet_hours_start, s.quiet_hours_end).resume_at(now)
        if resume is not None:  # quiet hours: wait (a resumed campaign waits too)
            campaign.status, campaign.scheduled_at = "scheduled", resume
            return "scheduled"
        cm.materialize(session, campaign, now)
        cm.apply_frequency_cap(session, campaign, now=now, per_week=s.marketing_per_week)
        cm.make_batches(session, campaign)
        messages = [m.to_dict() for m in build_messages(campaign, svc)]
    rate = limiter(s.line_multicast_rps)
    with svc.db.sessions() as session:
        batches = [(b.batch_no, b.retry_key) for b in cm.pending_batches(session, campaign_id)]
    for batch_no, retry_key in batches:
        send_batch(svc, campaign_id, batch_no, retry_key, messages, rate, max_attempts=max_attempts, sleep=sleep)
    with svc.db.transaction() as session:
        if not cm.pending_batches(session, campaign_id):
            cm.finish(session, campaign_id, now=svc.now())
        return cm.get_campaign(session, campaign_id).status


def send_batch(svc: Services, campaign_id: int, batch_no: int, retry_key: str, messages: list[dict], rate: RateLimiter,  # type: ignore[type-arg]
               *, max_attempts: int, sleep: Callable[[float], None]) -> None:
    with svc.db.sessions() as session:
        users = cm.batch_users(session, campaign_id, batch_no)
    to = [uid for _, uid, reachable in users if reachable]
    unreachable = [mid for mid, _, reachable in users if not reachable]
    error: str | None = None
    sent = not to
    for attempt in range(max_attempts):
        if sent:
            break
        rate.acquire()
        try:
            svc.line.multicast(to, [Message.from_dict(m) for m in messages], retry_key=retry_key)
            sent = True
        except LineError as exc:
            error = str(exc)
            if not exc.retryable:
                break
            wait = exc.retry_after if exc.retry_after is not None else min(30.0, 0.5 * 2 ** attempt)
            log.warning("campaign %s batch %s: %s; retrying in %.1fs with the same key", campaign_id, batch_no, exc.status, wait)
            sleep(wait)
    with svc.db.transaction() as session:
        cm.settle_batch(session, campaign_id, batch_no, sent=sent, now=svc.now(), error=error, unreachable=unreachable)


def build_messages(campaign: cm.Campaign, svc: Services) -> list[Message]:
    from handlers.offers import campaign_messages

    return campaign_messages(campaign.kind, campaign.content, campaign_id=campaign.id, texts=svc.texts)


def run_due(svc: Services, **kw) -> dict[int, str]:  # type: ignore[no-untyped-def]
    with svc.db.sessions() as session:
        due = cm.due_campaigns(session, svc.now())
    return {cid: run_campaign(svc, cid, **kw) for cid in due}
