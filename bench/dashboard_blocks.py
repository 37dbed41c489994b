"""Dashboard blocks benchmark: the two grouped queries of models/campaign_blocks.py (block rate per
campaign by send day, unfollows per week with the campaigns' share) on a year of campaigns.

    .venv/bin/python bench/dashboard_blocks.py [--members 50000] [--campaigns 24] [--unfollows 5000]
                                               [--database-url sqlite:////tmp/bench_dashboard_blocks.db] [--rounds 3]

One run:

1. migrates the database (a SQLite file is removed first; a PostgreSQL database must have no members,
   or be a test or bench database given with ``--truncate``: it is emptied first; every table is
   emptied again when the script ends);
2. loads N members, C campaigns spread over the last year (every 365/C days, each to every member in
   batches of 500, batches a second apart), and U unfollows at random times of the year (a third of
   them 1–20 hours after a campaign);
3. times ``campaign_blocks`` for the last 30, 90 and 365 days (best and median of the rounds) and
   checks it against a count in Python for the 90 days;
4. prints the figures. Timings on a shared machine are noisy: read the best round.
"""
from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, insert, literal, select, text  # noqa: E402

from bot.db import Database, upgrade  # noqa: E402
from models.base import Base  # noqa: E402
from models.campaign import Campaign, CampaignBatch, CampaignRecipient  # noqa: E402
from models.campaign_blocks import campaign_blocks  # noqa: E402
from models.member import FollowLog, Member  # noqa: E402

TAIPEI = ZoneInfo("Asia/Taipei")
NOW = datetime(2027, 6, 30, 12, 0, tzinfo=UTC)


def load(db: Database, *, members: int, campaigns: int, unfollows: int, seed: int = 7) -> list[tuple[int, datetime]]:
    rng = random.Random(seed)
    start = NOW - timedelta(days=365)
    with db.transaction() as s:
        s.execute(insert(Member), [{"id": i + 1, "line_user_id": f"U{i:032x}", "member_no": f"{i:010d}", "is_reachable": True,
                                    "created_at": start, "followed_at": start, "joined_at": start} for i in range(members)])
        sends = []
        for c in range(campaigns):
            at = start + timedelta(days=(364 * c) // campaigns + 1, hours=2)
            s.execute(insert(Campaign), [{"id": c + 1, "name": f"campaign {c + 1}", "kind": "text", "content": {"text": "hi"},
                                          "holdout_pct": 0, "status": "sent", "created_at": at, "started_at": at,
                                          "finished_at": at + timedelta(seconds=members // 500 + 1)}])
            s.execute(insert(CampaignBatch), [{"campaign_id": c + 1, "batch_no": b, "retry_key": f"{c:04d}-{b:031d}", "status": "sent",
                                               "attempts": 1, "size": 500, "sent_at": at + timedelta(seconds=b)}
                                              for b in range((members + 499) // 500)])
            s.execute(insert(CampaignRecipient).from_select(  # every member, in member order, 500 a batch
                ["campaign_id", "member_id", "group", "status", "batch_no"],
                select(literal(c + 1), Member.id, literal("target"), literal("batched"), (Member.id - 1) // 500)))
            sends.append((c + 1, at))
        rows = []
        for i in range(unfollows):
            member = rng.randrange(members) + 1
            if i % 3 == 0:
                _, at = sends[rng.randrange(campaigns)]
                when = at + timedelta(seconds=(member - 1) // 500, hours=rng.uniform(1, 20))
            else:
                when = start + timedelta(seconds=rng.uniform(0, 365 * 86400))
            rows.append({"member_id": member, "kind": "unfollow", "at": when})
        s.execute(insert(FollowLog), rows)
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
    return sends


def by_hand(db: Database, start: date, end: date) -> tuple[int, int]:
    """Blocked recipients summed over the period's campaigns, and attributed unfollows, in Python."""
    lo = datetime(start.year, start.month, start.day, tzinfo=TAIPEI)
    hi = datetime(end.year, end.month, end.day, tzinfo=TAIPEI) + timedelta(days=1)
    with db.sessions() as s:
        sent = {(c, m): at for c, m, at in s.execute(
            select(CampaignRecipient.campaign_id, CampaignRecipient.member_id, CampaignBatch.sent_at)
            .join(CampaignBatch, (CampaignBatch.campaign_id == CampaignRecipient.campaign_id) & (CampaignBatch.batch_no == CampaignRecipient.batch_no)))}
        drops = list(s.execute(select(FollowLog.id, FollowLog.member_id, FollowLog.at).where(FollowLog.kind == "unfollow")))
    by_member: dict[int, list[datetime]] = {}
    for _id, member, at in drops:
        by_member.setdefault(member, []).append(at)
    blocked = sum(1 for (c, m), at in sent.items() if lo <= at < hi and any(at <= u <= at + timedelta(hours=24) for u in by_member.get(m, [])))
    times_by_member: dict[int, list[datetime]] = {}
    for (_c, m), at in sent.items():
        times_by_member.setdefault(m, []).append(at)
    attributed = sum(1 for _, m, u in drops if lo <= u < hi and any(at <= u <= at + timedelta(hours=24) for at in times_by_member.get(m, [])))
    return blocked, attributed


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--members", type=int, default=50_000)
    ap.add_argument("--campaigns", type=int, default=24)
    ap.add_argument("--unfollows", type=int, default=5_000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--database-url", default="sqlite:////tmp/bench_dashboard_blocks.db")
    ap.add_argument("--truncate", action="store_true", help="empty a PostgreSQL test_*/bench_* database first")
    ap.add_argument("--keep", action="store_true", help="leave the data in place (to look at query plans)")
    args = ap.parse_args()
    url = args.database_url
    if url.startswith("sqlite:///"):
        path = url.removeprefix("sqlite:///")
        if os.path.exists(path):
            os.remove(path)
    upgrade(url)
    db = Database(url)
    if args.truncate and db.engine.dialect.name == "postgresql":
        name = db.engine.url.database or ""
        if not name.startswith(("test_", "bench_")):
            sys.exit(f"--truncate empties only a test_* or bench_* database, not {name}")
        empty(db)
    with db.sessions() as s:
        if s.scalar(select(func.count()).select_from(Member)):
            sys.exit(f"{url} has members: give an empty database")
    try:
        t0 = time.perf_counter()
        load(db, members=args.members, campaigns=args.campaigns, unfollows=args.unfollows)
        print(f"{db.engine.dialect.name}: {args.members:,} members, {args.campaigns} campaigns "
              f"({args.members * args.campaigns:,} recipients), {args.unfollows:,} unfollows, loaded in {time.perf_counter() - t0:.1f} s")
        end = NOW.astimezone(TAIPEI).date()
        for days in (30, 90, 365):
            start = end - timedelta(days=days - 1)
            times = []
            for _ in range(args.rounds):
                with db.sessions() as s:
                    t = time.perf_counter()
                    got = campaign_blocks(s, start=start, end=end, now=NOW)
                    times.append(time.perf_counter() - t)
            blocked = sum(c["blocked"] for c in got["campaigns"])
            attributed = sum(w["attributed"] for w in got["weeks"])
            print(f"  last {days:>3} days: {len(got['campaigns']):>2} campaigns, {len(got['weeks']):>2} weeks, {blocked:,} blocked, "
                  f"{attributed:,} of {sum(w['unfollows'] for w in got['weeks']):,} unfollows a campaign's; "
                  f"best {min(times) * 1000:.0f} ms, median {statistics.median(times) * 1000:.0f} ms")
            if days == 90:
                want = by_hand(db, start, end)
                print(f"  checked against Python for 90 days: {'ok' if want == (blocked, attributed) else f'MISMATCH {want}'}")
                if want != (blocked, attributed):
                    return 1
    finally:
        if db.engine.dialect.name == "postgresql" and not args.keep:
            empty(db)
    return 0


def empty(db: Database) -> None:
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    with db.engine.begin() as conn:
        conn.execute(text("TRUNCATE " + ", ".join(tables) + " RESTART IDENTITY CASCADE"))


if __name__ == "__main__":
    sys.exit(main())
