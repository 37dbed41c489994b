"""Pieces the benchmarks share: PostgreSQL connection strings and a fresh database, a child
process driven through a pipe (the fake LINE server runs in one, with its own GIL), free ports,
and CPU accounting from /proc."""
from __future__ import annotations

import contextlib
import multiprocessing
import os
import socket
import time
from collections import Counter
from pathlib import Path
from typing import Any, Callable

import psycopg
from sqlalchemy.engine import make_url


def conninfo(url: str, database: str | None = None) -> str:
    """A psycopg connection string for a SQLAlchemy URL, optionally for another database."""
    parsed = make_url(url)
    return parsed.set(drivername="postgresql", database=database or parsed.database).render_as_string(False)


def recreate_database(url: str) -> None:
    """Drop (disconnecting whoever is on it) and create the URL's database, empty."""
    name = make_url(url).database
    with psycopg.connect(conninfo(url, "postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


class PipeChild:
    """A child process (spawned) that sends one value when ready (``self.url``), then answers each
    ``(command, argument)`` sent through the pipe with one value, until ``("stop", None)``."""

    def __init__(self, target: Callable[..., None], *args: Any, name: str = "fakeline", timeout: float = 60) -> None:
        ctx = multiprocessing.get_context("spawn")
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=target, args=(child, *args), daemon=True, name=name)
        self.proc.start()
        if not self.conn.poll(timeout):
            self.stop()
            raise RuntimeError(f"{name} did not start")
        self.url = self.conn.recv()

    def call(self, cmd: str, arg: object = None):  # type: ignore[no-untyped-def]
        self.conn.send((cmd, arg))
        return self.conn.recv()

    def stop(self) -> None:
        with contextlib.suppress(OSError):
            self.conn.send(("stop", None))
        self.proc.join(5)
        if self.proc.is_alive():
            self.proc.kill()
            self.proc.join(5)


CLK = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def proc_field(pid: int, index: int) -> int:
    """A numeric field of /proc/<pid>/stat, counted after the command name (0 = state)."""
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[index])
    except (OSError, IndexError, ValueError):
        return -1


def cpu_seconds(pid: int) -> float:
    return (max(0, proc_field(pid, 11)) + max(0, proc_field(pid, 12))) / CLK  # utime + stime


def busy_seconds() -> float:
    f = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    return (sum(f) - f[3] - f[4]) / CLK  # everything but idle and iowait, all cores


class CpuMeter:
    """CPU seconds used by each group of processes, and by everything else on the machine."""

    def __init__(self, groups: dict[str, list[int]]) -> None:
        self.groups, self.used = groups, Counter()

    def __enter__(self) -> CpuMeter:
        self.t0, self.busy0 = time.perf_counter(), busy_seconds()
        self.start = {g: {p: cpu_seconds(p) for p in pids} for g, pids in self.groups.items()}
        return self

    def __exit__(self, *exc: object) -> None:
        for group, pids in self.start.items():
            self.used[group] = sum(max(0.0, cpu_seconds(p) - s0) for p, s0 in pids.items())
        self.used["other"] = max(0.0, busy_seconds() - self.busy0 - sum(self.used.values()))
        self.used["wall"] = time.perf_counter() - self.t0
