"""Campaign benchmark: one text campaign to 100k members against the fake LINE server with
LINE's multicast rate limit (200 requests/s) enforced; wall time against the floor it sets.

    .venv/bin/python bench/campaign.py [--members 100000] [--rounds 2] [--holdout 0]
                                       [--via inprocess|celery] [--rps 200] [--inject-429 0]

Needs PostgreSQL on 127.0.0.1:5432 (user ``postgres``); ``--via celery`` also Redis on
127.0.0.1:6379 (database 14 by default, not the tests' 15).  One run:

1. drops and creates the database ``bench_campaign`` (refuses a name without ``bench``),
   migrates it and loads N joined, reachable members and ``--blocked`` members who unfollowed
   (COPY);
2. starts the fake LINE API in its own process (own GIL) with its multicast limit at ``--rps``
   requests/s, a sliding window: any second with more answers 429, as LINE does;
3. per round: creates a campaign through the admin API (every reachable member, optional holdout)
   and times ``POST /api/v1/admin/campaigns/<id>/send`` until the campaign is ``sent``, run by
   the in-process pool (no REDIS_URL) or by a Celery worker (``--via celery``);
4. checks the fake's records: every member the campaign sent to got exactly one message (none
   twice, none lost), held-out and blocked members none, the report agrees;
5. prints the time, the floor (multicast requests needed / rps; a request carries up to 500
   members), their ratio, 429s and retries, and the target: within 3x the floor.

The floor counts only the rate limit; the time counts everything a marketer waits for: choosing
the recipients, making the batches, sending, recording.  Quiet hours are switched off and the
frequency cap raised so that rounds can follow one another.  Timings on a shared machine are
noisy: read the best round and the spread.  Exit 0 when the target is met and every check passes.
"""
from __future__ import annotations

import argparse
import contextlib
import math
import os
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import PipeChild, conninfo, recreate_database  # noqa: E402

os.environ.setdefault("APP_ENV", "development")  # a developer's machine: the app (and its Celery worker) on bench secrets

ADMIN = "bench-campaign-admin-token"
TOKEN = "bench-campaign-access-token"
MULTICAST = "/v2/bot/message/multicast"
BATCH = 500
TARGET_RATIO = 3.0


# -- CPU accounting ------------------------------------------------------------------------------
CLK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK  # utime + stime
    except (OSError, IndexError, ValueError):
        return 0.0


def busy_seconds() -> float:
    f = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    return (sum(f) - f[3] - f[4]) / CLK  # all cores, everything but idle and iowait


def postgres_pids(url: str) -> list[int]:
    with psycopg.connect(conninfo(url), autocommit=True) as conn:
        return [r[0] for r in conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")]


class CpuMeter:
    """CPU seconds of this process (the bot and its sender threads), the fake, the bot's
    PostgreSQL backends (sampled every 50 ms, so that a connection closed meanwhile still
    counts), and everything else on the machine (other people's work)."""

    def __init__(self, url: str, fake_pid: int, worker_pid: int | None) -> None:
        self.url, self.fake_pid, self.worker_pid = url, fake_pid, worker_pid
        self.pg: dict[int, float] = {}
        self.done = threading.Event()

    def _sample(self) -> None:
        with psycopg.connect(conninfo(self.url), autocommit=True) as conn:
            while True:
                for (pid,) in conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"):
                    self.pg[pid] = max(self.pg.get(pid, 0.0), cpu_seconds(pid))
                if self.done.wait(0.05):
                    return

    def __enter__(self) -> "CpuMeter":
        self.t0, self.busy0 = time.time(), busy_seconds()
        self.self0 = time.process_time()
        self.fake0 = cpu_seconds(self.fake_pid)
        self.worker0 = cpu_seconds(self.worker_pid) if self.worker_pid else 0.0
        self.pg0 = {pid: cpu_seconds(pid) for pid in postgres_pids(self.url)}
        self.sampler = threading.Thread(target=self._sample, daemon=True)
        self.sampler.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.done.set()
        self.sampler.join()
        for pid in postgres_pids(self.url):
            self.pg[pid] = max(self.pg.get(pid, 0.0), cpu_seconds(pid))
        pg = sum(max(0.0, used - self.pg0.get(pid, 0.0)) for pid, used in self.pg.items())
        self.used = {"bot": time.process_time() - self.self0 + (cpu_seconds(self.worker_pid) - self.worker0 if self.worker_pid else 0.0),
                     "postgres": pg, "fake LINE": cpu_seconds(self.fake_pid) - self.fake0}
        self.used["other"] = max(0.0, busy_seconds() - self.busy0 - sum(self.used.values()))
        self.wall = time.time() - self.t0


# -- the fake LINE API in its own process, driven through a pipe --------------------------------
def _fake_main(conn, rps: float, mode: str) -> None:  # the child process
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    from bot.dev.fakeline import FakeLine

    fake = FakeLine(mode, rate_limits={MULTICAST: rps, "/": 2000.0})
    conn.send(fake.start())
    try:
        while (msg := conn.recv())[0] != "stop":
            cmd, arg = msg
            if cmd == "reset":
                fake.clear()
                fake.quota_value = arg
                conn.send("ok")
            elif cmd == "inject":
                fake.inject(MULTICAST, 429, times=arg)  # without Retry-After, as LINE's own 429s
                conn.send("ok")
            elif cmd == "stats":
                calls = fake.requests(MULTICAST)
                delivered: Counter[str] = Counter()
                for d in fake._deliveries:
                    if d["kind"] == "multicast":
                        delivered.update(d["to"])
                accepted = [r.timestamp for r in calls if r.status == 200]
                conn.send({
                    "requests": len(calls), "statuses": Counter(r.status for r in calls),
                    "throttled": sum(r.throttled for r in calls), "injected": sum(r.injected for r in calls),
                    "per_key": Counter(r.headers.get("x-line-retry-key") for r in calls),
                    "batch_sizes": Counter(len((r.json or {}).get("to", [])) for r in calls if r.status == 200),
                    "first": min(accepted, default=0.0), "last": max(accepted, default=0.0),
                    "delivered": delivered, "violations": list(fake.violations[:5]), "n_violations": len(fake.violations),
                })
    except EOFError:
        pass
    finally:
        fake.stop()


class FakeProcess(PipeChild):
    def __init__(self, rps: float, mode: str) -> None:
        super().__init__(_fake_main, rps, mode)


# -- data ------------------------------------------------------------------------------------
def build_database(url: str, members: int, blocked: int, now: datetime) -> None:
    from bot.db import upgrade
    from models.member import member_no_for

    recreate_database(url)
    upgrade(url)
    joined = now - timedelta(days=30)
    with psycopg.connect(conninfo(url)) as conn:
        with conn.cursor().copy("COPY member (id, line_user_id, display_name, language, is_reachable, followed_at, unfollowed_at, member_no,"
                                " joined_at, birthday_on, gender, terms_version, consented_at, created_at) FROM STDIN") as copy:
            for i in range(members + blocked):
                mid = i + 1
                reachable = i % max(1, (members + blocked) // max(1, blocked)) != 0 if blocked else True
                copy.write_row((mid, f"U{mid:032x}", f"會員{mid:06d}", "zh-TW", reachable, joined, None if reachable else now, member_no_for(mid),
                                joined, date(1990, 1, 1) + timedelta(days=mid % 9000), ("female", "male")[mid % 2], "2026-01", joined, joined))
        conn.execute("SELECT setval(pg_get_serial_sequence('member', 'id'), %s)", (members + blocked,))
        conn.commit()
    with psycopg.connect(conninfo(url), autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")


def app_settings(args: argparse.Namespace, url: str, fake_url: str) -> dict[str, object]:
    return {"database_url": url, "admin_token": ADMIN, "line_channel_access_token": TOKEN,
            "line_channel_secret": "bench-campaign-channel-secret", "secret_key": "bench-campaign-secret-key",
            "line_api_base_url": fake_url, "line_data_api_base_url": fake_url, "line_multicast_rps": args.rps,
            "quiet_hours_start": 0, "quiet_hours_end": 0, "marketing_per_week": 10_000, "log_level": "WARNING",
            "redis_url": args.redis_url if args.via == "celery" else None}


def start_worker(args: argparse.Namespace, url: str, fake_url: str, logdir: Path) -> subprocess.Popen:  # type: ignore[type-arg]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DATABASE_URL": url, "ADMIN_TOKEN": ADMIN, "LINE_CHANNEL_ACCESS_TOKEN": TOKEN,
           "LINE_CHANNEL_SECRET": "bench-campaign-channel-secret", "SECRET_KEY": "bench-campaign-secret-key",
           "LINE_API_BASE_URL": fake_url, "LINE_DATA_API_BASE_URL": fake_url, "LINE_MULTICAST_RPS": str(args.rps),
           "QUIET_HOURS_START": "0", "QUIET_HOURS_END": "0", "MARKETING_PER_WEEK": "10000", "LOG_LEVEL": "WARNING",
           "REDIS_URL": args.redis_url}
    log = open(logdir / "celery.log", "wb")
    proc = subprocess.Popen([str(ROOT / ".venv" / "bin" / "celery"), "-A", "bot.jobs.worker", "worker", "--pool", "solo", "--concurrency", "1",
                             "--loglevel", "WARNING", "--without-heartbeat", "--without-gossip", "--without-mingle"],
                            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    from celery import Celery

    probe = Celery(broker=args.redis_url)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"celery worker exited; see {logdir / 'celery.log'}")
        with contextlib.suppress(Exception):
            if probe.control.ping(timeout=1.0):
                return proc
    raise RuntimeError(f"celery worker did not answer; see {logdir / 'celery.log'}")


def stop_worker(proc: subprocess.Popen) -> None:  # type: ignore[type-arg]
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            pass
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)  # its own session only
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(5)


# -- one round --------------------------------------------------------------------------------
def run_round(client, fake: FakeProcess, args: argparse.Namespace, url: str, n: int, worker_pid: int | None) -> dict:  # type: ignore[no-untyped-def]
    from bot.jobs import worker as tasks

    auth = {"Authorization": f"Bearer {ADMIN}"}
    fake.call("reset", 100_000_000)  # records, deliveries and the rate window start empty; a plan with room
    if args.inject_429:
        fake.call("inject", args.inject_429)
    body = {"name": f"bench {n}", "kind": "text", "content": {"text": f"週末拿鐵第二杯半價！({n})"}, "holdout_pct": args.holdout}
    created = client.post("/api/v1/admin/campaigns", json=body, headers=auth)
    assert created.status_code == 201, created.get_json()
    cid = created.get_json()["id"]
    with CpuMeter(url, fake.proc.pid, worker_pid) as cpu:
        t0 = time.time()
        resp = client.post(f"/api/v1/admin/campaigns/{cid}/send", json={}, headers=auth)
        assert resp.status_code == 202, resp.get_json()
        done = tasks.wait_for_jobs(timeout=900)
        wall = time.time() - t0
    report = client.get(f"/api/v1/admin/campaigns/{cid}/report", headers=auth).get_json()
    stats = fake.call("stats")
    with psycopg.connect(conninfo(url)) as conn:
        # a batched recipient's outcome is its batch's (models.campaign.recipients_with_outcome)
        rows = conn.execute("SELECT m.line_user_id, r.\"group\", CASE WHEN r.status = 'batched' THEN coalesce(b.status, 'batched') ELSE r.status END"
                            " FROM campaign_recipient r JOIN member m ON m.id = r.member_id"
                            " LEFT JOIN campaign_batch b ON b.campaign_id = r.campaign_id AND b.batch_no = r.batch_no"
                            " WHERE r.campaign_id = %s", (cid,)).fetchall()
        blocked = [u for (u,) in conn.execute("SELECT line_user_id FROM member WHERE NOT is_reachable")]
        reachable = conn.execute("SELECT count(*) FROM member WHERE is_reachable").fetchone()[0]  # type: ignore[index]
        attempts = conn.execute("SELECT coalesce(sum(attempts), 0), count(*) FROM campaign_batch WHERE campaign_id = %s", (cid,)).fetchone()
    sent = [u for u, group, status in rows if status == "sent"]
    held = [u for u, group, status in rows if group == "holdout"]
    delivered = stats["delivered"]
    problems = []
    if done != ["sent"] or report["status"] != "sent":
        problems.append(f"campaign ended {done} / {report['status']}")
    if report["failed"] or report["pending"]:
        problems.append(f"report: failed {report['failed']}, pending {report['pending']}")
    twice = [u for u, k in delivered.items() if k > 1]
    lost = [u for u in sent if delivered.get(u, 0) == 0]
    if twice:
        problems.append(f"{len(twice)} members got the campaign more than once (e.g. {twice[:2]})")
    if lost:
        problems.append(f"{len(lost)} members recorded as sent got nothing (e.g. {lost[:2]})")
    extra = set(delivered) - set(sent)
    if extra:
        problems.append(f"{len(extra)} members got it without being recorded as sent")
    if any(delivered.get(u) for u in held):
        problems.append("a held-out member got the campaign")
    if any(delivered.get(u) for u in blocked):
        problems.append("a member who blocked the account got the campaign")
    if len(sent) != report["sent"] or report["sent"] != reachable - len(held):
        problems.append(f"sent {len(sent)} (report {report['sent']}), expected {reachable - len(held)}")
    if stats["n_violations"]:
        problems.append(f"{stats['n_violations']} LINE API violations, e.g. {stats['violations'][:2]}")
    batches = math.ceil(len(sent) / BATCH)
    retries = stats["requests"] - len(stats["per_key"])
    return {"wall": wall, "batches": batches, "floor": batches / args.rps, "sent": len(sent), "held": len(held), "blocked": len(blocked),
            "requests": stats["requests"], "statuses": stats["statuses"], "throttled": stats["throttled"], "injected": stats["injected"],
            "retries": retries, "sizes": stats["batch_sizes"], "first": stats["first"] - t0 if stats["first"] else 0.0,
            "span": stats["last"] - stats["first"], "problems": problems, "report": report, "attempts": attempts, "cpu": cpu.used}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--members", type=int, default=100_000, help="reachable joined members (the campaign's target)")
    p.add_argument("--blocked", type=int, default=1_000, help="members who blocked the account (must get nothing)")
    p.add_argument("--holdout", type=int, default=0, help="holdout percentage (0-50)")
    p.add_argument("--rounds", type=int, default=2, help="campaigns sent one after another, each timed")
    p.add_argument("--rps", type=float, default=200.0, help="LINE's multicast limit the fake enforces (and the bot is told)")
    p.add_argument("--via", choices=["inprocess", "celery"], default="inprocess", help="who runs the campaign")
    p.add_argument("--redis-url", default="redis://127.0.0.1:6379/14", help="broker for --via celery")
    p.add_argument("--senders", type=int, default=None, help="batches in flight (bot.jobs.campaign_sender.SENDERS; in-process only)")
    p.add_argument("--inject-429", type=int, default=0, help="also answer this many multicasts with 429 (no Retry-After)")
    p.add_argument("--fake-mode", choices=["spec", "sdk"], default="sdk", help="fake LINE request validation")
    p.add_argument("--setup-sql", action="append", default=[], metavar="SQL",
                   help="run this SQL on the bench database after loading it (to try an index by hand; repeatable)")
    p.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/bench_campaign")
    args = p.parse_args(argv)
    parsed = make_url(args.database_url)
    if parsed.host not in ("127.0.0.1", "localhost", "::1") or "bench" not in (parsed.database or ""):
        p.error("--database-url must be a loopback PostgreSQL database whose name contains 'bench' (it is dropped)")
    from bot.config import normalise_database_url

    url = normalise_database_url(args.database_url)
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    logdir = Path(tempfile.mkdtemp(prefix="bench-campaign-"))
    fake = worker = None
    try:
        t0 = time.perf_counter()
        build_database(url, args.members, args.blocked, datetime.now(UTC))
        for statement in args.setup_sql:  # by-hand experiments (an index, a constraint) on the bench database only
            with psycopg.connect(conninfo(url), autocommit=True) as conn:
                conn.execute(statement)
                print(f"ran on {parsed.database}: {statement}")
        fake = FakeProcess(args.rps, args.fake_mode)
        print(f"database {parsed.database}: {args.members:,} reachable members + {args.blocked:,} who blocked the account"
              f" ({time.perf_counter() - t0:.1f}s); fake LINE {fake.url} ({args.fake_mode} validation, own process),"
              f" multicast limited to {args.rps:g}/s (sliding 1 s window); campaigns run {args.via}; logs in {logdir}")
        from bot import create_app

        app = create_app(**app_settings(args, url, fake.url))
        if args.senders:
            import bot.jobs.campaign_sender

            bot.jobs.campaign_sender.SENDERS = args.senders
        if args.via == "celery":
            worker = start_worker(args, url, fake.url, logdir)
        client = app.test_client()
        rounds = []
        for n in range(1, args.rounds + 1):
            r = run_round(client, fake, args, url, n, worker.pid if worker else None)
            rounds.append(r)
            print(f"round {n}/{args.rounds}: {r['wall']:.2f} s for {r['sent']:,} members in {r['batches']} multicasts"
                  f" (first request after {r['first']:.2f} s, sending {r['span']:.2f} s); {r['throttled']} x 429 from the limit,"
                  f" {r['injected']} injected, {r['retries']} retries; {'OK' if not r['problems'] else 'PROBLEMS'}")
        walls = [r["wall"] for r in rounds]
        best = min(rounds, key=lambda r: r["wall"])
        print(f"\n{args.members:,} members, holdout {args.holdout}%, {args.blocked:,} blocked; best of {args.rounds} rounds"
              " (timings on a shared 2-core machine are noisy: see the spread)")
        print(f"  multicast requests needed   {best['batches']} (<= {BATCH} members each; sizes sent {dict(best['sizes'])})")
        print(f"  floor                       {best['floor']:.2f} s  ({best['batches']} requests / {args.rps:g} per s)")
        print(f"  campaign time               {best['wall']:.2f} s  (median {statistics.median(walls):.2f}, worst {max(walls):.2f});"
              f" from send to sent: recipients and batches {best['first']:.2f} s, then sending {best['span']:.2f} s")
        print(f"  ratio to the floor          {best['wall'] / best['floor']:.2f}x")
        print(f"  requests to LINE            {best['requests']} ({dict(best['statuses'])}); 429 from the rate limit {best['throttled']},"
              f" injected {best['injected']}; retries {best['retries']}")
        print(f"  held out {best['held']:,}, blocked {best['blocked']:,}; report sent {best['report']['sent']:,},"
              f" failed {best['report']['failed']}, skipped {best['report']['skipped']}")
        cpu = best["cpu"]
        print(f"  CPU seconds meanwhile       bot {cpu['bot']:.2f}, PostgreSQL {cpu['postgres']:.2f}, fake LINE {cpu['fake LINE']:.2f};"
              f" other work on the machine {cpu['other']:.2f} ({os.cpu_count()} cores: {2 * best['wall']:.1f} CPU-s available)")
        if worker is not None:
            hwm = next((int(line.split()[1]) / 1024 for line in Path(f"/proc/{worker.pid}/status").read_text().splitlines()
                        if line.startswith("VmHWM:")), 0.0)
            print(f"  peak RSS of the Celery worker (it sends): {hwm:.0f} MB")
        else:
            print(f"  peak RSS of this process (the app; it sends): {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
        ok_target = best["wall"] <= TARGET_RATIO * best["floor"]
        print("\ntargets:")
        print(f"  {'within ' + format(TARGET_RATIO, 'g') + 'x the floor':<28} {best['wall'] / best['floor']:>9.2f}x  {'PASS' if ok_target else 'MISS'}")
        print("\nchecks (every round): each member sent to got exactly one message, none lost; held-out and blocked members none;"
              " the report agrees; no LINE API violations")
        problems = [f"round {i + 1}: {p}" for i, r in enumerate(rounds) for p in r["problems"]]
        for problem in problems:
            print(f"  PROBLEM {problem}")
        print(f"  => {'OK' if not problems else 'FAILED'}")
        app.extensions["loyalty"].db.dispose()
        return 0 if ok_target and not problems else 1
    except KeyboardInterrupt:
        print("\ninterrupted; cleaning up", file=sys.stderr)
        return 130
    finally:
        if worker is not None:
            stop_worker(worker)
        if fake is not None:
            fake.stop()


if __name__ == "__main__":
    sys.exit(main())
