"""bench/cashier.py's close look: one request at a time in-process (SQL statements, CPU per request), and
py-spy profiles of the gunicorn workers."""
from __future__ import annotations

import re
import shutil
import subprocess
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from pathlib import Path


ROOT = Path(__file__).resolve().parent.parent

from bench.cashier_load import AMOUNTS, Sample, percentile


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
    if "_safe_deliver" in stack or "deliver (bot/jobs/outbox.py" in stack:
        where = "push to LINE after the response (outbox deliver)"
    elif "scan (bot/api/cashier.py" in stack:
        where = "scan"
    elif "create_award (bot/api/cashier.py" in stack:
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


