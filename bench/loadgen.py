"""Load generators for the HTTP benchmarks: a closed loop (throughput at saturation) and an
open loop at a fixed arrival rate (latency at a given load).

A closed loop of N clients measures how fast the server can go, but its latencies are mostly
queueing: at saturation, latency ~ N / throughput, whatever the service time. Real webhook
traffic arrives on its own schedule, so latency targets are read from the open loop: request
i is due at ``start + i / rate``; its latency is counted from that due time (not from when a
sender got to it), so a stalled server cannot hide its backlog ("coordinated omission").
"""
from __future__ import annotations

import http.client
import itertools
import threading
import time

Request = tuple  # (body, signature, ...): what make_requests built


def _post(conn: http.client.HTTPConnection, req: Request) -> int | str:
    try:  # http.client reconnects by itself after "Connection: close" (sync workers)
        conn.request("POST", "/callback", req[0], {"Content-Type": "application/json", "X-Line-Signature": req[1]})
        resp = conn.getresponse()
        resp.read()
        return resp.status
    except (OSError, http.client.HTTPException) as exc:
        conn.close()
        return type(exc).__name__


def _run(port: int, senders: int, body) -> tuple[list, float]:  # type: ignore[no-untyped-def]
    results: list[list] = [[] for _ in range(senders)]

    def sender(out: list) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        body(conn, out)
        conn.close()

    threads = [threading.Thread(target=sender, args=(out,), daemon=True) for out in results]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        while t.is_alive():
            t.join(0.2)
    return [r for out in results for r in out], time.perf_counter() - start


def run_load(port: int, reqs: list, clients: int, seconds: float) -> dict:
    """Closed loop: ``clients`` keep-alive connections post until the pool or the time runs out."""
    counter, deadline = itertools.count(), time.perf_counter() + seconds

    def loop(conn: http.client.HTTPConnection, out: list) -> None:
        while (i := next(counter)) < len(reqs) and time.perf_counter() < deadline:
            t0 = time.perf_counter()
            status = _post(conn, reqs[i])
            out.append((i, status, time.perf_counter() - t0))

    rows, elapsed = _run(port, clients, loop)
    return {"rows": rows, "elapsed": elapsed, "exhausted": len(rows) >= len(reqs)}


def run_paced(port: int, reqs: list, rate: float, seconds: float, senders: int = 64) -> dict:
    """Open loop: request i is due at start + i / rate; latency is measured from that due time.
    ``senders`` connections share the schedule, enough that a slow answer does not hold up the
    next request unless the server itself is the backlog."""
    counter, n = itertools.count(), min(len(reqs), int(rate * seconds))
    start = time.perf_counter() + 0.05

    def paced(conn: http.client.HTTPConnection, out: list) -> None:
        while (i := next(counter)) < n:
            due = start + i / rate
            if (wait := due - time.perf_counter()) > 0:
                time.sleep(wait)
            status = _post(conn, reqs[i])
            out.append((i, status, time.perf_counter() - due))

    rows, elapsed = _run(port, senders, paced)
    return {"rows": rows, "elapsed": elapsed, "exhausted": n < int(rate * seconds)}


def percentile_ms(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    return 1e3 * sorted_values[min(len(sorted_values) - 1, round(q * (len(sorted_values) - 1)))]
