"""A second manager's approval for large corrections (models/correction.py), at the counter and in
the console: list the pending requests, approve or reject one.

Counter (/api/v1/correction-requests): a store's managers, for their store; nobody decides their own.
Console (/api/v1/admin/correction-requests): listing needs members:adjust, deciding settings:manage
(owners), for every store. ``submitted_answer`` shapes what a correction route answers: 201 with the
entry, or 202 ``approval_required`` with the request."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask import Blueprint, g, request

from bot.api.util import json_body, parse_str
from bot.api.auth import _bearer, current_actor, require_manager, require_scope
from bot.api.serialize import entry_json
from bot.services import services
from models import admin
from models.admin_user import AdminUser
from models.correction import (STATUSES, CorrectionExpired, CorrectionRequest, Person, Submitted, approve_correction, list_requests,
                               reject_correction, status_of)
from models.errors import InvalidInput
from models.member import Member
from models.rule import get_rule
from models.store import Actor, Staff, Store

bp = Blueprint("corrections_api", __name__, url_prefix="/api/v1")


# --- who is asking -----------------------------------------------------------------------------

def counter_person() -> Person:
    """The signed-in staff member (or a POS key, which is never a manager)."""
    actor = current_actor()
    staff = g.db.get(Staff, actor.staff_id) if actor.staff_id else None
    if staff is None:
        return Person(key=f"pos:{actor.api_key_id}", label=f"{actor.kind}:{actor.api_key_id}", name="POS", actor=actor)
    return Person(key=f"staff:{staff.id}", label=f"staff:{staff.id}:{staff.username}", name=staff.display_name, actor=actor)


def office_person() -> Person:
    """The console caller (after require_scope): one console user whichever session or token of theirs."""
    office = Actor(store_id=None, kind="admin", role="manager")  # type: ignore[arg-type]  # not at a counter: no store
    token = admin.find_token(g.db, _bearer())
    if token is None:
        return Person(key="root", label=g.admin, name="ADMIN_TOKEN", actor=office)
    user_id = token.admin_user_id or token.created_by_id
    user = g.db.get(AdminUser, user_id) if user_id else None
    if user is not None:
        return Person(key=f"user:{user.id}", label=g.admin, name=user.display_name, actor=office)
    return Person(key=f"token:{token.id}", label=g.admin, name=token.name, actor=office)


# --- shapes ------------------------------------------------------------------------------------

def _window() -> timedelta:
    return timedelta(hours=services().settings.correction_approval_hours)


def request_json(r: CorrectionRequest, now: datetime, me: Person | None = None) -> dict[str, Any]:
    member, store = g.db.get(Member, r.member_id), (g.db.get(Store, r.store_id) if r.store_id is not None else None)
    iso = lambda t: t.isoformat() if t else None  # noqa: E731
    return {
        "id": r.id, "store": store.code if store else None, "store_name": store.name if store else None,
        "member": {"member_no": member.member_no, "name": member.display_name}, "currency": r.currency, "amount": r.amount,
        "reason": r.reason, "status": status_of(r, now, _window()), "requested_by": r.requester_name, "requested_at": iso(r.created_at),
        "expires_at": iso(r.created_at + _window()), "mine": me is not None and me.key == r.requester_key,
        "decided_by": r.decider_name, "decided_at": iso(r.decided_at), "note": r.decision_note, "entry_id": r.ledger_entry_id,
    }


def submitted_answer(done: Submitted, now: datetime, me: Person, **extra: Any) -> tuple[dict[str, Any], int]:
    """201 with the ledger entry, or 202 approval_required with the request waiting for a second manager."""
    if done.entry is not None:
        return {"entry": entry_json(done.entry), **extra}, 201
    req = done.request
    assert req is not None
    limit = services().settings.correction_approval_over[req.currency]
    return {"code": "approval_required",
            "message": f"A correction of more than {limit:,} {req.currency}s needs a second manager's approval",
            "details": {"request_id": req.id, "currency": req.currency, "threshold": limit},
            "request": request_json(req, now, me), **extra}, 202


def _status_arg() -> str:
    status = request.args.get("status", "pending")
    if status not in (*STATUSES, "all"):
        raise InvalidInput(f"status is one of {', '.join(STATUSES)} or all", code="invalid_status", details={"field": "status"})
    return status


def _decide(request_id: int, verb: str, me: Person) -> dict[str, Any]:
    now = services().now()
    try:
        if verb == "approve":
            decided = approve_correction(g.db, request_id=request_id, by=me, now=now, valid_for=_window(), rule=get_rule(g.db))
        else:
            note = parse_str(json_body(), "note", required=False, max_len=200) if request.get_data() else None
            decided = reject_correction(g.db, request_id=request_id, by=me, now=now, valid_for=_window(), note=note)
    except CorrectionExpired:
        g.db.commit()  # the request is marked expired (and audited) even though the answer is a refusal
        raise
    out = request_json(decided, now, me)
    g.db.commit()
    return {"request": out}


# --- the counter -------------------------------------------------------------------------------

@bp.get("/correction-requests")
@require_manager
def counter_list():  # type: ignore[no-untyped-def]
    me, now = counter_person(), services().now()
    found = list_requests(g.db, store_id=me.actor.store_id, now=now, valid_for=_window(), status=_status_arg())
    return {"requests": [request_json(r, now, me) for r in found]}


@bp.post("/correction-requests/<int:request_id>/approve")
@require_manager
def counter_approve(request_id: int):  # type: ignore[no-untyped-def]
    return _decide(request_id, "approve", counter_person())


@bp.post("/correction-requests/<int:request_id>/reject")
@require_manager
def counter_reject(request_id: int):  # type: ignore[no-untyped-def]
    return _decide(request_id, "reject", counter_person())


# --- the console -------------------------------------------------------------------------------

@bp.get("/admin/correction-requests")
@require_scope("members:adjust")
def office_list():  # type: ignore[no-untyped-def]
    me, now = office_person(), services().now()
    found = list_requests(g.db, store_id=None, now=now, valid_for=_window(), status=_status_arg())
    return {"requests": [request_json(r, now, me) for r in found]}


@bp.post("/admin/correction-requests/<int:request_id>/approve")
@require_scope("settings:manage")
def office_approve(request_id: int):  # type: ignore[no-untyped-def]
    return _decide(request_id, "approve", office_person())


@bp.post("/admin/correction-requests/<int:request_id>/reject")
@require_scope("settings:manage")
def office_reject(request_id: int):  # type: ignore[no-untyped-def]
    return _decide(request_id, "reject", office_person())
