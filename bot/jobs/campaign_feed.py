"""A campaign's recipients written while its first batches are sent.

The writer (its own thread) writes the audience in chunks (``models.campaign.materialize_chunk``,
one transaction each, under the campaign row's lock): a first chunk of one batch's worth of
members, so that the first multicast leaves at once, then chunks twice as big up to
CHUNK_BATCHES batches. Every chunk's batches and retry keys are committed before any of them
can be sent. The sender reads the pending
batches from the database, in batch order, as soon as a chunk is committed (``pages``), so
a resumed campaign's batches written before a crash come first, and nothing of the audience is
held in memory: a page of batch numbers and keys at a time.

    writer:  chunk 1 ─commit─ chunk 2 ─commit─ chunk 3 ─commit─ … last chunk ─commit (materialized_at)
    sender:           └ batch 1 → LINE  └ batches 2-3 → LINE     └ …                └ done
"""
from __future__ import annotations

import logging
import threading
from typing import Iterator

from sqlalchemy import text

from bot.services import Services
from models import campaign as cm

log = logging.getLogger(__name__)
FIRST_CHUNK = 1  # batches' worth of members in the first chunk: the first multicast waits for this one alone
# Batches the writer may be ahead of the sender. Without a bound, on SQLite (where every transaction
# takes the one write lock) the writer re-takes the lock after each commit and the sender's reads starve
# until the whole audience is written (bench/campaign.py: the first multicast after 11 s of 100,000).
AHEAD = 2 * 20


class RecipientWriter:
    """Writes a campaign's recipients chunk by chunk in a thread; ``pages()`` yields its pending
    batches as they are committed. Use as a context manager: leaving it stops the writer (after
    the chunk it is writing) and waits for it."""

    def __init__(self, svc: Services, campaign_id: int, *, per_week: int | None, page: int) -> None:
        self.svc, self.campaign_id, self.per_week, self.page = svc, campaign_id, per_week, page
        self.changed = threading.Condition()
        self.chunks = 0  # chunks committed by this writer
        self.sealed = 0  # batches those chunks made ready
        self.taken = 0  # batches pages() handed to the sender
        self.complete = False  # the audience is written (this run or an earlier one)
        self.error: BaseException | None = None
        self.stopping = False
        self.thread = threading.Thread(target=self._write, name=f"campaign-{campaign_id}-recipients", daemon=True)

    def __enter__(self) -> RecipientWriter:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        with self.changed:
            self.stopping = True
            self.changed.notify_all()
        self.thread.join()

    def _write(self) -> None:
        batches = FIRST_CHUNK
        try:
            while True:
                with self.changed:
                    if self.stopping:
                        return
                made, complete = self.write_chunk(batches * cm.BATCH_SIZE)
                with self.changed:
                    self.chunks += 1
                    self.sealed += made
                    self.complete = complete
                    self.changed.notify_all()
                    if complete:
                        return
                    self.changed.wait_for(lambda: self.stopping or self.sealed - self.taken <= AHEAD)
                batches = min(2 * batches, cm.CHUNK_BATCHES)
        except BaseException as exc:  # noqa: BLE001 - handed to the sender through pages()
            log.warning("campaign %s: writing recipients stopped (%s); it resumes on the next run", self.campaign_id, type(exc).__name__)
            with self.changed:
                self.error = exc
                self.changed.notify_all()

    def write_chunk(self, members: int) -> tuple[int, bool]:
        """The next ``members`` of the audience in one transaction: the batches it made ready, and
        whether the audience is all written."""
        with self.svc.db.transaction() as session:
            if session.get_bind().dialect.name == "postgresql":  # a chunk runs in milliseconds; the JIT would compile it for a second
                session.execute(text("SET LOCAL jit = off"))
            campaign = cm.get_campaign(session, self.campaign_id, lock=True)  # one writer at a time, whoever runs it
            made = cm.materialize_chunk(session, campaign, now=self.svc.now(), members=members, per_week=self.per_week)
            return made, campaign.materialized_at is not None

    def pages(self) -> Iterator[list[tuple[int, str]]]:
        """(batch number, retry key) of the pending batches, ``page`` at a time in batch order,
        each as soon as its chunk is committed; ends when the audience is written and sent out,
        raises what stopped the writer. One consumer at a time (the sender takes a lock)."""
        last = 0
        while True:
            with self.changed:
                complete, error, seen = self.complete, self.error, self.chunks
            if error is not None:
                raise error
            with self.svc.db.sessions() as session:
                page = [(b.batch_no, b.retry_key) for b in cm.pending_batches(session, self.campaign_id, after=last, limit=self.page)]
            if page:
                last = page[-1][0]
                with self.changed:
                    self.taken += len(page)
                    self.changed.notify_all()
                yield page
            elif complete:  # read before the query: no chunk can have been committed unseen
                return
            else:
                with self.changed:
                    self.taken = max(self.taken, self.sealed)  # nothing left to take (another worker may have sent some): write on
                    self.changed.notify_all()
                    self.changed.wait_for(lambda: self.chunks != seen or self.error is not None or self.stopping)  # noqa: B023 (used within this round)
                    if self.stopping and self.chunks == seen and self.error is None:
                        return
