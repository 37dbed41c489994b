"""Personalised sending: a campaign whose message carries web links goes out one push per member,
each link rewritten to the bot's ``/r/<token>`` with that member's token (models/campaign_link.py).

A multicast sends one body to 500 people, so it cannot carry a token per member; a push can. The
audience, holdout, frequency cap, quiet hours and blocked members are the multicast's own: the
campaign is materialised exactly as before (bot/jobs/campaign_sender.py), and only the sending of each batch
differs. A batch keeps its retry key, written before anything is sent; each member's push uses a
key derived from it (UUID5 of the batch key and the member id), so it is as fixed before the
request as the batch's, needs no row per member, and a resumed batch sends every push again with
the same key: LINE answers 409 to the ones it accepted and nobody gets the message twice. The
batch is settled (and its members counted by the frequency cap) after every push of it was
answered; a member whose push LINE refused is marked failed on their own.

Pushes are paced at LINE's push limit (``LINE_PUSH_RPS``, 2,000 requests/s by LINE's reference:
"other API endpoints"), ``PUSH_SENDERS`` in flight at once.
"""
from __future__ import annotations

import json
import logging
import re
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Iterable

from linebot.v3.messaging import Message
from sqlalchemy import text

from bot.jobs.campaign_sender import RateLimiter, limiter
from bot.line.gateway import LineError
from bot.line.wire import RawMessage, to_wire
from bot.services import Services
from models import campaign as cm
from models import campaign_link as cl
from models.insight import unit_for

log = logging.getLogger(__name__)
PUSH_SENDERS = 16  # pushes in flight: one takes ~5-10 ms of round trip, so 16 keep pace with LINE's limit
_SLOT = re.compile(r"\\u0000(\d+)\\u0000")  # a link's place in the message's JSON (json.dumps writes NUL as \u0000)


class LinkedMessages:
    """The campaign's messages as JSON with a slot where each web link was: ``links`` are the
    distinct URLs (and the first label seen with each) in the order they appear; ``render`` fills
    the slots with one member's redirect URLs."""

    def __init__(self, messages: list[Message]) -> None:
        wire = [to_wire(m) for m in messages]
        if "\\u0000" in json.dumps(wire):
            raise ValueError("a campaign message has a NUL character")
        self.links: list[tuple[str, str | None]] = []
        positions: dict[str, int] = {}

        def slot(url: str, label: Any) -> str:
            if url not in positions:
                positions[url] = len(self.links)
                self.links.append((url, label if isinstance(label, str) else None))
            return f"\x00{positions[url]}\x00"

        def walk(node: Any) -> None:
            if isinstance(node, list):
                for item in node:
                    walk(item)
            elif isinstance(node, dict):
                if node.get("type") == "uri":
                    for key in ("uri", "linkUri"):  # an action's uri; an imagemap area's linkUri
                        if cl.is_tracked(node.get(key)):
                            node[key] = slot(node[key], node.get("label"))
                    alt = node.get("altUri")
                    if isinstance(alt, dict) and cl.is_tracked(alt.get("desktop")):
                        alt["desktop"] = slot(alt["desktop"], node.get("label"))
                for key, value in node.items():
                    if key != "altUri":
                        walk(value)

        walk(wire)
        self._parts = _SLOT.split(json.dumps(wire, ensure_ascii=False, separators=(",", ":")))

    def render(self, base: str, key: bytes, link_ids: list[int], member_id: int) -> list[Message]:
        """The messages with every link pointing at ``base + token`` for this member."""
        parts = self._parts
        out = [parts[0]]
        for i in range(1, len(parts), 2):
            out.append(base + cl.make_token(key, link_ids[int(parts[i])], member_id))
            out.append(parts[i + 1])
        return [RawMessage.of(m) for m in json.loads("".join(out))]


def personalised(messages: list[Message]) -> bool:
    """Whether the campaign must go out per member: its message carries at least one web link."""
    return bool(LinkedMessages(messages).links)


def member_retry_key(batch_key: str, member_id: int) -> str:
    return str(uuid.uuid5(uuid.UUID(batch_key), str(member_id)))


def send_batches(svc: Services, campaign_id: int, pages: Iterable[list[tuple[int, str]]], messages: list[Message], *, max_attempts: int,
                 sleep: Callable[[float], None] = time.sleep, senders: int = PUSH_SENDERS) -> None:
    """Send the campaign's pending batches member by member (``pages`` of (batch no, retry key), as
    the recipient writer commits them: bot/jobs/campaign_feed.py)."""
    linked = LinkedMessages(messages)
    with svc.db.transaction() as session:
        link_ids = cl.record_links(session, campaign_id, linked.links, now=svc.now())
    sender = _Sender(svc, campaign_id, linked, link_ids, limiter(svc.settings.line_push_rps), max_attempts=max_attempts, sleep=sleep)
    with ThreadPoolExecutor(max_workers=senders, thread_name_prefix=f"campaign-{campaign_id}-push") as pool:
        for chunk in pages:
            with svc.db.sessions() as session:
                users = cm.batch_users(session, campaign_id, [no for no, _ in chunk])
            for batch_no, batch_key in chunk:
                sender.send_batch(pool, batch_no, batch_key, users[batch_no])


class _Sender:
    def __init__(self, svc: Services, campaign_id: int, linked: LinkedMessages, link_ids: list[int], rate: RateLimiter, *,
                 max_attempts: int, sleep: Callable[[float], None]) -> None:
        self.svc, self.campaign_id, self.linked, self.link_ids, self.rate = svc, campaign_id, linked, link_ids, rate
        self.max_attempts, self.sleep = max_attempts, sleep
        self.key = cl.link_key(svc.settings.secret_key)
        self.base = f"{svc.settings.public_base_url}/r/"
        self.unit = unit_for(campaign_id)

    def send_batch(self, pool: ThreadPoolExecutor, batch_no: int, batch_key: str, users: list[tuple[int, str, bool]]) -> None:
        reached = [(mid, uid) for mid, uid, reachable in users if reachable]
        unreachable = [mid for mid, _, reachable in users if not reachable]
        # pool.map raises the first exception that is not LINE's answer: the batch stays pending (resumable)
        errors = list(pool.map(lambda u: self.push(batch_key, *u), reached))
        failed = [mid for (mid, _), error in zip(reached, errors) if error is not None]
        error = next((e for e in errors if e is not None), None)
        with self.svc.db.transaction() as session:
            if session.get_bind().dialect.name == "postgresql":
                session.execute(text("SET LOCAL synchronous_commit = off"))  # as the multicast: a lost commit resends with the same keys
            cl.settle_pushed_batch(session, self.campaign_id, batch_no, now=self.svc.now(), failed=failed, reached=len(reached),
                                   unreachable=unreachable, error=error)

    def push(self, batch_key: str, member_id: int, user_id: str) -> str | None:
        """One member's push, retried on 429/5xx with the same key; the error when LINE refused it."""
        messages = self.linked.render(self.base, self.key, self.link_ids, member_id)
        retry_key = member_retry_key(batch_key, member_id)
        error: str | None = None
        for attempt in range(self.max_attempts):
            self.rate.acquire()
            try:
                self.svc.line.push(user_id, messages, retry_key=retry_key, unit=self.unit)
                return None
            except LineError as exc:
                error = str(exc)
                if not exc.retryable:
                    break
                wait = exc.retry_after if exc.retry_after is not None else min(30.0, 0.5 * 2 ** attempt)
                log.warning("campaign %s member %s: %s; retrying in %.1fs with the same key", self.campaign_id, member_id, exc.status, wait)
                if exc.status == 429:
                    self.rate.hold(wait)
                else:
                    self.sleep(wait)
        return error or "not sent"
