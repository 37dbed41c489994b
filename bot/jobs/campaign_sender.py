"""Sending campaigns: fresh segments (RFM, NES and rule tags are recomputed when a campaign whose
rule reads them starts, so it selects on today's stats), recipients written while the first
batches are sent (bot.jobs.campaign_feed), quiet hours, the frequency cap, batches of 500 with their retry keys,
LINE's multicast rate limit, a few batches in flight at once, and retries of 429/5xx with
backoff (or LINE's Retry-After) and the same key."""
from __future__ import annotations

import logging
import threading
import time
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Callable, Iterable
from zoneinfo import ZoneInfo

from linebot.v3.messaging import Message
from sqlalchemy import text

from bot.jobs.campaign_feed import RecipientWriter
from bot.line.gateway import LineError
from bot.jobs.segments import recompute_segments
from bot.services import Services
from models import campaign as cm
from models.insight import unit_for
from models.segment import computed_at

log = logging.getLogger(__name__)
TAIPEI = ZoneInfo("Asia/Taipei")


class RateLimiter:
    """Paces requests evenly, shared by the threads of one process (LINE: multicast 200 requests/s).

    LINE counts requests per second: no second may hold more than the limit. A token bucket that
    starts full with a second's worth would send the limit at once and then the limit again
    within that same second, so this one holds a single request (virtual scheduling: each
    request gets the next free slot, ``1 / rate`` after the previous one), and it paces at
    ``headroom`` of the limit so that a request delayed on its way (a thread descheduled, a slow
    connect) never makes a later second too full. ``hold`` makes every sender wait, as a 429 asks.
    """

    def __init__(self, per_second: float, clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep,
                 headroom: float = 0.95) -> None:
        self.rate, self.clock, self.sleep = per_second, clock, sleep
        self.interval = 1.0 / (per_second * headroom)
        self.next_at = clock()  # the earliest time the next request may go
        self.lock = threading.Lock()

    def acquire(self) -> None:
        with self.lock:
            now = self.clock()
            at = max(now, self.next_at)  # idle time does not pile up into a burst
            self.next_at = at + self.interval
        if at > now:
            self.sleep(at - now)

    def hold(self, seconds: float) -> None:
        """No request before ``seconds`` from now (LINE answered 429)."""
        with self.lock:
            self.next_at = max(self.next_at, self.clock() + seconds)


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
# Batches in flight at once: sending one takes the request to LINE and a transaction (~20-50 ms
# on a busy 2-core machine), so it takes several to keep pace with 200 requests/s (bench/campaign.py).
SENDERS = 8
PREFETCH = 20  # batches whose recipients are read in one query
# Rule fields read from what the segments recompute writes (models.segment_rules: member stats, rule tags)
STATS_FIELDS = frozenset({"rfm_class", "r_score", "f_score", "m_score", "nes", "visits", "total_spend", "last_visit_on",
                          "last_visit_within_days", "tag"})


def limiter(per_second: float) -> RateLimiter:
    return _limiters.setdefault(per_second, RateLimiter(per_second))


def run_campaign(svc: Services, campaign_id: int, *, max_attempts: int = 6, sleep: Callable[[float], None] = time.sleep,
                 senders: int | None = None) -> str:
    """Send (or resume) one campaign; returns its status. Safe to call from several workers.

    Claim it, then write its recipients chunk by chunk (bot.jobs.campaign_feed) while the batches
    already written are sent: the first multicast leaves after the first chunk, whatever the
    audience size."""
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
        if not cm.materialized(session, campaign_id):  # the audience is chosen once: on stats computed now
            if reads_stats(campaign.rule):
                recompute_segments(svc, session)
            campaign.stats_computed_at = computed_at(session)
        messages = build_messages(campaign, svc)
    rate = limiter(s.line_multicast_rps)
    from bot.jobs import campaign_push

    with RecipientWriter(svc, campaign_id, per_week=s.marketing_per_week, page=PREFETCH) as writer:
        if campaign_push.personalised(messages):  # web links: one push per member, each with their own /r/<token> (bot/jobs/campaign_push.py)
            campaign_push.send_batches(svc, campaign_id, writer.pages(), messages, max_attempts=max_attempts, sleep=sleep)
        else:
            send_batches(svc, campaign_id, writer.pages(), messages, rate, senders=senders or SENDERS, max_attempts=max_attempts, sleep=sleep)
    with svc.db.transaction() as session:
        if writer.complete and not cm.pending_batches(session, campaign_id, limit=1):
            cm.finish(session, campaign_id, now=svc.now())
        return cm.get_campaign(session, campaign_id).status


def reads_stats(rule: Any) -> bool:
    """Whether a rule reads what the segments recompute writes (member stats, rule tags): only
    then must a campaign wait for a recompute before its audience is chosen."""
    if isinstance(rule, dict):
        return rule.get("field") in STATS_FIELDS or any(reads_stats(v) for v in rule.values() if isinstance(v, (dict, list)))
    if isinstance(rule, list):
        return any(reads_stats(v) for v in rule)
    return False


def send_batches(svc: Services, campaign_id: int, pages: Iterable[list[tuple[int, str]]], messages: list[Message], rate: RateLimiter,
                 *, senders: int, max_attempts: int, sleep: Callable[[float], None]) -> None:
    """Send the batches (``pages`` of (batch number, retry key), as they come) with up to
    ``senders`` in flight, all paced by ``rate``. Each batch is independent (its own key, settled
    in its own transaction), so the order does not matter; the first error (a sender's, or the
    one that stopped ``pages``) stops the others taking new batches and is raised (the campaign
    stays resumable). A page's recipients are read in one query, not one per batch."""
    pending = iter(pages)
    ready: deque[tuple[int, str, list[tuple[int, str, bool]]]] = deque()
    lock = threading.Lock()
    errors: list[BaseException] = []

    def take() -> tuple[int, str, list[tuple[int, str, bool]]] | None:
        with lock:
            if errors:
                return None
            if not ready:
                chunk = next(pending, None)  # waits for the next chunk of recipients to be written
                if chunk:
                    with svc.db.sessions() as session:
                        users = cm.batch_users(session, campaign_id, [no for no, _ in chunk])
                    ready.extend((no, key, users[no]) for no, key in chunk)
            return ready.popleft() if ready else None

    def work() -> None:
        try:
            while (batch := take()) is not None:
                send_batch(svc, campaign_id, *batch, messages, rate, max_attempts=max_attempts, sleep=sleep)
        except BaseException as exc:  # noqa: BLE001 - handed to the caller below
            with lock:
                errors.append(exc)

    threads = [threading.Thread(target=work, name=f"campaign-{campaign_id}-{i}", daemon=True) for i in range(max(1, senders))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]


def send_batch(svc: Services, campaign_id: int, batch_no: int, retry_key: str, users: list[tuple[int, str, bool]], messages: list[Message],
               rate: RateLimiter, *, max_attempts: int, sleep: Callable[[float], None]) -> None:
    to = [uid for _, uid, reachable in users if reachable]
    unreachable = [mid for mid, _, reachable in users if not reachable]
    error: str | None = None
    sent = not to
    for attempt in range(max_attempts):
        if sent:
            break
        rate.acquire()
        try:
            svc.line.multicast(to, messages, retry_key=retry_key, unit=unit_for(campaign_id))
            sent = True
        except LineError as exc:
            error = str(exc)
            if not exc.retryable:
                break
            wait = exc.retry_after if exc.retry_after is not None else min(30.0, 0.5 * 2 ** attempt)
            log.warning("campaign %s batch %s: %s; retrying in %.1fs with the same key", campaign_id, batch_no, exc.status, wait)
            if exc.status == 429:
                rate.hold(wait)  # the channel is over LINE's limit: every sender waits, not only this one
            else:
                sleep(wait)
    with svc.db.transaction() as session:
        if session.get_bind().dialect.name == "postgresql":
            # Not waiting for this commit to reach the disk is safe: were the database to lose it in
            # a crash, the batch would go again with its retry key, which LINE answers with 409.
            session.execute(text("SET LOCAL synchronous_commit = off"))
        cm.settle_batch(session, campaign_id, batch_no, sent=sent, now=svc.now(), error=error, unreachable=unreachable)


def build_messages(campaign: cm.Campaign, svc: Services) -> list[Message]:
    from handlers.offers import campaign_messages

    return campaign_messages(campaign.kind, campaign.content, campaign_id=campaign.id, texts=svc.texts)


def run_due(svc: Services, **kw) -> dict[int, str]:  # type: ignore[no-untyped-def]
    with svc.db.sessions() as session:
        due = cm.due_campaigns(session, svc.now())
    return {cid: run_campaign(svc, cid, **kw) for cid in due}
