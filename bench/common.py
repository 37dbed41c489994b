"""Pieces the benchmarks share: PostgreSQL connection strings and a fresh database, and a child
process driven through a pipe (the fake LINE server runs in one, with its own GIL)."""
from __future__ import annotations

import contextlib
import multiprocessing
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
