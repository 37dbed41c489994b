"""Importing a brand's existing member list as pre-members (models/premember.py).

    file ─► models.member_csv.parse_file (no database) ─► plan_import: rows already imported are
    unchanged; phones of LINE members or of the counter's pre-members, unknown tiers, rule tags are
    row errors ─► import_rows, one batch per transaction (the caller commits each)

Each imported row becomes a member with no LINE user (a ``pre:`` placeholder id, unreachable),
its own member number and a ``premember`` row for its phone with no claim code yet: the cashier
gives one (POST /api/v1/premembers answers a waiting phone with a new code), and joining in LINE
with that phone and code merges it, as for a pre-member made at the counter. Its balances open as
one ledger entry per currency with reason ``import`` (so the ledger explains every balance), its
tier is set and recorded as a ``tier_change`` of kind ``import``, its tags are added, and
``joined_at`` is the list's joined date (Taipei midnight; none: the import's time).

A ``member_import_key`` per row (``ext:<external id>``, or ``phone:<phone>`` without one) makes a
second run change nothing: a row whose key was imported is counted unchanged, never updated. The
rows are new members nobody else can see until the batch commits, so they are written with
executemany (no member lock is needed: no one else can touch a ledger that does not exist yet);
two imports of one file at once collide on the key (the later batch fails; run it again).
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any, Iterable, cast
from zoneinfo import ZoneInfo

from sqlalchemy import JSON, ForeignKey, Integer, LargeBinary, String, Table, bindparam, insert, literal, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from models.base import Base, IntPK, Timestamp, UTCDateTime
from models.member import PREMEMBER_PREFIX, Member, luhn_digit
from models.member_csv import MESSAGES, Parsed, Row, RowError

TAIPEI = ZoneInfo("Asia/Taipei")
BATCH = 1000
CHUNK = 500  # values in one IN (…) while checking
STATUSES = ("queued", "running", "done", "failed")
MAX_REPORTED_ERRORS = 1000  # kept on the job (the CLI prints them all)


class MemberImport(Base):
    """One import (from the console or the CLI) with its counts, kept current batch by batch."""

    __tablename__ = "member_import"

    id: Mapped[IntPK]
    source: Mapped[str] = mapped_column(String(200))  # the file's name
    store_id: Mapped[int] = mapped_column(ForeignKey("store.id"))
    created_by: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(12))  # STATUSES
    content: Mapped[bytes | None] = mapped_column(LargeBinary)  # the file, until the import ends
    encoding: Mapped[str | None] = mapped_column(String(16))
    total_rows: Mapped[int] = mapped_column(Integer, default=0)
    valid_rows: Mapped[int] = mapped_column(Integer, default=0)
    error_rows: Mapped[int] = mapped_column(Integer, default=0)
    unchanged_rows: Mapped[int] = mapped_column(Integer, default=0)
    imported_rows: Mapped[int] = mapped_column(Integer, default=0)
    report: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[Timestamp]
    finished_at: Mapped[Timestamp | None]


class MemberImportKey(Base):
    __tablename__ = "member_import_key"

    source_key: Mapped[str] = mapped_column(String(80), primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id"), index=True)
    import_id: Mapped[int] = mapped_column(ForeignKey("member_import.id"))


@dataclass
class Plan:
    parsed: Parsed
    rows: list[Row]  # to import
    unchanged: int
    errors: list[RowError]  # the file's and the database's, by line
    tiers: dict[str, int] = field(default_factory=dict)  # a row's tier text → tier id

    def report(self, *, limit: int | None = None) -> dict[str, Any]:
        errors = self.errors if limit is None else self.errors[:limit]
        return {"encoding": self.parsed.encoding, "columns": self.parsed.columns, "ignored_columns": self.parsed.ignored,
                "total": self.parsed.total, "valid": len(self.rows) + self.unchanged, "to_import": len(self.rows),
                "unchanged": self.unchanged, "error_rows": len({e.line for e in self.errors}),
                "errors": [e.as_dict() for e in errors], "errors_left_off": len(self.errors) - len(errors)}



def _table(model: type) -> Table:
    """A model's table for Core statements (executemany), typed as the Table it is."""
    return cast(Table, model.__table__)  # type: ignore[attr-defined]

def _chunks(values: list[Any]) -> Iterable[list[Any]]:
    for i in range(0, len(values), CHUNK):
        yield values[i:i + CHUNK]


def tier_ids(session: Session) -> dict[str, int]:
    """Each tier by its code and by its name, in lower case (what a row's tier may say)."""
    from models.tier import Tier

    found: dict[str, int] = {}
    for tier in session.scalars(select(Tier).order_by(Tier.rank)):
        found.setdefault(tier.code.lower(), tier.id)
        found.setdefault(tier.name.strip().lower(), tier.id)
    return found


def plan_import(session: Session, parsed: Parsed) -> Plan:
    """What importing ``parsed`` would do, read-only: the rows to import, the rows imported before
    (unchanged), and every error (the file's, then the database's), sorted by line."""
    from models.premember import Premember
    from models.tag import Tag

    keys = [r.key for r in parsed.rows]
    done: dict[str, int] = {}
    for chunk in _chunks(keys):
        done.update(session.execute(select(MemberImportKey.source_key, MemberImportKey.member_id)
                                    .where(MemberImportKey.source_key.in_(chunk))).all())
    fresh = [r for r in parsed.rows if r.key not in done]
    phones = [r.phone for r in fresh]
    in_line: set[str] = set()
    waiting: set[str] = set()
    imported: set[str] = set()
    for chunk in _chunks(phones):
        in_line.update(session.scalars(select(Member.phone).where(Member.phone.in_(chunk), Member.joined_at.is_not(None),
                                                                  ~Member.line_user_id.startswith(PREMEMBER_PREFIX))))
        waiting.update(session.scalars(select(Premember.phone).where(Premember.phone.in_(chunk))))
        imported.update(session.scalars(select(Premember.phone).join(MemberImportKey, MemberImportKey.member_id == Premember.member_id)
                                        .where(Premember.phone.in_(chunk))))
    tiers = tier_ids(session)
    rule_tags = set(session.scalars(select(Tag.name).where(Tag.kind != "manual")))
    errors, rows = list(parsed.errors), []
    for row in fresh:
        problems = []
        if row.phone in in_line:
            problems.append(RowError(row.line, "phone", "phone_in_line", "phone " + MESSAGES["phone_in_line"]))
        elif row.phone in imported:
            problems.append(RowError(row.line, "phone", "phone_imported", "phone " + MESSAGES["phone_imported"]))
        elif row.phone in waiting:
            problems.append(RowError(row.line, "phone", "phone_premember", "phone " + MESSAGES["phone_premember"]))
        if row.tier and row.tier.lower() not in tiers:
            problems.append(RowError(row.line, "tier", "unknown_tier", f"tier {MESSAGES['unknown_tier']}: {row.tier[:60]}"))
        for tag in row.tags:
            if tag in rule_tags:
                problems.append(RowError(row.line, "tags", "rule_tag", f"tags: {tag} {MESSAGES['rule_tag']}"))
        errors.extend(problems)
        if not problems:
            rows.append(row)
    errors.sort(key=lambda e: e.line)
    return Plan(parsed=parsed, rows=rows, unchanged=len(parsed.rows) - len(fresh), errors=errors, tiers=tiers)


def _member_numbers(session: Session, n: int) -> list[str]:
    """``n`` new member numbers, as models.member.random_member_no draws them, checked in one query."""
    chosen: set[str] = set()
    while len(chosen) < n:
        draw = {(b := str(10_000_000 + secrets.randbelow(90_000_000))) + luhn_digit(b) for _ in range(n - len(chosen))} - chosen
        taken = set(session.scalars(select(Member.member_no).where(Member.member_no.in_(draw)))) if draw else set()
        chosen |= draw - taken
    return list(chosen)


def _joined_at(day: date | None, now: datetime) -> datetime:
    return datetime.combine(day, time(0), TAIPEI) if day else now


def import_rows(session: Session, plan: Plan, rows: list[Row], *, job: MemberImport, now: datetime) -> int:
    """Write ``rows`` (a batch of ``plan.rows``): members, pre-member rows, import keys, the opening
    ledger entries, tiers and tags, with executemany. Flushes, never commits."""
    from models.ledger import LedgerEntry
    from models.premember import Premember
    from models.rule import get_rule
    from models.tag import MemberTag, get_or_create
    from models.tier import Tier, TierChange

    if not rows:
        return 0
    numbers = _member_numbers(session, len(rows))
    placeholders = [PREMEMBER_PREFIX + secrets.token_hex(16) for _ in rows]
    # Core executemany (no RETURNING: on SQLite an ordered RETURNING goes row by row), then the ids in one query
    session.execute(insert(_table(Member)), [
        {"line_user_id": uid, "display_name": r.name, "is_reachable": False, "followed_at": _joined_at(r.joined_on, now), "created_at": now,
         "joined_at": _joined_at(r.joined_on, now), "member_no": no, "phone": r.phone, "birthday_on": r.birthday_on, "gender": r.gender}
        for r, no, uid in zip(rows, numbers, placeholders)])
    by_uid = dict(session.execute(select(Member.line_user_id, Member.id).where(Member.line_user_id.in_(placeholders))).all())
    ids = [by_uid[uid] for uid in placeholders]
    made = select(Member.id, Member.phone, literal(job.store_id), literal(now, UTCDateTime()), literal(now, UTCDateTime())).where(
        Member.line_user_id.in_(placeholders))
    session.execute(insert(_table(Premember)).from_select(["member_id", "phone", "store_id", "created_at", "code_issued_at"], made))
    session.execute(insert(_table(MemberImportKey)), [{"source_key": r.key, "member_id": i, "import_id": job.id} for i, r in zip(ids, rows)])
    rule = get_rule(session)
    expiry = {"stamp": rule.stamp_expiry_days, "point": rule.point_expiry_days}
    entries = [{"member_id": i, "currency": cur, "amount": amount, "reason": "import", "store_id": job.store_id, "actor_kind": "system",
                "staff_id": None, "api_key_id": None, "receipt_id": None, "award_id": None, "note": f"import #{job.id} line {r.line}",
                "expires_at": now + timedelta(days=days) if (days := expiry[cur]) else None, "created_at": now, "identified_by": "system"}
               for i, r in zip(ids, rows) for cur, amount in (("stamp", r.stamps), ("point", r.points)) if amount]
    if entries:
        session.execute(insert(_table(LedgerEntry)), entries)
    tiers = {t.id: t for t in session.scalars(select(Tier))}
    tiered = [(i, tiers[plan.tiers[r.tier.lower()]]) for i, r in zip(ids, rows) if r.tier]
    if tiered:
        table = _table(Member)
        session.execute(table.update().where(table.c.id == bindparam("member")).values(
            tier_id=bindparam("tier"), tier_since=bindparam("since"), tier_until=bindparam("until")),
            [{"member": i, "tier": t.id, "since": now, "until": now + timedelta(days=t.period_days) if t.threshold > 0 else None} for i, t in tiered])
        session.execute(insert(_table(TierChange)), [{"member_id": i, "kind": "import", "from_tier_id": None, "to_tier_id": t.id,
                                                        "reason": f"import #{job.id}", "at": now} for i, t in tiered])
    names = sorted({tag for r in rows for tag in r.tags})
    if names:
        tag_ids = {name: get_or_create(session, name, now=now).id for name in names}
        session.execute(insert(_table(MemberTag)), [{"member_id": i, "tag_id": tag_ids[tag], "added_at": now}
                                                      for i, r in zip(ids, rows) for tag in r.tags])
    job.imported_rows += len(rows)
    session.flush()
    return len(rows)


def new_job(session: Session, *, content: bytes, source: str, store_id: int, created_by: str, now: datetime) -> MemberImport:
    job = MemberImport(source=source[:200] or "members.csv", store_id=store_id, created_by=created_by[:200], status="queued", content=content,
                       total_rows=0, valid_rows=0, error_rows=0, unchanged_rows=0, imported_rows=0, created_at=now)
    session.add(job)
    session.flush()
    return job


def record_plan(job: MemberImport, plan: Plan) -> None:
    report = plan.report(limit=MAX_REPORTED_ERRORS)
    job.encoding, job.total_rows, job.valid_rows = plan.parsed.encoding, report["total"], report["valid"]
    job.error_rows, job.unchanged_rows, job.report = report["error_rows"], report["unchanged"], report


def finish_job(job: MemberImport, *, status: str, now: datetime, failure: dict[str, str] | None = None) -> None:
    job.status, job.finished_at, job.content = status, now, None
    if failure:
        job.report = {**(job.report or {}), "failure": failure}


def job_json(job: MemberImport) -> dict[str, Any]:
    report = job.report or {}
    return {"id": job.id, "source": job.source, "status": job.status, "encoding": job.encoding, "total": job.total_rows,
            "valid": job.valid_rows, "to_import": report.get("to_import", 0), "error_rows": job.error_rows,
            "unchanged": job.unchanged_rows, "imported": job.imported_rows, "errors": report.get("errors", []),
            "errors_left_off": report.get("errors_left_off", 0), "ignored_columns": report.get("ignored_columns", []),
            "failure": report.get("failure"), "created_by": job.created_by, "created_at": job.created_at.isoformat(),
            "finished_at": job.finished_at.isoformat() if job.finished_at else None}
