"""Segments recompute without pandas: time ``POST /segments/recompute`` on SQLite (the embedded
default) or on PostgreSQL.

    .venv/bin/python bench/segments_recompute.py [--members 100000] [--awards 2000000] [--rounds 3]
    .venv/bin/python bench/segments_recompute.py --database-url postgresql://postgres@127.0.0.1:5432/bench_segments_recompute

Builds a fresh database (a temporary SQLite file, or drops and creates the PostgreSQL database,
whose name must contain "bench"; migrated, then members and skewed awards made by SQL: a few regulars,
many occasional buyers, 10 % never bought, 10 % of awards without an amount, history of two years,
some purchases on the same day so that ties occur), adds two rule tags, then times the recompute
through the real Flask app (RFM, NES, rule tags, commit) a few rounds and prints best, median, worst.
PostgreSQL against pandas is bench/segments.py.
"""
from __future__ import annotations

import argparse
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

ADMIN = "bench-segments-admin-token"
TAGS = {"常客": {"field": "visits", "op": "gte", "value": 40},
        "沉睡大戶": {"and": [{"field": "nes", "op": "eq", "value": "S3"}, {"field": "m_score", "op": "gte", "value": 4}]}}


def build(path: Path, members: int, awards: int, now: datetime) -> None:
    from bot.db import upgrade

    upgrade(f"sqlite:///{path}")
    stamp = now.strftime("%Y-%m-%d %H:%M:%S")
    conn = sqlite3.connect(path)
    conn.execute("INSERT INTO store (id, code, name, created_at) VALUES (1, 'S01', '門市1', ?)", (stamp,))
    conn.execute(
        "WITH RECURSIVE g(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM g WHERE i < ?) "
        "INSERT INTO member (id, line_user_id, display_name, is_reachable, followed_at, member_no, joined_at, gender, created_at) "
        "SELECT i, printf('U%032x', i), printf('會員%06d', i), 1, datetime(?, printf('-%d days', 1 + i % 760)), printf('M%07d', i),"
        " datetime(?, printf('-%d days', 1 + i % 760)), CASE i % 3 WHEN 0 THEN 'male' ELSE 'female' END,"
        " datetime(?, printf('-%d days', 1 + i % 760)) FROM g", (members, stamp, stamp, stamp))
    buyers = members * 9 // 10
    conn.execute(
        "WITH RECURSIVE g(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM g WHERE i < ?), "
        "picks AS (SELECT i, 1 + CAST(? * ((abs(random()) % 1000000) / 1000000.0) * ((abs(random()) % 1000000) / 1000000.0) AS INTEGER) AS m FROM g) "
        "INSERT INTO award (store_id, receipt_id, member_id, amount, visit, stamps, points, rewards, actor_kind, created_at) "
        "SELECT 1, 'r' || i, m, CASE WHEN abs(random()) % 10 = 0 THEN NULL ELSE 50 + abs(random()) % 450 END, 1, 1, 0, 0, 'pos',"
        " datetime(?, printf('-%d seconds', abs(random()) % (86400 * (1 + (m * 7919) % 730)))) FROM picks",
        (awards, buyers, stamp))
    conn.commit()
    conn.execute("ANALYZE")
    conn.close()


def build_postgres(url: str, members: int, awards: int, now: datetime) -> None:
    import psycopg

    from bench.common import conninfo, recreate_database
    from bot.db import upgrade

    recreate_database(url)
    upgrade(url)
    with psycopg.connect(conninfo(url)) as conn:
        conn.execute("SET session_replication_role = replica")  # consistent by construction: skip FK triggers
        conn.execute("INSERT INTO store (id, code, name, created_at) VALUES (1, 'S01', '門市1', %s)", (now,))
        conn.execute(
            "INSERT INTO member (id, line_user_id, display_name, is_reachable, followed_at, member_no, joined_at, gender, created_at)"
            " SELECT g, 'U' || lpad(to_hex(g), 32, '0'), '會員' || g, true, %(now)s - make_interval(days => 1 + g %% 760), 'M' || lpad(g::text, 7, '0'),"
            " %(now)s - make_interval(days => 1 + g %% 760), CASE g %% 3 WHEN 0 THEN 'male' ELSE 'female' END, %(now)s - make_interval(days => 1 + g %% 760)"
            " FROM generate_series(1, %(n)s) g", {"now": now, "n": members})
        conn.execute("SELECT setval(pg_get_serial_sequence('member', 'id'), %s)", (members,))
        conn.execute("SELECT setseed(0.42)")
        conn.execute(
            "INSERT INTO award (store_id, receipt_id, member_id, amount, visit, stamps, points, rewards, actor_kind, created_at)"
            " SELECT 1, 'r' || g, m, CASE WHEN random() < 0.1 THEN NULL ELSE 50 + floor(random() * 450) END, true, 1, 0, 0, 'pos',"
            "        %(now)s - make_interval(secs => floor(random() * 86400 * (1 + (m * 7919) %% 730)))"
            " FROM (SELECT g, 1 + floor(%(buyers)s * random() * random())::bigint AS m FROM generate_series(1, %(awards)s) g) picks",
            {"now": now, "buyers": members * 9 // 10, "awards": awards})
        conn.commit()
    with psycopg.connect(conninfo(url), autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--members", type=int, default=100_000)
    p.add_argument("--awards", type=int, default=2_000_000)
    p.add_argument("--database-url", default=None, help="a loopback PostgreSQL database whose name contains 'bench' (dropped); default: SQLite")
    p.add_argument("--rounds", type=int, default=3)
    args = p.parse_args(argv)
    from bot import create_app
    from bot.config import Settings

    now = datetime.now(UTC).replace(microsecond=0)
    with tempfile.TemporaryDirectory(prefix="bench-seg-") as tmp:
        t0 = time.perf_counter()
        if args.database_url:
            from sqlalchemy.engine import make_url

            from bot.config import normalise_database_url

            parsed = make_url(args.database_url)
            if parsed.host not in ("127.0.0.1", "localhost", "::1") or "bench" not in (parsed.database or ""):
                p.error("--database-url must be a loopback PostgreSQL database whose name contains 'bench' (it is dropped)")
            url = normalise_database_url(args.database_url)
            build_postgres(url, args.members, args.awards, now)
        else:
            path = Path(tmp) / "bench.db"
            url = f"sqlite:///{path}"
            build(path, args.members, args.awards, now)
        print(f"{url.split(':')[0]}: {args.members:,} members, {args.awards:,} awards ({time.perf_counter() - t0:.1f}s to build)")
        app = create_app(Settings(app_env="development", database_url=url, admin_token=ADMIN, log_level="WARNING",
                                  line_channel_secret="bench-segments-channel-secret", secret_key="bench-segments-secret-key"))
        app.extensions["loyalty"].clock = lambda: now
        client, auth = app.test_client(), {"Authorization": f"Bearer {ADMIN}"}
        for name, rule in TAGS.items():
            assert client.post("/api/v1/admin/tags", json={"name": name, "rule": rule}, headers=auth).status_code == 201
        times = []
        for r in range(args.rounds):
            t0 = time.perf_counter()
            resp = client.post("/api/v1/admin/segments/recompute", headers=auth)
            times.append(time.perf_counter() - t0)
            assert resp.status_code == 200, resp.get_json()
            body = resp.get_json()
            print(f"round {r + 1}/{args.rounds}: recompute {times[-1]:.2f} s ({body['members_scored']:,} scored)")
        print(f"recompute (POST /segments/recompute): best {min(times):.2f} s, median {statistics.median(times):.2f}, worst {max(times):.2f}")
        print(f"RFM {body['rfm']}")
        app.extensions["loyalty"].db.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
