"""A pooled connection that died while idle is replaced before use; one in steady use is not pinged."""
from __future__ import annotations

import psycopg
import pytest
from sqlalchemy import exc, text

import bot.db
from bot.db import make_engine


def _kill_backend(url: str, pid: int) -> None:
    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("SELECT pg_terminate_backend(%s)", (pid,))


def _pid_after_backend_killed(url: str) -> int:
    engine = make_engine(url, pool_size=1, max_overflow=0)
    try:
        with engine.connect() as conn:
            first = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
        _kill_backend(url, first)
        with engine.connect() as conn:
            second = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
        assert second != first
        return second
    finally:
        engine.dispose()


def test_idle_connection_cut_by_the_server_is_replaced(pg_only, migrated, monkeypatch):
    monkeypatch.setattr(bot.db, "IDLE_PING_SECONDS", 0.0)  # every checked-in connection counts as idle
    assert _pid_after_backend_killed(migrated) > 0


def test_busy_connections_are_not_pinged(pg_only, migrated, monkeypatch):
    """Without the idle ping the dead connection is handed out as is: proof the ping is what saves
    an idle one, and that a connection in steady use costs no extra round trip."""
    monkeypatch.setattr(bot.db, "IDLE_PING_SECONDS", 3600.0)
    with pytest.raises(exc.OperationalError):
        _pid_after_backend_killed(migrated)
