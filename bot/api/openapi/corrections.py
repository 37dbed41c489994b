"""A second manager's approval for large corrections in the OpenAPI document (bot/api/corrections.py):
the pending requests at the counter and in the console. bot/api/openapi/document.py merges these paths and schemas."""
from __future__ import annotations

from typing import Any

from bot.api.openapi.schemas import ADJUST, SETTINGS, TIME, TIME_OR_NULL, _obj, op, path_param, query_param, ref
from models.correction import STATUSES

REQUEST_ID = path_param("request_id", "integer", "The correction request's id")
STATUS = query_param("status", {"type": "string", "enum": [*STATUSES, "all"], "default": "pending"},
                     "pending (the default): still decidable; expired: pending past CORRECTION_APPROVAL_HOURS, or marked so")
APPROVAL = ("Above CORRECTION_APPROVAL_STAMPS (default 10) stamps or CORRECTION_APPROVAL_POINTS (default 1,000) points either way, "
            "nothing is applied: the answer is 202 `approval_required` with the request, which another manager approves or rejects "
            "within CORRECTION_APPROVAL_HOURS (default 24). Every correction, applied or requested, is an audit log entry.")
DECIDE_ERRORS = {
    "403": "manager_only (a cashier or POS key), own_correction (nobody decides their own request), or missing_scope",
    "404": "correction_not_found (no such request, or another store's)",
    "409": "correction_already_decided (details: status, decided_by); correction_expired: older than CORRECTION_APPROVAL_HOURS "
           "(it is marked expired; ask again); insufficient_balance (approving: a negative correction now past the balance; "
           "the request stays pending)",
}
DECIDE_TEXT = ("Decided once: two approvals at the same moment make one ledger entry, the other answers 409 correction_already_decided. "
               "Approving writes the ledger entry (reason `correction`, the request's reason as its note) in the same transaction.")

CORRECTION_SCHEMAS: dict[str, Any] = {
    "CorrectionApproval": _obj(
        ["id", "status", "currency", "amount"],
        id={"type": "integer"}, store={"type": ["string", "null"], "description": "The store code; null: asked for in the console"},
        store_name={"type": ["string", "null"]}, member=_obj(member_no={"type": "string"}, name={"type": ["string", "null"]}),
        currency={"type": "string", "enum": ["stamp", "point"]}, amount={"type": "integer", "description": "The delta"},
        reason={"type": "string"}, status={"type": "string", "enum": list(STATUSES)},
        requested_by={"type": "string", "description": "The requester's name"}, requested_at=TIME, expires_at=TIME,
        mine={"type": "boolean", "description": "The caller asked for it (and so cannot decide it)"},
        decided_by={"type": ["string", "null"]}, decided_at=TIME_OR_NULL, note={"type": ["string", "null"], "description": "Why rejected"},
        entry_id={"type": ["integer", "null"], "description": "The ledger entry, once approved"}),
    "CorrectionApprovalList": _obj(["requests"], requests={"type": "array", "items": ref("CorrectionApproval")}),
    "CorrectionDecided": _obj(["request"], request=ref("CorrectionApproval")),
    "RejectRequest": _obj(note={"type": "string", "maxLength": 200, "description": "Why (optional); the body itself is optional"}),
    "ApprovalRequired": _obj(
        ["code", "message", "details", "request"], code={"type": "string", "const": "approval_required"}, message={"type": "string"},
        details=_obj(request_id={"type": "integer"}, currency={"type": "string"}, threshold={"type": "integer"}),
        request=ref("CorrectionApproval"),
        member={**ref("MemberSummary"), "description": "Counter only: the member, unchanged"},
        balances=_obj(doc="Console only: the balances, unchanged", stamps={"type": "integer"}, points={"type": "integer"})),
}
WAITING = {"202": ("Not applied: waiting for a second manager's approval (code approval_required, details.request_id)", "ApprovalRequired")}

CORRECTION_PATHS: dict[str, Any] = {
    "/api/v1/correction-requests": {"get": op(
        "Manager: this store's correction requests (pending ones by default), newest first", ok="CorrectionApprovalList",
        params=[STATUS], errors={"403": "manager_only", "422": "invalid_status"})},
    "/api/v1/correction-requests/{request_id}/approve": {"post": op(
        "Manager: approve another manager's correction request of this store", ok="CorrectionDecided", params=[REQUEST_ID],
        description=DECIDE_TEXT + " No body.", errors=DECIDE_ERRORS)},
    "/api/v1/correction-requests/{request_id}/reject": {"post": op(
        "Manager: reject another manager's correction request of this store", ok="CorrectionDecided", params=[REQUEST_ID],
        body=None, description="The body `{\"note\": …}` is optional.", errors={**DECIDE_ERRORS, "422": "invalid_note"})},
    "/api/v1/admin/correction-requests": {"get": op(
        "Correction requests of every store and the console (pending ones by default), newest first", auth="admin", scope=ADJUST,
        ok="CorrectionApprovalList", params=[STATUS], errors={"422": "invalid_status"})},
    "/api/v1/admin/correction-requests/{request_id}/approve": {"post": op(
        "Owner: approve a correction request (any store)", auth="admin", scope=SETTINGS, ok="CorrectionDecided", params=[REQUEST_ID],
        description=DECIDE_TEXT + " No body.", errors={k: v for k, v in DECIDE_ERRORS.items() if k != "403"} | {
            "403": "own_correction (nobody decides their own request), or missing_scope"})},
    "/api/v1/admin/correction-requests/{request_id}/reject": {"post": op(
        "Owner: reject a correction request (any store)", auth="admin", scope=SETTINGS, ok="CorrectionDecided", params=[REQUEST_ID],
        description="The body `{\"note\": …}` is optional.", errors={**{k: v for k, v in DECIDE_ERRORS.items() if k != "403"},
                                                                      "403": "own_correction, or missing_scope", "422": "invalid_note"})},
}

for _path in ("/api/v1/correction-requests/{request_id}/reject", "/api/v1/admin/correction-requests/{request_id}/reject"):
    CORRECTION_PATHS[_path]["post"]["requestBody"] = {"required": False, "content": {"application/json": {"schema": ref("RejectRequest")}}}
