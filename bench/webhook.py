"""Webhook benchmark: our bot vs a minimal line-bot-sdk echo bot, both under gunicorn.

    .venv/bin/python bench/webhook.py [--seconds 10] [--concurrency 16] [--users 200]

Rebuilds PostgreSQL database ``bench`` and seeds joined members; per bot starts a fake LINE
API (own process) and gunicorn on 127.0.0.1; warms up; measures slices of signed ``會員卡``
text events alternating ours/echo/echo/ours (fair under background load), then one client
alone; reports latency, throughput, CPU per request per component, peak worker RSS, whether
every event got exactly one reply, and the targets.  See bench/README.md.
"""
from __future__ import annotations

import argparse
import contextlib
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import CpuMeter, PipeChild, conninfo, free_port, proc_field  # noqa: E402
from bench.loadgen import percentile_ms, run_load, run_paced  # noqa: E402
from bot.dev import lineevents as ev  # noqa: E402

SECRET, TOKEN, TEXT = "bench-channel-secret", "bench-access-token", "會員卡"
TARGET_P99_MS, TARGET_RATIO, TARGET_RSS_MB = 100.0, 0.5, 150.0
CORES = os.cpu_count() or 1
MAX_POOL = 200_000  # pre-generated requests per slice, at most
STARTED: list = []  # every FakeProcess and Gunicorn; main() stops them all, whatever happens


# -- fake LINE API: one child process per bot (own GIL), driven through a pipe ---------------
def _fake_main(conn, port: int, mode: str, after: bool) -> None:  # the child process
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    from bot.dev.fakeline import FakeLine

    fake = FakeLine("sdk" if mode == "off" else mode, port=port)
    check, held = fake.checker.check, []
    if mode == "off":  # route, record and deliver, but skip body validation (bench-only switch)
        fake.checker.check = lambda *a, **k: []
    elif after:  # answer now, validate every request when the figures are read (see --validate)
        fake.checker.check = lambda *a: held.append(a) or []
    conn.send(fake.start())
    try:
        while (msg := conn.recv())[0] != "stop":
            if msg[0] == "tokens":  # bulk registration: instant, and no HTTP traffic to the fake
                for token, user in msg[1]:
                    fake.register_reply_token(token, user)
                conn.send("ok")
            elif msg[0] == "stats":
                while held:
                    for issue in check(*held.pop()):
                        fake.violations.append(f"(validated after the run) {issue.describe()}")
                replies, shapes, statuses = Counter(), Counter(), Counter()
                for rec in fake.requests("/v2/bot/message/reply"):
                    statuses[rec.status] += 1
                    if rec.status == 200:
                        replies[rec.json["replyToken"]] += 1
                        shapes[",".join(m.get("type", "?") for m in rec.json.get("messages", []))] += 1
                other = Counter(f"{r.method} {r.path}" for r in fake.requests() if r.path != "/v2/bot/message/reply")
                conn.send({"replies": replies, "shapes": shapes, "statuses": statuses, "other": other,
                           "violations": list(fake.violations[:5]), "n_violations": len(fake.violations)})
    except EOFError:
        pass
    finally:
        fake.stop()


class FakeProcess(PipeChild):
    def __init__(self, mode: str, after: bool = False) -> None:
        super().__init__(_fake_main, free_port(), mode, after, timeout=30)
        STARTED.append(self)


# -- PostgreSQL ------------------------------------------------------------------------------
def prepare_database(url: str, users: int) -> list[str]:
    """(Re)create the schema by the migrations; seed members who completed joining."""
    from datetime import UTC, date, datetime

    from sqlalchemy import text

    from bot.config import Settings, normalise_database_url
    from bot.db import Database, upgrade
    from models.member import FollowLog, Member, member_no_for

    url, name = normalise_database_url(url), make_url(url).database
    with psycopg.connect(conninfo(url, "postgres"), autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None:
            conn.execute(f'CREATE DATABASE "{name}"')
    db = Database(url)
    with db.engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    db.engine.dispose()
    upgrade(url)
    now, terms = datetime.now(UTC), Settings().terms_version
    user_ids = [ev.new_user_id() for _ in range(users)]
    with db.transaction() as session:
        members = [Member(line_user_id=uid, display_name=f"會員{i:04d}", language="zh-TW", is_reachable=True,
                          followed_at=now, created_at=now, joined_at=now, birthday_on=date(1990, 5, 20),
                          phone=f"09{i:08d}", gender="female", terms_version=terms, consented_at=now)
                   for i, uid in enumerate(user_ids)]
        session.add_all(members)
        session.flush()
        for m in members:
            m.member_no = member_no_for(m.id)
            session.add(FollowLog(member_id=m.id, kind="follow", at=now))
    db.dispose()
    return user_ids


def checkpoint(url: str) -> float:
    """Flush the cluster's dirty buffers now; returns the seconds it took.

    The bot's COMMITs wait for the WAL to reach the disk. A timed checkpoint that lands in the
    measured window fsyncs every file the cluster's other databases touched since the last one
    (test suites on a development machine: tens of thousands of files), and commits stall for
    hundreds of milliseconds meanwhile, which this run would then report as the bot's p99. A
    checkpoint now also restarts the checkpoint_timeout clock (5 min by default; a run takes 2).
    """
    started = time.monotonic()
    with psycopg.connect(conninfo(url), autocommit=True) as conn:
        conn.execute("CHECKPOINT")
    return time.monotonic() - started


def pg_backends(url: str) -> list[int]:
    with psycopg.connect(conninfo(url), autocommit=True) as conn:
        return [r[0] for r in conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
                                           " AND pid <> pg_backend_pid()")]


# -- gunicorn --------------------------------------------------------------------------------
class Gunicorn:
    def __init__(self, app: str, env: dict[str, str], args: argparse.Namespace, log: Path) -> None:
        self.port, self.log = free_port(), log
        cmd = [str(ROOT / ".venv" / "bin" / "gunicorn"), "--chdir", str(ROOT), "-b", f"127.0.0.1:{self.port}",
               "-w", str(args.workers), "-k", args.worker_class, "--graceful-timeout", "5", "--timeout", "30",
               "--log-level", "warning", "--error-logfile", str(log), "--capture-output",
               "--no-control-socket"]  # gunicorn 27's default socket path is shared by every gunicorn
        if args.worker_class == "gthread":  # sync with --threads > 1 silently becomes gthread
            cmd += ["--threads", str(args.threads)]
        self.proc = subprocess.Popen(cmd + [app], env={**os.environ, **env, "PYTHONPATH": str(ROOT)}, cwd=ROOT,
                                     start_new_session=True, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        STARTED.append(self)

    def wait_healthy(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited ({self.proc.returncode}); see {self.log}")
            with contextlib.suppress(OSError):
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=2) as resp:
                    if resp.status == 200 and self.workers():
                        return
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn not healthy after {timeout:.0f}s; see {self.log}")

    def workers(self) -> list[int]:
        return [int(p.name) for p in Path("/proc").iterdir()
                if p.name.isdigit() and proc_field(int(p.name), 1) == self.proc.pid]

    def peak_rss_mb(self) -> list[float]:
        """VmHWM (peak resident set size) of each worker, in MB."""
        peaks = []
        for pid in self.workers():
            with contextlib.suppress(OSError):
                status = Path(f"/proc/{pid}/status").read_text().splitlines()
                peaks += [int(line.split()[1]) / 1024 for line in status if line.startswith("VmHWM:")]
        return peaks

    def stop(self) -> None:
        """SIGTERM, then SIGKILL to its own process group (gunicorn 27 may take its whole
        graceful timeout to reap workers that have already exited)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(3)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)  # its session only: master and workers
        self.proc.wait(5)


# -- load ------------------------------------------------------------------------------------
def make_requests(user_ids: list[str], n: int, rng: random.Random) -> list[tuple[bytes, str, str, str]]:
    """(body, signature, replyToken, userId) for ``n`` one-event webhook requests."""
    out = []
    for _ in range(n):
        user = rng.choice(user_ids)
        event = ev.text_event(user, TEXT)
        body = ev.payload(event)
        out.append((body, ev.sign(SECRET, body), event["replyToken"], user))
    return out


class Bot:
    """One bot under test: its fake LINE, its gunicorn, and what was measured."""

    def __init__(self, name: str, app: str, env: dict[str, str], args: argparse.Namespace, logdir: Path) -> None:
        self.name, self.args, self.rng = name, args, random.Random(name)
        self.rows: list = []
        self.sent: list[tuple[str, int | str]] = []
        self.cpu: Counter = Counter()
        self.elapsed, self.rate, self.exhausted, self.rss, self.solo = 0.0, 0.0, False, [], []
        self.paced: list = []
        self.paced_rate = 0.0
        self.fake = FakeProcess(args.fake_mode, args.validate == "after")
        self.server = Gunicorn(app, {**env, "LINE_API_BASE_URL": self.fake.url,
                                     "LINE_DATA_API_BASE_URL": self.fake.url}, args, logdir / f"gunicorn-{name}.log")

    def load(self, user_ids: list[str], seconds: float, kind: str = "measured", rate: float = 0.0) -> None:
        """kind: "warmup" (its rate sizes the later pools), "measured", "solo" (one client), or
        "paced" (open loop at ``rate`` requests/s: the latency target's measurement)."""
        a = self.args
        clients = 1 if kind == "solo" else a.concurrency
        size = 1500 * int(seconds + 1) if kind == "warmup" else int(self.rate * seconds * 2.5) + clients * 50
        if kind == "paced":
            size = int(rate * seconds) + 1
        reqs = make_requests(user_ids, min(MAX_POOL, size), self.rng)  # pre-generated, not timed
        self.fake.call("tokens", [(r[2], r[3]) for r in reqs])
        groups = {"bot": [self.server.proc.pid, *self.server.workers()], "fake": [self.fake.proc.pid],
                  "client": [os.getpid()], "postgres": pg_backends(a.database_url)}
        with CpuMeter(groups) as meter:
            if kind == "paced":
                res = run_paced(self.server.port, reqs, rate, seconds)
            else:
                res = run_load(self.server.port, reqs, clients, seconds)
        if self.server.proc.poll() is not None:
            raise RuntimeError(f"gunicorn for {self.name} died; see {self.server.log}")
        self.sent += [(reqs[i][2], status) for i, status, _ in res["rows"]]
        if kind == "measured":
            self.rows += res["rows"]
            self.elapsed += res["elapsed"]
            self.cpu.update(meter.used)
            self.exhausted |= res["exhausted"]
        elif kind == "solo":
            self.solo = sorted(r[2] for r in res["rows"])
        elif kind == "paced":
            self.paced, self.paced_rate = sorted(r[2] for r in res["rows"] if r[1] == 200), rate
            self.paced_errors = sum(1 for r in res["rows"] if r[1] != 200)
        else:
            self.rate = len(res["rows"]) / res["elapsed"]

    def summary_rate(self) -> float:
        return len(self.rows) / self.elapsed if self.elapsed else 0.0

    def summary(self) -> dict:
        lat, n = sorted(r[2] for r in self.rows), len(self.rows)
        stats = self.fake.call("stats")
        replies, acked = stats["replies"], {tok for tok, status in self.sent if status == 200}
        mismatches = [f"replyToken {tok}: {replies.get(tok, 0)} replies (HTTP {status})"
                      for tok, status in self.sent if replies.get(tok, 0) != 1]
        mismatches += [f"replyToken {tok}: replied {k}x without an HTTP 200"
                       for tok, k in replies.items() if tok not in acked]
        return {"name": self.name, "requests": n, "rps": n / self.elapsed if self.elapsed else 0.0,
                "p50": percentile_ms(lat, 0.5), "p99": percentile_ms(lat, 0.99), "max": percentile_ms(lat, 1),
                "solo": (percentile_ms(self.solo, 0.5), percentile_ms(self.solo, 0.99)),
                "paced": (percentile_ms(self.paced, 0.5), percentile_ms(self.paced, 0.99)), "paced_rate": self.paced_rate,
                "paced_errors": getattr(self, "paced_errors", 0),
                "errors": sum(1 for r in self.rows if r[1] != 200), "exhausted": self.exhausted,
                "statuses": Counter(s for _, s in self.sent), "events": len(self.sent), "rss": self.rss,
                "mismatches": mismatches, "fake": stats, "cpu": self.cpu}


def settle(bots: list[Bot], timeout: float = 60) -> None:
    """Wait until every worker has imported its app: the servers' CPU use drops near zero."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with CpuMeter({"servers": [p for b in bots for p in (b.server.proc.pid, *b.server.workers())]}) as m:
            time.sleep(0.5)
        if m.used["servers"] < 0.05 * 0.5 * CORES:
            return


# -- report ----------------------------------------------------------------------------------
def report(ours: dict, echo: dict, ours_clients: int) -> bool:
    head = (f"{'bot':<6} {'requests':>9} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'errors':>7}"
            f" {'alone: p50':>11} {'p99':>6} {'paced: p50':>11} {'p99':>6}")
    print("\n" + head + "\n" + "-" * len(head))
    for r in (ours, echo):
        print(f"{r['name']:<6} {r['requests']:>9} {r['rps']:>8.1f} {r['p50']:>8.1f} {r['p99']:>8.1f} {r['max']:>8.1f}"
              f" {r['errors'] + r['paced_errors']:>7} {r['solo'][0]:>11.1f} {r['solo'][1]:>6.1f}"
              f" {r['paced'][0]:>11.1f} {r['paced'][1]:>6.1f}"
              + ("  (a request pool ran out early)" if r["exhausted"] else ""))
    print(f"(req/s, p50, p99, max: {ours_clients} clients in a closed loop, the server saturated, so these latencies are"
          " mostly queueing;\n 'alone': one client, no queueing; 'paced': open loop, requests arriving at"
          f" {ours['paced_rate']:.0f}/s for both bots, latency counted from each request's due time)")
    ratio = ours["rps"] / echo["rps"] if echo["rps"] else 0.0
    peak = max(ours["rss"], default=float("nan"))
    print(f"\nthroughput ratio ours/echo: {ratio:.2f}")
    print(f"peak RSS per worker (VmHWM, MB): ours max {peak:.1f} [{', '.join(f'{x:.0f}' for x in ours['rss'])}]"
          f", echo max {max(echo['rss'], default=float('nan')):.1f}")
    print("CPU per request, ms (bot = gunicorn master + workers):")
    parts = ("bot", "fake", "postgres", "client")
    for r in (ours, echo):
        cpu, n = r["cpu"], max(1, r["requests"])
        share = 100 * cpu["other"] / (cpu["wall"] * CORES) if cpu["wall"] else 0.0
        print(f"  {r['name']:<5} " + ", ".join(f"{g} {cpu[g] * 1e3 / n:.2f}" for g in parts)
              + f"; unrelated processes used {share:.0f}% of the machine meanwhile")
    cost = [sum(r["cpu"][g] for g in parts) / max(1, r["requests"]) for r in (ours, echo)]
    if cost[0]:
        print(f"  CPU-cost ratio echo/ours, all components: {cost[1] / cost[0]:.2f} (the throughput ratio a"
              " quiet, CPU-bound machine would show)")
    targets = [(f"p99 < {TARGET_P99_MS:.0f} ms at {ours['paced_rate']:.0f}/s", f"{ours['paced'][1]:.1f} ms",
                ours["paced"][1] < TARGET_P99_MS and not ours["paced_errors"]),
               (f"throughput ratio >= {TARGET_RATIO}", f"{ratio:.2f}", ratio >= TARGET_RATIO),
               (f"worker peak RSS < {TARGET_RSS_MB:.0f} MB", f"{peak:.1f} MB", peak < TARGET_RSS_MB)]
    print("\ntargets (our bot):")
    for label, value, ok in targets:
        print(f"  {label:<28} {value:>10}  {'PASS' if ok else 'MISS'}")
    correct = True
    print("\ncorrectness (warm-up, measured, solo and paced):")
    for r, shape in ((ours, "flex"), (echo, "text")):
        f = r["fake"]
        print(f"  {r['name']}: {r['events']} events, HTTP {dict(r['statuses'])}; fake: reply statuses "
              f"{dict(f['statuses'])}, shapes {dict(f['shapes'])}, other calls {dict(f['other'])}, "
              f"violations {f['n_violations']}; events without exactly one reply: {len(r['mismatches'])}")
        problems = r["mismatches"][:10] + f["violations"]
        if set(f["shapes"]) != {shape}:
            problems.append(f"expected every reply to be one {shape} message")
        for problem in problems:
            print(f"    ! {problem}")
        correct &= set(r["statuses"]) == {200} and not problems and not f["n_violations"]
    print(f"  => {'OK' if correct else 'FAILED'}")
    return correct and all(ok for *_, ok in targets)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seconds", type=float, default=10, help="measured seconds per bot")
    p.add_argument("--warmup", type=float, default=3, help="warm-up seconds per bot (not measured)")
    p.add_argument("--rounds", type=int, default=2, help="measured slices per bot, interleaved ABBA")
    p.add_argument("--concurrency", type=int, default=16)
    p.add_argument("--solo-seconds", type=float, default=3, help="one client alone afterwards (0: skip)")
    p.add_argument("--paced-seconds", type=float, default=8, help="open-loop phase per bot, for the latency target (0: skip)")
    p.add_argument("--rate", type=float, default=0, help="open-loop arrival rate, req/s (default: --load-share of our throughput)")
    p.add_argument("--load-share", type=float, default=0.5, help="open-loop rate as a share of our closed-loop throughput")
    p.add_argument("--users", type=int, default=200)
    p.add_argument("--workers", type=int, default=2 * CORES + 1)
    p.add_argument("--worker-class", choices=["sync", "gthread"], default="sync")
    p.add_argument("--threads", type=int, default=4, help="threads per worker (gthread only)")
    p.add_argument("--fake-mode", choices=["spec", "sdk", "off"], default="sdk",
                   help="fake LINE request validation: spec (OpenAPI; fake ~7 ms CPU per card reply), "
                        "sdk (SDK models; ~4 ms), off (none, bench-only; ~1.6 ms)")
    p.add_argument("--validate", choices=["after", "inline"], default="after",
                   help="when the fake validates each request: after the measured run (default; LINE's own "
                        "CPU is not on the bot's machine) or inline, before answering (its CPU then competes with the bot's)")
    p.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/bench")
    args = p.parse_args(argv)
    db = make_url(args.database_url)
    if db.host not in ("127.0.0.1", "localhost", "::1") or "bench" not in (db.database or ""):
        p.error("--database-url must be a loopback PostgreSQL database whose name contains 'bench' (it is wiped)")
    budget = int(150 + 3 * (args.seconds + 2 * args.warmup + args.solo_seconds + 2 * args.paced_seconds))

    def over_budget(*_: object) -> None:
        raise TimeoutError(f"run exceeded its {budget}s budget")

    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even if started with SIGINT ignored
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    signal.signal(signal.SIGALRM, over_budget)
    signal.alarm(budget)
    logdir = Path(tempfile.mkdtemp(prefix="bench-webhook-"))
    print(f"{CORES} cores; gunicorn {args.workers} x {args.worker_class}"
          + (f" x {args.threads} threads" if args.worker_class == "gthread" else "")
          + f"; concurrency {args.concurrency}; {args.users} members; per bot {args.warmup:g}s warm-up +"
          f" {args.seconds:g}s measured in {args.rounds} slices; fake LINE validation '{args.fake_mode}' ({args.validate})"
          f" (one process per bot); logs in {logdir}")
    bots: dict[str, Bot] = {}
    try:
        t0 = time.monotonic()
        user_ids = prepare_database(args.database_url, args.users)
        print(f"database {db.database} migrated, {len(user_ids)} joined members ({time.monotonic() - t0:.1f}s)")
        print(f"checkpoint before measuring: {checkpoint(args.database_url):.1f}s")
        env = {"APP_ENV": "production", "LINE_CHANNEL_SECRET": SECRET, "LINE_CHANNEL_ACCESS_TOKEN": TOKEN,
               "DATABASE_URL": args.database_url, "PUBLIC_BASE_URL": "https://loyalty.example.com",
               "SECRET_KEY": "bench-secret-key"}
        for name, app in (("ours", "bot:create_app()"), ("echo", "bench.echo_bot:create_app()")):
            bots[name] = Bot(name, app, env, args, logdir)
        for bot in bots.values():
            bot.server.wait_healthy()
        settle(list(bots.values()))
        print(f"both servers up and idle ({time.monotonic() - t0:.1f}s)")
        for bot in bots.values():
            bot.load(user_ids, args.warmup, "warmup")
            print(f"[{bot.name}] gunicorn :{bot.server.port} workers {sorted(bot.server.workers())}; "
                  f"fake LINE {bot.fake.url}; warm-up {bot.rate:.0f} req/s")
        for r in range(args.rounds):
            for name in (("ours", "echo"), ("echo", "ours"))[r % 2]:
                bots[name].load(user_ids, args.seconds / args.rounds)
                print(f"[{name}] slice {r + 1}/{args.rounds}: {len(bots[name].rows)} requests so far")
        for bot in bots.values():
            if args.solo_seconds > 0:
                bot.load(user_ids, args.solo_seconds, "solo")
        rate = args.rate or round(args.load_share * bots["ours"].summary_rate(), 1)
        for bot in bots.values():
            if args.paced_seconds > 0:
                bot.load(user_ids, args.paced_seconds, "paced", rate=rate)
                print(f"[{bot.name}] paced at {rate:g}/s: {len(bot.paced)} answered")
            bot.rss = bot.server.peak_rss_mb()
        return 0 if report(bots["ours"].summary(), bots["echo"].summary(), args.concurrency) else 1
    except KeyboardInterrupt:
        print("\ninterrupted; cleaning up", file=sys.stderr)
        return 130
    finally:
        signal.alarm(0)
        for started in STARTED:  # signal all first, so that they shut down in parallel
            if isinstance(started, Gunicorn) and started.proc.poll() is None:
                started.proc.send_signal(signal.SIGTERM)
        for started in reversed(STARTED):
            started.stop()


if __name__ == "__main__":
    sys.exit(main())
