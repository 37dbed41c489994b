"""The till's day in the OpenAPI document (bot/api/shift.py); bot/api/openapi/document.py merges these."""
from __future__ import annotations

from typing import Any

from bot.api.openapi.schemas import TIME, _obj, op, path_param, ref

SHIFT_SCHEMAS: dict[str, Any] = {
    "ShiftSummary": _obj(
        ["awards", "revenue", "stamps", "points"], "The store's business day (Asia/Taipei); a voided award counts only in voided_awards",
        business_day={"type": "string", "format": "date"}, awards={"type": "integer"}, members={"type": "integer"},
        revenue={"type": "string", "description": "NT$ of the awards' amounts"}, stamps={"type": "integer"}, points={"type": "integer"},
        voided_awards={"type": "integer"}, redemptions={"type": "integer"}, redeemed_points={"type": "integer"},
        coupons_used={"type": "integer", "description": "Coupon redemptions, less the ones voided today"}),
    "ShiftTransaction": _obj(
        ["kind", "id", "at"], "One award, redemption or coupon use; the fields present depend on kind",
        kind={"type": "string", "enum": ["award", "redemption", "coupon"]}, id={"type": "integer"}, at=TIME,
        member_no={"type": "string"}, member_name={"type": ["string", "null"]}, receipt_id={"type": "string"},
        amount={"type": ["string", "null"]}, visit={"type": "boolean"}, stamps={"type": "integer"}, points={"type": "integer"},
        rewards={"type": "integer"}, voided={"type": "boolean"}, reward={"type": "string"}, code={"type": "string"}),
    "ShiftToday": _obj(["summary", "transactions"], summary=ref("ShiftSummary"),
                       transactions={"type": "array", "items": ref("ShiftTransaction"), "description": "Newest first (at most 200)"}),
    "AwardVoidRequest": _obj(["reason"], reason={"type": "string", "maxLength": 200}),
}

SHIFT_PATHS: dict[str, Any] = {
    "/api/v1/shift/today": {"get": op("Today's awards, redemptions and coupon uses at the signed-in store, and the shift summary", ok="ShiftToday")},
    "/api/v1/awards/{award_id}/void": {"post": op(
        "A manager voids one of today's awards: compensating ledger entries (reason void), once", body="AwardVoidRequest", status="201",
        params=[path_param("award_id", "integer", "The award's id")],
        description=("Takes back exactly the stamps and points the award gave, audited. Idempotent: a second void answers 200 with "
                     "replayed: true. Only the store's own awards of the current business day (Asia/Taipei)."),
        errors={"403": "manager_only", "404": "award_not_found (none, or another store's)", "422": "invalid_reason (no reason given)",
                "409": "award_not_today; award_issued_reward (it filled a card: use a correction); award_already_spent (details: "
                       "currency, balance, needed)"})},
}
