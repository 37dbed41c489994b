"""The till's day (/api/v1/shift): today's transactions and the shift summary for the signed-in
store, and a manager's void of one of today's awards (models/shift.py)."""
from __future__ import annotations

from flask import Blueprint, g

from bot.api.util import json_body, parse_str
from bot.api.auth import current_actor, require_actor
from bot.api.serialize import member_summary
from bot.services import services
from models.member import Member
from models.shift import shift_summary, today_transactions, void_award

bp = Blueprint("shift_api", __name__, url_prefix="/api/v1")


@bp.get("/shift/today")
@require_actor
def today():  # type: ignore[no-untyped-def]
    actor, now = current_actor(), services().now()
    rows = today_transactions(g.db, store_id=actor.store_id, now=now)
    return {"summary": shift_summary(g.db, store_id=actor.store_id, now=now),
            "transactions": [{**r, "at": r["at"].isoformat()} for r in rows]}


@bp.post("/awards/<int:award_id>/void")
@require_actor
def void(award_id: int):  # type: ignore[no-untyped-def]
    body, now = json_body(), services().now()
    done = void_award(g.db, award_id=award_id, reason=parse_str(body, "reason", max_len=200) or "", actor=current_actor(), now=now)
    member = g.db.get(Member, done.award.member_id)
    summary = member_summary(g.db, member, now, coupon_codes=False)
    g.db.commit()
    taken = {e.currency: -e.amount for e in done.entries}
    return {"void": {"award_id": done.award.id, "receipt_id": done.award.receipt_id, "stamps": taken.get("stamp", 0),
                     "points": taken.get("point", 0), "replayed": done.replayed}, "member": summary}, (200 if done.replayed else 201)
