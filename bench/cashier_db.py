"""bench/cashier.py's database: rebuild and seed it, then check the run's results against it."""
from __future__ import annotations

import http.client
import json
import time


from bench.cashier_load import Sample

STORE = "BENCH01"


# -- database ---------------------------------------------------------------------------------------
def prepare_database(url: str) -> str:
    """Create the database if missing, then rebuild its schema by the migrations."""
    import psycopg
    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    from bot.config import normalise_database_url
    from bot.db import make_engine, upgrade

    url = normalise_database_url(url)
    parsed = make_url(url)
    admin = parsed.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (parsed.database,)).fetchone() is None:
            conn.execute(f'CREATE DATABASE "{parsed.database}"')
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    upgrade(url)
    return url


def seed_members(url: str, n: int) -> list[str]:
    """``n`` LINE users who joined, made by the models in one transaction; their member numbers."""
    from datetime import UTC, date, datetime

    from bot.dev import lineevents as ev
    from bot.config import Settings
    from bot.db import Database
    from models.member import complete_join, ensure_member

    now, terms = datetime.now(UTC), Settings().terms_version
    db = Database(url)
    numbers = []
    try:
        with db.transaction() as s:
            for i in range(n):
                member = ensure_member(s, ev.new_user_id(), now=now)
                member.display_name = f"會員{i:04d}"
                complete_join(s, member, now=now, birthday_on=date(1990, 5, 20), terms_version=terms, consented_at=now,
                              phone=f"09{i:08d}", gender="female")
                numbers.append(member.member_no)
    finally:
        db.dispose()
    return numbers


def verify(url: str, samples: list[Sample], fake_url: str) -> tuple[bool, list[str]]:
    """The database agrees with what the cashiers were told; every award's push went out once."""
    from sqlalchemy import func, select

    from bot.db import Database
    from models.ledger import Award, LedgerEntry
    from models.outbox import OutboxMessage
    from models.store import Store

    ok_awards = [s for s in samples if s.award_status == 201]
    lines, good = [], True
    db = Database(url)
    try:
        # pushes go out after each response; give the last ones a moment
        deadline = time.monotonic() + 15
        while True:
            with db.sessions() as s:
                outbox = dict(s.execute(select(OutboxMessage.status, func.count()).where(OutboxMessage.purpose == "award")
                                        .group_by(OutboxMessage.status)).all())
            if not outbox.get("pending") or time.monotonic() > deadline:
                break
            time.sleep(0.3)
        with db.sessions() as s:
            store_id = s.scalar(select(Store.id).where(Store.code == STORE))
            n_awards = s.scalar(select(func.count()).select_from(Award).where(Award.store_id == store_id))
            db_points, db_stamps, db_rewards = s.execute(
                select(func.coalesce(func.sum(Award.points), 0), func.coalesce(func.sum(Award.stamps), 0),
                       func.coalesce(func.sum(Award.rewards), 0)).where(Award.store_id == store_id)).one()
            ledger = dict(s.execute(select(LedgerEntry.reason, func.sum(LedgerEntry.amount))
                                    .where(LedgerEntry.store_id == store_id).group_by(LedgerEntry.reason)).all())
            receipts = s.scalar(select(func.count(func.distinct(Award.receipt_id))).where(Award.store_id == store_id))
            member_ids = [m for (m,) in s.execute(select(Award.member_id).distinct())]
    finally:
        db.dispose()
    sent_points = sum(s.points for s in ok_awards)
    sent_stamps = sum(s.stamps for s in ok_awards)
    sent_rewards = sum(s.rewards for s in ok_awards)
    replayed = sum(1 for s in samples if s.award_status == 200)
    ledger_awarded = ledger.get("award", 0)

    def check(label: str, cond: bool) -> None:
        nonlocal good
        good &= cond
        lines.append(f"  {'ok  ' if cond else 'FAIL'} {label}")

    check(f"awards in DB {n_awards} == successful award responses {len(ok_awards)} (replayed answers: {replayed})",
          n_awards == len(ok_awards) and replayed == 0)
    check(f"distinct receipts {receipts} == awards {n_awards}", receipts == n_awards)
    check(f"award points/stamps/rewards in DB {db_points}/{db_stamps}/{db_rewards} == responses "
          f"{sent_points}/{sent_stamps}/{sent_rewards}",
          (db_points, db_stamps, db_rewards) == (sent_points, sent_stamps, sent_rewards))
    check(f"ledger 'award' entries sum {ledger_awarded} == points + stamps awarded {db_points + db_stamps}",
          ledger_awarded == db_points + db_stamps)
    check(f"award pushes in the outbox {dict(outbox)}: all {n_awards} sent",
          outbox.get("sent", 0) == n_awards and sum(outbox.values()) == n_awards)
    pushes = count_pushes(url, fake_url, member_ids)
    check(f"pushes received by the fake LINE server {pushes} == awards {n_awards}", pushes == n_awards)
    return good, lines


def count_pushes(url: str, fake_url: str, member_ids: list[int]) -> int:
    """Deliveries of kind push, over every member who got an award (the fake's helper endpoint)."""
    from sqlalchemy import select

    from bot.db import Database
    from models.member import Member

    db = Database(url)
    try:
        with db.sessions() as s:
            users = list(s.scalars(select(Member.line_user_id).where(Member.id.in_(member_ids)))) if member_ids else []
    finally:
        db.dispose()
    host = fake_url.removeprefix("http://")
    conn = http.client.HTTPConnection(host, timeout=10)
    total = 0
    for user in users:
        conn.request("GET", f"/__fake__/messages?userId={user}")
        resp = conn.getresponse()
        total += sum(1 for m in json.loads(resp.read())["messages"] if m["kind"] == "push")
    conn.close()
    return total


