"""Member list import benchmark: N generated rows into a fresh database, as the CLI imports them.

    .venv/bin/python bench/member_import.py [--rows 100000] [--batch-size 1000] [--database-url postgresql://postgres@127.0.0.1:5432/test_ha]

Without ``--database-url`` it makes a fresh SQLite file in a temporary directory; a PostgreSQL
database (its name must contain ``bench`` or ``test``) has its public schema dropped and made again. Then it migrates, makes a
store and two tiers, writes a UTF-8 CSV of N members (a name, a unique phone, a birthday, a
gender, points, stamps, a tier for one in five, a joined date, tags for one in three, an external
id), and times the two phases the CLI runs (bot/jobs/member_import.py): checking every row (parse and
database checks, the dry run) and importing (batches of executemany, one transaction each). It
checks the result (members, ledger entries, the sum of points), runs the file a second time (all
unchanged) and prints rows/s and seconds. Target: the import of 100,000 rows under 60 s.
"""
from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TARGET_SECONDS = 60.0


def make_csv(n: int, seed: int = 17) -> tuple[bytes, int, int]:
    """The file, and the points and stamps it holds in total."""
    rnd = random.Random(seed)
    lines = ["name,phone,birthday,gender,points,stamps,tier,joined_on,tags,external_id"]
    points = stamps = 0
    for i in range(n):
        p, s = rnd.choice((0, 0, rnd.randrange(1, 5000))), rnd.randrange(0, 9)
        points, stamps = points + p, stamps + s
        born = date(1950, 1, 1) + timedelta(days=rnd.randrange(0, 20000))
        joined = date(2015, 1, 1) + timedelta(days=rnd.randrange(0, 3000))
        tier = "銀卡" if i % 5 == 0 else ""
        tags = "常客、咖啡" if i % 3 == 0 else ""
        lines.append(f"會員{i},09{i:08d},{born:%Y/%m/%d},{rnd.choice('男女')},{p},{s},{tier},{joined.isoformat()},{tags},OLD{i:07d}")
    return ("\n".join(lines) + "\n").encode(), points, stamps


def prepare(url: str | None, tmp: str) -> str:
    from bot.db import upgrade

    if url:
        import psycopg
        from sqlalchemy.engine import make_url

        from bench.common import conninfo

        name = make_url(url).database or ""
        if "bench" not in name and "test" not in name:
            raise SystemExit("refusing a database whose name contains neither 'bench' nor 'test': its tables are dropped")
        with psycopg.connect(conninfo(url), autocommit=True) as conn:  # empty, as a fresh database (the database itself stays)
            conn.execute("DROP SCHEMA public CASCADE")
            conn.execute("CREATE SCHEMA public")
    else:
        url = f"sqlite:///{tmp}/import.db"
    upgrade(url)
    return url


def seed(db, now: datetime) -> None:  # type: ignore[no-untyped-def]
    from models.store import create_store
    from models.tier import create_tier

    with db.transaction() as session:
        create_store(session, code="HQ", name="總店", now=now)
        create_tier(session, {"code": "basic", "name": "一般會員", "rank": 0, "threshold": 0}, now=now)
        create_tier(session, {"code": "silver", "name": "銀卡", "rank": 1, "threshold": 3000}, now=now)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--database-url", default=None, help="PostgreSQL (its tables dropped first); default: a fresh SQLite file")
    args = parser.parse_args()

    from sqlalchemy import func, select

    from bot.db import Database
    from bot.jobs.member_import import check_file, create_job, run_job
    from models.ledger import LedgerEntry
    from models.member import Member

    with tempfile.TemporaryDirectory() as tmp:
        url = prepare(args.database_url, tmp)
        db = Database(url)
        svc = SimpleNamespace(db=db, now=lambda: datetime.now(UTC))
        seed(db, svc.now())
        data, points, stamps = make_csv(args.rows)
        print(f"database: {db.engine.dialect.name}; {args.rows:,} rows, {len(data) / 1e6:.1f} MB of CSV, batches of {args.batch_size}")

        c0, t0 = time.process_time(), time.perf_counter()
        plan = check_file(svc, data)  # type: ignore[arg-type]
        t1 = time.perf_counter()
        assert len(plan.rows) == args.rows and not plan.errors, plan.report(limit=5)
        job_id = create_job(svc, data, source="bench.csv", store_code=None, created_by="bench")  # type: ignore[arg-type]
        job = run_job(svc, job_id, batch_size=args.batch_size, plan=plan)  # type: ignore[arg-type]
        c2, t2 = time.process_time(), time.perf_counter()
        with db.sessions() as s:
            members = s.scalar(select(func.count()).select_from(Member))
            got = dict(s.execute(select(LedgerEntry.currency, func.sum(LedgerEntry.amount)).group_by(LedgerEntry.currency)).all())
        ok = members == args.rows and job.imported_rows == args.rows and got == {"point": points, "stamp": stamps}

        t3 = time.perf_counter()
        again = check_file(svc, data)  # type: ignore[arg-type]
        t4 = time.perf_counter()
        ok = ok and again.unchanged == args.rows and not again.rows
        db.dispose()

    check, load, total, rerun = t1 - t0, t2 - t1, t2 - t0, t4 - t3
    print(f"check (parse + database checks): {check:6.1f} s  {args.rows / check:9,.0f} rows/s")
    print(f"import (batches, one commit each): {load:5.1f} s  {args.rows / load:9,.0f} rows/s")
    print(f"total:                            {total:6.1f} s  {args.rows / total:9,.0f} rows/s   target < {TARGET_SECONDS:.0f} s: "
          f"{'pass' if total < TARGET_SECONDS else 'FAIL'}")
    print(f"CPU time of this process, check + import: {c2 - c0:.1f} s ({args.rows / (c2 - c0):,.0f} rows per CPU second; "
          f"wall time above includes waiting for the CPU and the database on a shared machine)")
    print(f"second run (all unchanged):       {rerun:6.1f} s")
    print(f"result: {'ok' if ok else 'WRONG'} ({members:,} members, points {got.get('point', 0):,}, stamps {got.get('stamp', 0):,})")
    return 0 if ok and total < TARGET_SECONDS else 1


if __name__ == "__main__":
    sys.exit(main())
