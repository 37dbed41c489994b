"""Counter benchmark: scan + award latency with concurrent cashiers, gunicorn and PostgreSQL.

    .venv/bin/python bench/cashier.py [--seconds 10] [--cashiers 20] [--members 2000]
                                      [--workers N] [--worker-class sync|gthread] [--threads T]
                                      [--think-ms MS] [--profile | --no-profile]

One run: database ``bench_cashier`` rebuilt by the migrations, the fake LINE API as a child
process (``python -m bot.dev.fakeline --mode sdk``; award pushes go there), gunicorn serving
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
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.cashier_db import STORE, prepare_database, seed_members, verify  # noqa: E402
from bench.cashier_inprocess import in_process, profile_workers, summarise_profile  # noqa: E402
from bench.cashier_load import REQUEST_TIMEOUT, Sample, percentile, run_load  # noqa: E402
from bench.common import free_port  # noqa: E402

SECRET_KEY = "bench-cashier-secret-key"
ADMIN_TOKEN = "bench-cashier-admin-token"
CHANNEL_SECRET = "bench-cashier-channel-secret"
ACCESS_TOKEN = "bench-cashier-access-token"
PASSWORD = "bench-cashier-pw"
TARGET_P99_MS = 50.0


# -- processes ------------------------------------------------------------------------------------
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
    child = Child("fake LINE", [sys.executable, "-m", "bot.dev.fakeline", "--port", str(port), "--mode", "sdk"], env,
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
