"""bench/cashier.py's load: one thread per cashier, each scanning a card and awarding a purchase on its
own keep-alive connection."""
from __future__ import annotations

import http.client
import json
import random
import threading
import time
import uuid
from dataclasses import dataclass


REQUEST_TIMEOUT = 15.0
AMOUNTS = [55, 80, 120, 135, 150, 210, 260, 320, 480, 650]


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


