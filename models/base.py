"""Declarative base, naming convention and the column types every model shares."""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Callable

from sqlalchemy import BigInteger, DateTime, Integer, MetaData, String, TypeDecorator
from sqlalchemy import event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase, Session, SessionTransaction, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC on both databases (SQLite keeps no zone of its own)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: pass timezone-aware UTC times")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


# Recurring columns
# 64-bit integers: BIGINT on PostgreSQL; on SQLite every INTEGER already holds 64 bits (and the
# rowid alias must be spelled INTEGER), so the declared type stays INTEGER there.
BigInt = BigInteger().with_variant(Integer, "sqlite")
IntPK = Annotated[int, mapped_column(BigInt, primary_key=True)]
Timestamp = Annotated[datetime, mapped_column(UTCDateTime())]
Str64 = Annotated[str, mapped_column(String(64))]


def insert_for(session: Session) -> Callable[..., Any]:
    """The ``insert`` of the session's dialect, for ``on_conflict_do_nothing`` (PostgreSQL and
    SQLite both have it; SQLAlchemy's generic insert does not)."""
    return (postgresql if session.get_bind().dialect.name == "postgresql" else sqlite).insert


def add_unique(session: Session, obj: object, conflict: Exception) -> None:
    """Add ``obj`` and flush it in a savepoint: a unique violation raises ``conflict`` (a 409 for
    the API) and leaves the caller's transaction usable."""
    session.add(obj)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:
        raise conflict from exc


# --- what one transaction may remember -------------------------------------------------------
TXN_KEY = "txn_cache"


def txn_cache(session: Session) -> dict[str, Any]:
    """A dict that lives until the session's transaction (or savepoint) ends: for what cannot
    change under this transaction (the member rows it has locked, the balances behind them) or
    what it reads many times and must see the same (the earning rule, the tiers)."""
    return session.info.setdefault(TXN_KEY, {})


@event.listens_for(Session, "after_transaction_end")
def _forget_transaction(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is not None and not transaction.nested:
        return  # a flush's own sub-transaction: the database transaction goes on
    session.info.pop(TXN_KEY, None)
