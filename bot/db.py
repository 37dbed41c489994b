"""Database wiring: one engine per process, sessions per request / event / unit of work."""
from __future__ import annotations

import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from sqlalchemy import Engine, create_engine, event, exc
from sqlalchemy.orm import Session, sessionmaker

from bot.config import ROOT


def make_engine(url: str, **kwargs: object) -> Engine:
    """``hide_parameters``: a failed statement is logged and raised without its values (LINE user
    ids, phone numbers, names); bot/logredact.py masks what reaches a log line another way."""
    kwargs.setdefault("hide_parameters", True)
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False}, **kwargs)
        _sqlite_writers_lock_up_front(engine)
        return engine
    if "poolclass" not in kwargs:
        kwargs.setdefault("pool_size", 5)
        kwargs.setdefault("max_overflow", 10)
    engine = create_engine(url, **kwargs)
    _ping_when_idle(engine)
    return engine


IDLE_PING_SECONDS = 10.0


def _ping_when_idle(engine: Engine) -> None:
    """Pessimistic disconnect handling, for connections that sat idle in the pool.

    ``pool_pre_ping`` costs a round trip on every checkout: a tenth of a busy webhook's work.
    A connection in steady use proves itself alive all the time; one that sat idle may have
    been cut by a server restart, a failover or a firewall, so it is pinged before use and
    replaced if dead (SQLAlchemy's checkout-event recipe: ``DisconnectionError`` makes the pool
    retry with a fresh connection). A connection that dies in use fails that unit of work, and
    SQLAlchemy then recycles the whole pool; the webhook answers 500 and LINE redelivers.
    """

    @event.listens_for(engine, "checkin")
    def _checkin(_dbapi_connection, record):  # type: ignore[no-untyped-def]
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checkout(dbapi_connection, record, _proxy):  # type: ignore[no-untyped-def]
        idle_since = record.info.get("idle_since")
        if idle_since is None or time.monotonic() - idle_since < IDLE_PING_SECONDS:
            return
        try:
            with dbapi_connection.cursor() as cursor:
                cursor.execute("SELECT 1")
            dbapi_connection.rollback()
        except Exception as err:  # noqa: BLE001 - any failure means this connection is unusable
            raise exc.DisconnectionError() from err


def _sqlite_writers_lock_up_front(engine: Engine) -> None:
    """SQLite: take the write lock at BEGIN so read-modify-write is exact.

    pysqlite's own transaction handling is turned off and SQLAlchemy emits
    ``BEGIN IMMEDIATE`` itself (the recipe in SQLAlchemy's SQLite dialect docs).
    """

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection, _record):  # type: ignore[no-untyped-def]
        dbapi_connection.isolation_level = None
        cur = dbapi_connection.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn):  # type: ignore[no-untyped-def]
        conn.exec_driver_sql("BEGIN IMMEDIATE")


class Database:
    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One unit of work: commit on success, roll back on any error."""
        with self.sessions() as session, session.begin():
            yield session

    def dispose(self) -> None:
        self.engine.dispose()


def alembic_config(url: str):  # type: ignore[no-untyped-def]
    from alembic.config import Config

    cfg = Config(str(ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(ROOT / "migrations"))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    """Apply migrations (the only way the schema changes)."""
    from alembic import command

    make_engine(url).dispose()  # creates the SQLite folder when needed
    command.upgrade(alembic_config(url), revision)
