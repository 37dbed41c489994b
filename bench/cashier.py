"""Counter benchmark: scan + award latency with concurrent cashiers, gunicorn and PostgreSQL.

    .venv/bin/python bench/cashier.py [--seconds 10] [--cashiers 20] [--members 2000]
                                      [--workers N] [--worker-class sync|gthread] [--threads T]
                                      [--think-ms MS] [--profile | --no-profile]

One run: database ``bench_cashier`` rebuilt by the migrations, the fake LINE API as a child
process (``python -m bot.fakeline --mode sdk``; award pushes go there), gunicorn serving
``bot:create_app()`` on loopback, a store with one signed-in account per cashier made through
the admin and auth APIs, joined members made directly with the models.  Then one thread per
cashier, each on its own keep-alive connection, loops: ``POST /api/v1/scan {token}`` then
``POST /api/v1/awards {token, amount, visit, receipt_id}`` for a random member's card QR
token.  After a warm-up, the measured window gives throughput and p50/p99 of scan, award and
the scan+award pair against the target (p99 < 50 ms per request).  Afterwards: awards in the
database == successful award responses, ledger sums == the responses, every award's push
sent once.  When the target is missed (or with --profile) a further window runs with py-spy
sampling the workers, and the top costs are printed.  Every process started here is stopped
on exit (by its own pid / process group).  Only 127.0.0.1.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SECRET_KEY = "bench-cashier-secret-key"
ADMIN_TOKEN = "bench-cashier-admin-token"
CHANNEL_SECRET = "bench-cashier-channel-secret"
ACCESS_TOKEN = "bench-cashier-access-token"
STORE = "BENCH01"
PASSWORD = "bench-cashier-pw"
TARGET_P99_MS = 50.0
REQUEST_TIMEOUT = 15.0
AMOUNTS = [55, 80, 120, 135, 150, 210, 260, 320, 480, 650]


# -- processes ------------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Child:
    """A child process in its own session; stopped by its pid / process group only."""

    def __init__(self, name: str, cmd: list[str], env: dict[str, str], log: Path) -> None:
        self.name, self.log = name, log
        self._logf = open(log, "wb")
        self.proc = subprocess.Popen(cmd, env=env, cwd=ROOT, start_new_session=True, stdin=subprocess.DEVNULL,
                                     stdout=self._logf, stderr=subprocess.STDOUT)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def children(self) -> list[int]:
        pids = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    stat = (entry / "stat").read_text()
                except OSError:
                    continue
                if int(stat.rsplit(")", 1)[1].split()[1]) == self.proc.pid:
                    pids.append(int(entry.name))
        return sorted(pids)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                pass
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)  # stragglers of its own session, nothing else
        except (ProcessLookupError, PermissionError):
            pass
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            pass
        self._logf.close()


def wait_http(url: str, child: Child, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not child.alive():
            raise RuntimeError(f"{child.name} exited ({child.proc.returncode}); see {child.log}")
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{child.name} not answering {url} after {timeout:.0f}s; see {child.log}")


def start_fake_line(logdir: Path) -> tuple[Child, str]:
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    child = Child("fake LINE", [sys.executable, "-m", "bot.fakeline", "--port", str(port), "--mode", "sdk"], env,
                  logdir / "fakeline.log")
    url = f"http://127.0.0.1:{port}"
    wait_http(f"{url}/__fake__/messages?userId=Uping", child)
    return child, url


def start_gunicorn(args: argparse.Namespace, env: dict[str, str], logdir: Path) -> tuple[Child, int]:
    port = free_port()
    cmd = [str(ROOT / ".venv" / "bin" / "gunicorn"), "--chdir", str(ROOT), "-b", f"127.0.0.1:{port}",
           "-w", str(args.workers), "-k", args.worker_class, "--graceful-timeout", "5", "--timeout", "30",
           "--backlog", "2048", "--log-level", "warning"]
    if args.worker_class == "gthread":
        cmd += ["--threads", str(args.threads), "--keep-alive", "30"]
    child = Child("gunicorn", cmd + ["bot:create_app()"], {**os.environ, **env, "PYTHONPATH": str(ROOT)},
                  logdir / "gunicorn.log")
    wait_http(f"http://127.0.0.1:{port}/healthz", child)
    deadline = time.monotonic() + 30
    while len(child.children()) < args.workers and time.monotonic() < deadline:
        time.sleep(0.2)
    return child, port


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

    from bot import lineevents as ev
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


def verify(url: str, samples: list["Sample"], fake_url: str) -> tuple[bool, list[str]]:
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


# -- the API, as a client -------------------------------------------------------------------------------
class Api:
    def __init__(self, port: int) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT)

    def call(self, method: str, path: str, body: object = None, auth: str | None = None) -> tuple[int, dict]:
        headers = {"Content-Type": "application/json"}
        if auth:
            headers["Authorization"] = f"Bearer {auth}"
        data = json.dumps(body).encode() if body is not None else None
        try:
            self.conn.request(method, path, data, headers)
            resp = self.conn.getresponse()
            raw = resp.read()
        except (OSError, http.client.HTTPException):
            self.conn.close()  # one retry on a fresh connection (setup calls only)
            self.conn.request(method, path, data, headers)
            resp = self.conn.getresponse()
            raw = resp.read()
        return resp.status, (json.loads(raw) if raw else {})

    def close(self) -> None:
        self.conn.close()


def setup_counter(port: int, cashiers: int) -> list[str]:
    """A store and one signed-in cashier per thread, through the admin and auth APIs."""
    api = Api(port)
    try:
        status, body = api.call("POST", "/api/v1/admin/stores", {"code": STORE, "name": "壓測門市"}, ADMIN_TOKEN)
        assert status == 201, (status, body)
        status, body = api.call("PUT", "/api/v1/admin/earning-rule",
                                {"amount_per_point": "10", "stamps_per_visit": 1, "card_size": 10}, ADMIN_TOKEN)
        assert status == 200, (status, body)
        tokens = []
        for i in range(cashiers):
            username = f"bench-cashier-{i:02d}"
            status, body = api.call("POST", f"/api/v1/admin/stores/{STORE}/staff",
                                    {"username": username, "password": PASSWORD, "role": "cashier", "name": f"收銀{i:02d}"},
                                    ADMIN_TOKEN)
            assert status == 201, (status, body)
            status, body = api.call("POST", "/api/v1/auth/login", {"username": username, "password": PASSWORD})
            assert status == 200, (status, body)
            tokens.append(body["token"])
        return tokens
    finally:
        api.close()


# -- load -------------------------------------------------------------------------------------------------
@dataclass
class Sample:
    start: float
    scan_status: int | str
    scan_s: float
    award_status: int | str | None = None
    award_s: float = 0.0
    points: int = 0
    stamps: int = 0
    rewards: int = 0

    @property
    def ok(self) -> bool:
        return self.scan_status == 200 and self.award_status == 201


def post(conn: http.client.HTTPConnection, path: str, body: dict, headers: dict) -> tuple[int | str, dict | None, float, http.client.HTTPConnection]:
    data = json.dumps(body).encode()
    t0 = time.perf_counter()
    try:  # http.client reconnects by itself after "Connection: close" (sync workers)
        conn.request("POST", path, data, headers)
        resp = conn.getresponse()
        raw = resp.read()
        status: int | str = resp.status
    except (OSError, http.client.HTTPException) as exc:
        dt = time.perf_counter() - t0
        conn.close()
        return type(exc).__name__, None, dt, http.client.HTTPConnection(conn.host, conn.port, timeout=REQUEST_TIMEOUT)
    dt = time.perf_counter() - t0
    try:
        payload = json.loads(raw) if raw else None
    except ValueError:
        payload = None
    return status, payload, dt, conn


def cashier(port: int, auth: str, cards: list[str], stop_at: float, seed: int, out: list[Sample], think: float = 0.0) -> None:
    rng = random.Random(seed)
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {auth}"}
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT)
    while True:
        start = time.perf_counter()
        if start >= stop_at:
            break
        token = rng.choice(cards)
        status, _, scan_s, conn = post(conn, "/api/v1/scan", {"token": token}, headers)
        sample = Sample(start, status, scan_s)
        if status == 200:
            body = {"token": token, "amount": rng.choice(AMOUNTS), "visit": True, "receipt_id": str(uuid.uuid4())}
            sample.award_status, payload, sample.award_s, conn = post(conn, "/api/v1/awards", body, headers)
            if sample.award_status in (200, 201) and payload:
                award = payload["award"]
                sample.points, sample.stamps, sample.rewards = award["points"], award["stamps"], award["rewards_issued"]
        out.append(sample)
        if think:  # the next customer steps up (0.5x to 1.5x the mean)
            time.sleep(min(think * rng.uniform(0.5, 1.5), max(0.0, stop_at - time.perf_counter())))
    conn.close()


def run_load(port: int, auths: list[str], cards: list[str], seconds: float, seed: int, think: float = 0.0) -> tuple[list[Sample], float, float]:
    """Every cashier loops until ``seconds`` are over; returns samples, start and end time."""
    outs: list[list[Sample]] = [[] for _ in auths]
    start = time.perf_counter()
    stop_at = start + seconds
    threads = [threading.Thread(target=cashier, args=(port, a, cards, stop_at, seed * 1000 + i, outs[i], think), daemon=True)
               for i, a in enumerate(auths)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(seconds + REQUEST_TIMEOUT * 3)
    return [s for out in outs for s in out], start, stop_at


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    v = sorted(values)
    return v[min(len(v) - 1, max(0, round(q * (len(v) - 1))))]


# -- CPU per pair (independent of what else the machine runs) ----------------------------------------------------
TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / TICK  # utime + stime


def postgres_backends(url: str) -> list[int]:
    import psycopg
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    dsn = parsed.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(dsn, autocommit=True) as conn:
        return [r[0] for r in conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s", (parsed.database,))]


class CpuMeter:
    """CPU time used by each group of processes between ``start()`` and ``stop()``."""

    def __init__(self, groups: dict[str, callable]) -> None:  # type: ignore[valid-type]
        self.groups, self.before, self.used = groups, {}, {}

    def _snap(self) -> dict[str, dict[int, float]]:
        out = {}
        for name, pids in self.groups.items():
            out[name] = {pid: t for pid in pids() if (t := cpu_seconds(pid)) is not None}
        return out

    def start(self) -> None:
        self.before = self._snap()

    def stop(self) -> dict[str, float]:
        after = self._snap()
        self.used = {name: sum(t - self.before[name].get(pid, 0.0) for pid, t in pids.items())
                     for name, pids in after.items()}
        return self.used


# -- one request at a time, in-process: SQL statements, CPU per request, CPU profile ------------------------------
@dataclass
class InProcess:
    sql: dict[str, int]
    cpu_ms: dict[str, float]
    samples: list[Sample]  # the awards made here, checked afterwards like the others
    profile: list[str]


def in_process(env: dict[str, str], auth: str, cards: list[str], pairs: int, profile: bool) -> InProcess:
    """The app in this process (same settings and database), one request at a time: SQL statements of a
    scan and an award (and after the award's response: its push), CPU time per request (the CPU clock,
    so other processes on the machine do not count), and with ``profile`` a cProfile on the CPU clock."""
    import cProfile
    import io
    import pstats

    from sqlalchemy import event

    from bot import create_app
    from bot.config import Settings

    app = create_app(Settings.from_env(environ=env, dotenv=False))
    count = [0]
    event.listen(app.extensions["loyalty"].db.engine, "before_cursor_execute", lambda *a: count.__setitem__(0, count[0] + 1))
    client = app.test_client()
    headers = {"Authorization": f"Bearer {auth}"}
    sql: dict[str, int] = {}
    cpu: dict[str, list[float]] = {"scan": [], "award": []}
    samples: list[Sample] = []
    prof = cProfile.Profile(time.process_time)

    def post(path: str, body: dict, name: str, i: int):  # type: ignore[no-untyped-def]
        count[0] = 0
        profiled = profile and i >= pairs // 2  # the first half measures CPU without the profiler's overhead
        t0 = time.process_time()
        if profiled:
            prof.enable()
        resp = client.post(path, json=body, headers=headers, buffered=False)
        payload = resp.get_json()
        n = count[0]
        resp.close()  # runs what comes after the response (the award's push), as a WSGI server does
        prof.disable()
        if i == 0:
            sql[name], sql[f"{name} after response"] = n, count[0] - n
        elif 2 < i and not profiled:  # the first few warm caches
            cpu[name].append((time.process_time() - t0) * 1e3)
        return resp.status_code, payload

    try:
        for i in range(pairs):
            card = cards[i % len(cards)]
            status, _ = post("/api/v1/scan", {"token": card}, "scan", i)
            sample = Sample(time.perf_counter(), status, 0.0)
            status, payload = post("/api/v1/awards", {"token": card, "amount": AMOUNTS[i % len(AMOUNTS)], "visit": True,
                                                      "receipt_id": f"in-process-{uuid.uuid4()}"}, "award", i)
            award = (payload or {}).get("award") or {}
            sample.award_status = status
            sample.points, sample.stamps, sample.rewards = award.get("points", 0), award.get("stamps", 0), award.get("rewards_issued", 0)
            samples.append(sample)
    finally:
        app.extensions["loyalty"].db.dispose()
    lines: list[str] = []
    if profile:
        stats = pstats.Stats(prof, stream=io.StringIO())
        total = stats.total_tt  # type: ignore[attr-defined]
        rows = sorted(((v[3], func) for func, v in stats.stats.items()), reverse=True)  # type: ignore[attr-defined]
        notable = {("linebot/v3/messaging/models/message.py", "from_dict"), ("linebot/v3/messaging/models/flex_message.py", "to_dict"),
                   ("linebot/v3/messaging/api/messaging_api.py", "push_message"), ("sqlalchemy/orm/session.py", "execute"),
                   ("sqlalchemy/orm/session.py", "commit"), ("flask/app.py", "wsgi_app")}
        n = pairs - pairs // 2
        lines.append(f"  cProfile on the CPU clock, {n} scan+award pairs in-process (pushes included; the profiler inflates"
                     f" times several-fold): {total / n * 1e3:.1f} ms CPU per pair; cumulative:")
        shown = 0
        for cum, (file, line, name) in rows:
            rel = file.replace(str(ROOT / ".venv" / "lib" / "python3.11" / "site-packages") + "/", "").replace(str(ROOT) + "/", "")
            if rel.startswith(("bot/", "models/", "handlers/")) or (rel, name) in notable:
                lines.append(f"    {100 * cum / total:5.1f}%  {cum / n * 1e3:6.1f} ms/pair  {name} ({rel}:{line})")
                shown += 1
                if shown >= 24:
                    break
    return InProcess(sql, {k: percentile(v, 0.5) for k, v in cpu.items()}, samples, lines)


# -- profiling ----------------------------------------------------------------------------------------------
def profile_workers(pids: list[int], seconds: float, logdir: Path) -> tuple[list[subprocess.Popen], dict[int, Path]] | None:
    """py-spy on every worker for ``seconds``: on-CPU samples of all threads (--nonblocking: the workers are
    never paused), raw collapsed stacks.  The load is CPU-bound, so CPU is what to cut."""
    spy = shutil.which("py-spy", path=str(ROOT / ".venv" / "bin")) or shutil.which("py-spy")
    if not spy:
        print("  (py-spy not installed: `.venv/bin/pip install py-spy` to profile)")
        return None
    procs, files = [], {}
    for pid in pids:
        out = logdir / f"pyspy-{pid}.txt"
        files[pid] = out
        procs.append(subprocess.Popen([spy, "record", "--pid", str(pid), "--duration", str(int(max(1, seconds))),
                                       "--rate", "250", "--format", "raw", "--nonblocking", "--output", str(out)],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    return procs, files


PROJECT_FRAME = re.compile(r" \((bot|models|handlers)/")


def summarise_profile(files: dict[int, Path], top: int = 16) -> list[str]:
    """Where the workers' time inside requests goes: categories, project functions (inclusive), leaves."""
    inclusive: Counter[str] = Counter()
    leaves: Counter[str] = Counter()
    kinds: Counter[str] = Counter()
    total = 0
    for path in files.values():
        if not path.exists():
            continue
        for line in path.read_text(errors="replace").splitlines():
            stack, _, count = line.rpartition(" ")
            if not count.isdigit() or "handle_request (gunicorn" not in stack:
                continue  # not serving a request (its response, and the push sent after it): waiting for one
            n, frames = int(count), stack.split(";")
            total += n
            leaves[_short(frames[-1])] += n
            for f in {_short(f) for f in frames if PROJECT_FRAME.search(f)}:
                inclusive[f] += n
            kinds[_kind(frames)] += n
    if not total:
        return ["  (no samples inside requests)"]
    out = [f"  {total} on-CPU samples serving requests (all workers); by kind:"]
    out += [f"    {100 * n / total:5.1f}%  {k}" for k, n in kinds.most_common()]
    out.append("  project functions, inclusive share:")
    out += [f"    {100 * n / total:5.1f}%  {name}" for name, n in inclusive.most_common(top)]
    out.append("  leaf functions (self time):")
    out += [f"    {100 * n / total:5.1f}%  {name}" for name, n in leaves.most_common(10)]
    return out


def _kind(frames: list[str]) -> str:
    stack = ";".join(frames)
    leaf = ";".join(frames[-4:])
    if "_safe_deliver" in stack or "deliver (bot/push.py" in stack:
        where = "push to LINE after the response (outbox deliver)"
    elif "scan (bot/cashier_api.py" in stack:
        where = "scan"
    elif "create_award (bot/cashier_api.py" in stack:
        where = "award"
    else:
        where = "other (framework, auth, session)"
    if "psycopg" in leaf and ("wait" in leaf or "_execute_send" in leaf or "_exec_command" in leaf):
        what = "psycopg send/receive"
    elif "linebot" in stack or "pydantic" in leaf:
        what = "LINE SDK / pydantic"
    elif "sqlalchemy" in leaf or "psycopg" in leaf:
        what = "SQLAlchemy/psycopg CPU"
    elif "urllib3" in leaf or "socket" in leaf or "http/client" in leaf:
        what = "HTTP to LINE"
    else:
        what = "other CPU"
    return f"{where}: {what}"


def _short(frame: str) -> str:
    """'func (path/file.py:123)' -> 'func (path/file.py)', so the lines of one function add up."""
    name, _, where = frame.partition(" (")
    return f"{name} ({where.rsplit(':', 1)[0].rstrip(')')})"


# -- report ---------------------------------------------------------------------------------------------------
def stats(samples: list[Sample], start: float, stop: float) -> dict:
    window = [s for s in samples if s.start >= start]
    scans = [s.scan_s * 1e3 for s in window]
    awards = [s.award_s * 1e3 for s in window if s.award_status is not None]
    pairs = [(s.scan_s + s.award_s) * 1e3 for s in window if s.ok]
    errors = Counter()
    for s in window:
        if s.scan_status != 200:
            errors[f"scan {s.scan_status}"] += 1
        elif s.award_status != 201:
            errors[f"award {s.award_status}"] += 1
    secs = stop - start
    return {"pairs": len(pairs), "requests": len(scans) + len(awards), "seconds": secs,
            "rps": (len(scans) + len(awards)) / secs, "pairs_ps": len(pairs) / secs,
            "scan": scans, "award": awards, "pair": pairs, "errors": errors}


def print_table(r: dict) -> None:
    print(f"\n{'':<12} {'count':>7} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} {'max ms':>8}")
    for key in ("scan", "award", "pair"):
        v = r[key]
        print(f"{key + (' (sum)' if key == 'pair' else ''):<12} {len(v):>7} {percentile(v, .5):>8.1f} {percentile(v, .9):>8.1f}"
              f" {percentile(v, .99):>8.1f} {max(v, default=float('nan')):>8.1f}")
    print(f"\nrequests {r['requests']} in {r['seconds']:.1f}s: {r['rps']:.1f} req/s, {r['pairs_ps']:.1f} scan+award pairs/s;"
          f" errors {sum(r['errors'].values())} {dict(r['errors']) or ''}")


def main(argv: list[str] | None = None) -> int:
    cores = os.cpu_count() or 1
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seconds", type=float, default=10, help="measured window")
    p.add_argument("--warmup", type=float, default=3, help="warm-up seconds (not measured)")
    p.add_argument("--cashiers", type=int, default=20)
    p.add_argument("--members", type=int, default=2000)
    p.add_argument("--workers", type=int, default=2 * cores + 1)
    p.add_argument("--worker-class", choices=["sync", "gthread"], default="sync")
    p.add_argument("--threads", type=int, default=4, help="threads per worker (gthread only)")
    p.add_argument("--think-ms", type=float, default=2000,
                   help="mean pause of each cashier between customers (default 2000: 20 counters then serve ~36,000"
                        " customers an hour; 0: a closed loop, as fast as served, a stress test)")
    p.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/bench_cashier")
    prof = p.add_mutually_exclusive_group()
    prof.add_argument("--profile", action="store_true", help="profile the workers after the run even if the target is met")
    prof.add_argument("--no-profile", action="store_true", help="never profile, even when the target is missed")
    p.add_argument("--profile-seconds", type=float, default=6)
    args = p.parse_args(argv)
    budget = int(240 + 3 * (args.seconds + args.warmup + args.profile_seconds))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    def over_budget(*_: object) -> None:
        raise TimeoutError(f"run exceeded its {budget}s budget")

    signal.signal(signal.SIGALRM, over_budget)
    signal.alarm(budget)
    logdir = Path(tempfile.mkdtemp(prefix="bench-cashier-"))
    threads = f" x {args.threads} threads" if args.worker_class == "gthread" else ""
    print(f"cores {cores}; gunicorn {args.workers} {args.worker_class} workers{threads}; {args.cashiers} cashiers; "
          f"{args.members} members; {args.warmup:g}s warm-up + {args.seconds:g}s measured"
          f"{f'; think time ~{args.think_ms:g} ms' if args.think_ms else ''}; logs in {logdir}")
    children: list[Child] = []
    try:
        url = prepare_database(args.database_url)
        fake, fake_url = start_fake_line(logdir)
        children.append(fake)
        t0 = time.perf_counter()
        numbers = seed_members(url, args.members)
        print(f"database {url.rsplit('/', 1)[-1]} migrated; {len(numbers)} joined members in {time.perf_counter() - t0:.1f}s;"
              f" fake LINE (sdk mode) at {fake_url}")
        env = {"APP_ENV": "production", "DATABASE_URL": url, "LINE_API_BASE_URL": fake_url,
               "LINE_DATA_API_BASE_URL": fake_url, "LINE_CHANNEL_SECRET": CHANNEL_SECRET,
               "LINE_CHANNEL_ACCESS_TOKEN": ACCESS_TOKEN, "SECRET_KEY": SECRET_KEY, "ADMIN_TOKEN": ADMIN_TOKEN,
               "PUBLIC_BASE_URL": "https://loyalty.example.com", "LOG_LEVEL": "WARNING"}
        server, port = start_gunicorn(args, env, logdir)
        children.append(server)
        workers = server.children()
        print(f"gunicorn pid {server.proc.pid} on :{port}; workers {workers}")
        t0 = time.perf_counter()
        auths = setup_counter(port, args.cashiers)
        print(f"store {STORE} and {len(auths)} signed-in cashiers via the API in {time.perf_counter() - t0:.1f}s")

        from datetime import UTC, datetime

        from models.card import issue_card_token

        now = datetime.now(UTC)  # tokens live 300 s (CARD_TOKEN_TTL_SECONDS); the run is shorter
        cards = [issue_card_token(SECRET_KEY, n, now=now) for n in numbers]
        meter = CpuMeter({"gunicorn workers": lambda: [server.proc.pid, *server.children()],
                          "PostgreSQL backends": lambda: postgres_backends(url),
                          "fake LINE": lambda: [fake.proc.pid], "this client": lambda: [os.getpid()]})
        load_before = os.getloadavg()[0]
        timer = threading.Timer(args.warmup, meter.start)
        timer.start()
        samples, start, _ = run_load(port, auths, cards, args.warmup + args.seconds, seed=1, think=args.think_ms / 1e3)
        timer.join()
        cpu = meter.stop()
        load_after = os.getloadavg()[0]
        measured = stats(samples, start + args.warmup, start + args.warmup + args.seconds)
        if not server.alive():
            raise RuntimeError(f"gunicorn died during the load; see {server.log}")
        print_table(measured)
        print(f"load average (1 min) {load_before:.1f} before, {load_after:.1f} after the load on {cores} cores"
              " (everything else running on this machine shares them)")
        done = sum(1 for x in samples if x.ok and x.start >= start + args.warmup)
        if done:
            per = {k: 1e3 * v / done for k, v in cpu.items()}
            total = sum(per.values())
            print("CPU per scan+award pair: " + ", ".join(f"{k} {v:.1f} ms" for k, v in per.items())
                  + f"; total {total:.1f} ms")
            served = sum(v for k, v in per.items() if k != "this client")
            print(f"  -> {cores} idle cores could serve at most ~{cores * 1e3 / served:.0f} pairs/s (client excluded); a closed loop"
                  f" of {args.cashiers} cashiers would then wait ~{args.cashiers * served / cores:.0f} ms per pair")
        p99s = {k: percentile(measured[k], 0.99) for k in ("scan", "award")}
        passed = all(v < TARGET_P99_MS for v in p99s.values()) and not measured["errors"]
        print(f"\ntarget p99 < {TARGET_P99_MS:.0f} ms per request (scan {p99s['scan']:.1f} ms, award {p99s['award']:.1f} ms"
              f"{', no errors' if not measured['errors'] else ', errors present'}): {'PASS' if passed else 'MISS'}")
        if args.think_ms:
            print(f"(scan+award pair p99 {percentile(measured['pair'], 0.99):.1f} ms; each cashier pauses ~{args.think_ms:g} ms"
                  " between customers)")
        else:
            print(f"(scan+award pair p99 {percentile(measured['pair'], 0.99):.1f} ms; closed loop without pauses: "
                  f"{args.cashiers} requests always in flight, so latency ~ {args.cashiers} / throughput)")

        profiling = args.profile or (not passed and not args.no_profile)
        solo = in_process(env, auths[0], cards, pairs=60, profile=profiling)
        samples += solo.samples  # checked below like every other award
        print(f"one request at a time, in-process: SQL statements: scan {solo.sql['scan']}, award {solo.sql['award']}"
              f" + {solo.sql['award after response']} after its response (the push via the outbox); CPU (median): scan"
              f" {solo.cpu_ms['scan']:.1f} ms, award {solo.cpu_ms['award']:.1f} ms incl. the push")

        good, lines = verify(url, samples, fake_url)
        print("\ncorrectness (warm-up + measured):")
        print("\n".join(lines))

        if profiling:
            print("\nprofile (CPU, one request at a time):")
            print("\n".join(solo.profile))
            print(f"\nprofile: py-spy on the {len(workers)} workers during a further {args.profile_seconds:g}s of the same load")
            spy = profile_workers(server.children(), args.profile_seconds, logdir)
            if spy:
                procs, files = spy
                extra, _, _ = run_load(port, auths, cards, args.profile_seconds + 0.5, seed=2, think=args.think_ms / 1e3)
                for proc in procs:
                    try:
                        proc.wait(args.profile_seconds + 30)
                    except subprocess.TimeoutExpired:
                        proc.kill()
                        proc.wait(5)
                print("\n".join(summarise_profile(files)))
                print(f"  raw stacks (flamegraph collapsed format): {logdir}/pyspy-*.txt")
                good2, _ = verify(url, samples + extra, fake_url)
                print(f"  correctness after the profiled window too: {'ok' if good2 else 'FAILED'}")
                good &= good2
        print(f"\n=> {'OK' if good else 'FAILED'} (correctness); target {'PASS' if passed else 'MISS'}")
        return 0 if good and passed else (1 if not good else 2)
    except KeyboardInterrupt:
        print("\ninterrupted; cleaning up", file=sys.stderr)
        return 130
    finally:
        signal.alarm(0)
        for child in reversed(children):
            child.stop()


if __name__ == "__main__":
    sys.exit(main())
