"""A spend asked for by a typed member number: the member is asked in LINE and the counter polls
for the outcome (models/confirmation.py)."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, g

from bot.api.auth import current_actor, require_actor
from bot.errors import error_response
from bot.jobs.outbox import enqueue_messages, send_after_response
from bot.api.serialize import member_summary
from bot.services import services
from handlers.confirm import confirmation_request
from models.confirmation import TTL, Asked, SpendConfirmation, get_for_store, withdraw
from models.member import Member
from models.reward import RewardGrant
from models.store import Store

bp = Blueprint("confirmation_api", __name__, url_prefix="/api/v1")


def confirmation_json(row: SpendConfirmation, now) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    return {
        "id": row.id, "kind": row.kind, "what": row.what, "points": row.points, "status": row.status_at(now),
        "outcome_code": row.outcome_code, "expires_at": row.expires_at.isoformat(),
        "decided_at": row.decided_at.isoformat() if row.decided_at else None,
        "poll": f"/api/v1/confirmations/{row.id}",
    }


def ask_member(member: Member, asked: Asked):  # type: ignore[no-untyped-def]
    """Commit the pending confirmation, push the member its buttons (once, after commit), and
    refuse the spend for now: 409 confirmation_required naming the confirmation to poll."""
    svc, row = services(), asked.confirmation
    queued = None
    if asked.created:
        store = g.db.get(Store, row.store_id)
        message = confirmation_request(svc.texts, row, store=store.name if store else "", minutes=int(TTL.total_seconds() // 60))
        queued = enqueue_messages(g.db, member, "confirmation", [message], now=svc.now())
    details = {"confirmation": confirmation_json(row, svc.now()), "reachable": member.is_reachable}
    g.db.commit()
    if queued:
        send_after_response([queued])
    return error_response(409, "confirmation_required",
                          "A typed member number cannot spend: the member was asked to confirm in LINE; poll the confirmation",
                          details)


@bp.get("/confirmations/<int:confirmation_id>")
@require_actor
def confirmation_status(confirmation_id: int):  # type: ignore[no-untyped-def]
    """pending → confirmed (the spend done), failed (outcome_code), cancelled or expired."""
    now, actor = services().now(), current_actor()
    return _status(get_for_store(g.db, confirmation_id, actor.store_id), now)


@bp.post("/confirmations/<int:confirmation_id>/cancel")
@require_actor
def cancel_confirmation(confirmation_id: int):  # type: ignore[no-untyped-def]
    """The counter stops waiting: a pending confirmation is cancelled (a later 確認 spends nothing);
    one already decided is answered as it is."""
    now, actor = services().now(), current_actor()
    row = withdraw(g.db, confirmation_id=confirmation_id, store_id=actor.store_id, now=now)
    out = _status(row, now)
    g.db.commit()
    return out


def _status(row: SpendConfirmation, now) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    member = g.db.get(Member, row.member_id)
    out: dict[str, Any] = {"confirmation": confirmation_json(row, now), "member": member_summary(g.db, member, now, coupon_codes=False)}
    if row.status == "confirmed" and row.kind == "redeem":
        out["redemption"] = {"id": row.redemption_id, "reward": row.what, "points": row.points, "replayed": False}
    if row.status == "confirmed" and row.kind == "grant":
        grant = g.db.get(RewardGrant, row.grant_id)
        out["grant"] = {"id": grant.id, "name": grant.name, "used_at": grant.used_at.isoformat() if grant.used_at else None}
    return out
