"""Referrals in the admin API: the programme's settings, and the report per referrer and in total."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import Blueprint, g, request

from bot.api.util import json_body, parse_day
from bot.api.auth import require_scope
from bot.services import services
from models.errors import InvalidInput
from models.referral import report
from models.referral_program import get_program, program_json, update_program

bp = Blueprint("referral_api", __name__, url_prefix="/api/v1/admin")
READ, SETTINGS = "members:read", "settings:manage"
TAIPEI = ZoneInfo("Asia/Taipei")


@bp.get("/referral-program")
@require_scope(SETTINGS)
def show_program():  # type: ignore[no-untyped-def]
    program = get_program(g.db)
    g.db.commit()
    return program_json(program)


@bp.put("/referral-program")
@require_scope(SETTINGS)
def change_program():  # type: ignore[no-untyped-def]
    program = update_program(g.db, json_body(), now=services().now())
    g.db.commit()
    return program_json(program)


def _day(name: str) -> date | None:
    return parse_day(name)


def _start_of(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=TAIPEI)


@bp.get("/referrals")
@require_scope(READ)
def referrals():  # type: ignore[no-untyped-def]
    """Each stage (invited, joined, purchased, rewarded) counted when it happened in [from, to], Taipei days."""
    first, last = _day("from"), _day("to")
    if first and last and first > last:
        raise InvalidInput("from is after to", code="invalid_period", details={"field": "from"})
    totals, rows = report(g.db, start=_start_of(first) if first else None, end=_start_of(last + timedelta(days=1)) if last else None)
    return {
        "from": first.isoformat() if first else None, "to": last.isoformat() if last else None, "totals": totals,
        "referrers": [{"member_no": r.member_no, "name": r.name, "code": r.code, "invited": r.invited, "joined": r.joined,
                       "purchased": r.purchased, "rewarded": r.rewarded} for r in rows],
    }
