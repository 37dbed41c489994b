"""Sign-in throttling for the console and the counter, per (account, client address) and per address.

A wrong password counts against the pair "this name from this address" and against the address.
After a few free tries the pair waits, twice as long after each further failure (1 s, 2 s, 4 s …,
at most 15 minutes); an address that fails across many names waits the same way. Nobody can lock
an account from elsewhere: the owner signing in from the office is another pair. Names that do not
exist count exactly as real ones, so the answers tell nothing about who has an account. Keys are
stored as SHA-256 digests: the table holds neither names nor addresses.

    key                       free tries   then waits
    console|staff:NAME|ADDR   5            2^(n-5) s, at most 15 min
    addr:ADDR                 30           2^(n-30) s, at most 15 min

A quiet hour forgets a key's failures; a successful sign-in forgets its pair (not its address).
"""
from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Integer, String, case, delete, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from models.base import Base, IntPK, Timestamp, insert_for
from models.errors import DomainError

PAIR_FREE, ADDRESS_FREE = 5, 30
MAX_WAIT = timedelta(minutes=15)
FORGET_AFTER = timedelta(hours=1)


class LoginThrottle(Base):
    __tablename__ = "login_throttle"

    id: Mapped[IntPK]
    key: Mapped[str] = mapped_column(String(64), unique=True)
    failures: Mapped[int] = mapped_column(Integer)
    blocked_until: Mapped[Timestamp | None]
    last_failure_at: Mapped[Timestamp]


class TooManyAttempts(DomainError):
    code = "too_many_attempts"
    status = 429


@dataclass(frozen=True)
class Attempt:
    """One sign-in attempt: which door (console or staff), which name, from which address."""

    door: str
    name: str
    address: str

    @property
    def pair(self) -> str:
        return _digest(f"{self.door}:{self.name.strip().lower()}|{self.address}")

    @property
    def keys(self) -> dict[str, int]:
        """Each throttle key's digest and its free tries."""
        return {self.pair: PAIR_FREE, _digest(f"addr:{self.address}"): ADDRESS_FREE}


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def wait(free: int, failures: int) -> timedelta:
    """How long a key waits after ``failures`` in a row (pure: tested without a database)."""
    if failures < free:
        return timedelta(0)
    return min(MAX_WAIT, timedelta(seconds=2 ** min(failures - free, 20)))


def check(session: Session, attempt: Attempt, *, now: datetime) -> None:
    """Refuses (429, with retry_after_seconds) while any of the attempt's keys is waiting."""
    rows = session.scalars(select(LoginThrottle).where(LoginThrottle.key.in_(list(attempt.keys)))).all()
    until = max((r.blocked_until for r in rows if r.blocked_until is not None and r.blocked_until > now), default=None)
    if until is not None:
        seconds = max(1, math.ceil((until - now).total_seconds()))
        raise TooManyAttempts("Too many failed sign-ins from here; wait a moment and try again",
                              details={"retry_after_seconds": seconds})


def _bump(session: Session, digest: str, *, stale_before: datetime, now: datetime, window_start: bool) -> tuple[int, datetime]:
    """One more on the key, in SQL (two workers at once both count); a key last touched before
    ``stale_before`` starts again at 1. Returns (count, last_failure_at): the last failure's time,
    or with ``window_start`` the start of the key's window."""
    session.execute(insert_for(session)(LoginThrottle).values(key=digest, failures=0, last_failure_at=now)
                    .on_conflict_do_nothing(index_elements=["key"]))
    stale = LoginThrottle.last_failure_at <= stale_before
    at = case((stale, now), else_=LoginThrottle.last_failure_at) if window_start else now
    count, since = session.execute(update(LoginThrottle).where(LoginThrottle.key == digest)
                                   .values(failures=case((stale, 1), else_=LoginThrottle.failures + 1), last_failure_at=at)
                                   .returning(LoginThrottle.failures, LoginThrottle.last_failure_at)).one()
    return count, since


def fail(session: Session, attempt: Attempt, *, now: datetime) -> None:
    """Counts a failure on every key; a key past its free tries waits (``wait``)."""
    for key, free in attempt.keys.items():
        failures, _ = _bump(session, key, stale_before=now - FORGET_AFTER, now=now, window_start=False)
        pause = wait(free, failures)
        if pause:
            session.execute(update(LoginThrottle).where(LoginThrottle.key == key).values(blocked_until=now + pause))
    session.flush()


def succeed(session: Session, attempt: Attempt) -> None:
    """The right password from this address: the pair starts afresh (the address keeps its count)."""
    session.execute(delete(LoginThrottle).where(LoginThrottle.key == attempt.pair))


def count_use(session: Session, key: str, *, limit: int, window: timedelta, now: datetime, what: str = "member numbers typed",
              hint: str = "scan the member's QR code, or wait") -> int:
    """A fixed-window rate limit (a lookup by typed member number, per credential): raises
    TooManyAttempts on the use past ``limit`` in ``window``. For such a key ``last_failure_at`` is
    the window's start and ``failures`` the uses in it. The caller commits even when refused."""
    used, start = _bump(session, _digest(key), stale_before=now - window, now=now, window_start=True)
    if used > limit:
        seconds = max(1, math.ceil((start + window - now).total_seconds()))
        raise TooManyAttempts(f"More than {limit} {what} in {int(window.total_seconds() // 60)} minutes; {hint}", code="too_many_lookups", details={"retry_after_seconds": seconds})
    return used
