"""Personalised-send benchmark: a Flex campaign with two web links to N members, one push per
member (each with its own /r/<token>), against the fake LINE server with LINE's push limit
(2,000 requests/s, a sliding window: any second with more answers 429); then the redirect.

    .venv/bin/python bench/campaign_push.py [--members 20000] [--clicks 2000] [--database-url sqlite:///…|postgresql://…/bench_…]

1. builds the database (SQLite in a temporary folder by default; a PostgreSQL URL must name a
   database with ``bench`` in it, which is dropped and created) with N joined members;
2. starts the fake LINE API in its own process (own GIL), each request checked against LINE's spec
   after the run (its CPU is not the bot's on a real deployment);
3. times send → sent through the admin API and the in-process pool, against the floor the push
   limit sets (N / 2,000 s), and checks the fake's records: everyone exactly once, each push with
   its own retry key and its own tokens;
4. times ``GET /r/<token>`` in process (the Flask test client: the route's own cost, no HTTP
   server) for ``--clicks`` clicks by different members, and prints p50/p99 and the SQL statements
   one click runs.

No target is asserted: the figures are printed (README, Benchmarks).
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import PipeChild  # noqa: E402

os.environ.setdefault("APP_ENV", "development")
ADMIN, TOKEN = "bench-push-admin-token", "bench-push-access-token"
PUSH = "/v2/bot/message/push"
FLEX = {"type": "bubble", "body": {"type": "box", "layout": "vertical", "contents": [{"type": "text", "text": "冬季限定拿鐵上市"}]},
        "footer": {"type": "box", "layout": "vertical", "contents": [
            {"type": "button", "action": {"type": "uri", "label": "看菜單", "uri": "https://cafe.example.com/menu"}},
            {"type": "button", "action": {"type": "uri", "label": "冬季新品", "uri": "https://cafe.example.com/winter"}}]}}


def _fake_main(conn, rps: float) -> None:  # the child process
    from bot.dev.fakeline import FakeLine

    fake = FakeLine("spec", rate_limits={PUSH: rps, "/": 2000.0})
    check, held = fake.checker.check, []
    fake.checker.check = lambda *a: held.append(a) or []  # answer now, validate every request when the figures are read
    conn.send(fake.start())
    try:
        while conn.recv()[0] != "stop":
            while held:
                for issue in check(*held.pop()):
                    fake.violations.append(f"(validated after the run) {issue.describe()}")
            calls = fake.requests(PUSH)
            delivered: Counter[str] = Counter()
            for d in fake._deliveries:
                if d["kind"] == "push":
                    delivered.update(d["to"])
            conn.send({"requests": len(calls), "statuses": Counter(r.status for r in calls), "throttled": sum(r.throttled for r in calls),
                       "keys": len({r.headers.get("x-line-retry-key") for r in calls}), "delivered": delivered,
                       "tokens": len({str(r.json["messages"]) for r in calls}), "violations": len(fake.violations)})
    except EOFError:
        pass
    finally:
        fake.stop()


def build(url: str, members: int, now: datetime) -> None:
    from sqlalchemy import insert

    from bot.db import Database, upgrade
    from models.member import Member, member_no_for

    if url.startswith("postgresql"):
        from bench.common import recreate_database

        recreate_database(url)
    upgrade(url)
    db = Database(url)
    joined = now - timedelta(days=30)
    with db.transaction() as s:
        for start in range(0, members, 5000):
            s.execute(insert(Member), [{"id": i, "line_user_id": f"U{i:032x}", "display_name": f"會員{i:06d}", "is_reachable": True, "followed_at": joined,
                                        "member_no": member_no_for(i), "joined_at": joined, "birthday_on": date(1990, 1, 1), "terms_version": "2026-01",
                                        "consented_at": joined, "created_at": joined} for i in range(start + 1, min(members, start + 5000) + 1)])
    db.dispose()


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--members", type=int, default=20_000)
    ap.add_argument("--clicks", type=int, default=2_000)
    ap.add_argument("--rps", type=float, default=2000.0)
    ap.add_argument("--database-url")
    args = ap.parse_args()
    url = args.database_url or f"sqlite:///{tempfile.mkdtemp(prefix='bench_push_')}/bench.db"
    if url.startswith("postgresql") and "bench" not in url.rsplit("/", 1)[-1]:
        sys.exit("the PostgreSQL database's name must contain 'bench' (it is dropped)")
    now = datetime.now(UTC)
    t = time.perf_counter()
    build(url, args.members, now)
    print(f"built {args.members:,} members in {time.perf_counter() - t:.1f} s ({url.split(':', 1)[0]})")
    fake = PipeChild(_fake_main, args.rps)
    try:
        from sqlalchemy import event, select

        from bot.jobs import worker as tasks
        from bot.app import create_app
        from models import campaign_link as cl

        app = create_app(database_url=url, admin_token=ADMIN, line_channel_access_token=TOKEN, line_channel_secret="bench-push-channel-secret",
                         secret_key="bench-push-secret-key", line_api_base_url=fake.url, line_data_api_base_url=fake.url, line_push_rps=args.rps,
                         quiet_hours_start=0, quiet_hours_end=0, marketing_per_week=10_000, log_level="WARNING", public_base_url="https://bench.example.com")
        client = app.test_client()
        auth = {"Authorization": f"Bearer {ADMIN}"}
        made = client.post("/api/v1/admin/campaigns", json={"name": "bench", "kind": "flex", "content": {"alt_text": "冬季", "contents": FLEX}}, headers=auth)
        cid = made.get_json()["id"]
        t0 = time.perf_counter()
        assert client.post(f"/api/v1/admin/campaigns/{cid}/send", json={"confirm_over_quota": True}, headers=auth).status_code == 202
        tasks.wait_for_jobs()
        wall = time.perf_counter() - t0
        status = client.get(f"/api/v1/admin/campaigns/{cid}/report", headers=auth).get_json()
        stats = fake.call("stats")
        floor = args.members / args.rps
        once = all(n == 1 for n in stats["delivered"].values()) and len(stats["delivered"]) == args.members
        print(f"send → {status['status']}: {wall:.2f} s for {args.members:,} pushes; floor {floor:.2f} s at {args.rps:,.0f}/s: "
              f"{wall / floor:.2f}× ({args.members / wall:,.0f} pushes/s)")
        print(f"  requests {stats['requests']:,} {dict(stats['statuses'])}, throttled {stats['throttled']}, retry keys {stats['keys']:,}, "
              f"distinct bodies {stats['tokens']:,}, everyone exactly once: {once}, spec violations {stats['violations']}")

        svc = app.extensions["loyalty"]
        key = cl.link_key(svc.settings.secret_key)
        with svc.db.sessions() as s:
            link_id = s.scalars(select(cl.CampaignLink.id).where(cl.CampaignLink.campaign_id == cid)).first()
        statements = {"n": 0}

        @event.listens_for(svc.db.engine, "before_cursor_execute")
        def _count(_conn, _cursor, statement, *_a):  # type: ignore[no-untyped-def]
            statements["n"] += not statement.lstrip().upper().startswith(("BEGIN", "COMMIT"))

        times = []
        for member in range(1, min(args.clicks, args.members) + 1):
            token = cl.make_token(key, link_id, member)
            before = statements["n"]
            t1 = time.perf_counter()
            resp = client.get(f"/r/{token}")
            times.append(time.perf_counter() - t1)
            assert resp.status_code == 302
        per_click = (statements["n"] - before)
        times.sort()
        print(f"redirect: {len(times):,} clicks, p50 {statistics.median(times) * 1000:.2f} ms, p99 {times[int(len(times) * 0.99)] * 1000:.2f} ms "
              f"(in process), {per_click} SQL statements per click (BEGIN/COMMIT not counted)")
        svc.db.dispose()
    finally:
        fake.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
