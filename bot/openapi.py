"""GET /openapi.json: the cashier, POS and admin API, described as OpenAPI 3.1."""
from __future__ import annotations

from typing import Any

from flask import Blueprint

bp = Blueprint("openapi", __name__)


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _op(summary: str, *, body: str | None = None, ok: str = "Object", status: str = "200", auth: str = "counter",
        params: list[dict[str, Any]] | None = None, errors: tuple[str, ...] = ()) -> dict[str, Any]:
    op: dict[str, Any] = {
        "summary": summary,
        "responses": {
            status: {"description": "OK", "content": {"application/json": {"schema": _ref(ok)}}},
            **{code: {"$ref": f"#/components/responses/{code}"} for code in ("400", "401", *errors)},
        },
        "security": [{"staffOrPos": []}] if auth == "counter" else ([{"admin": []}] if auth == "admin" else []),
    }
    if body:
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": _ref(body)}}}
    if params:
        op["parameters"] = params
    return op


def _path_param(name: str, kind: str = "string") -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": {"type": kind}}


MEMBER_REF = {
    "type": "object",
    "description": "Either the card's QR token or a member number typed by hand.",
    "properties": {"token": {"type": "string"}, "member_no": {"type": "string", "pattern": "^[0-9]+$"}},
}
AMOUNT = {"description": "NT$ as an integer or a decimal string (no floats)", "oneOf": [{"type": "integer", "minimum": 0}, {"type": "string", "pattern": r"^\d+(\.\d{1,2})?$"}]}

SCHEMAS: dict[str, Any] = {
    "Object": {"type": "object"},
    "Error": {
        "type": "object",
        "required": ["code", "message", "details"],
        "properties": {"code": {"type": "string", "examples": ["token_expired"]}, "message": {"type": "string"}, "details": {"type": "object"}},
    },
    "Login": {"type": "object", "required": ["username", "password"], "properties": {"username": {"type": "string"}, "password": {"type": "string"}}},
    "MemberRef": MEMBER_REF,
    "MemberSummary": {
        "type": "object",
        "properties": {
            "member_no": {"type": "string"}, "name": {"type": ["string", "null"]}, "tier": {"type": ["string", "null"]},
            "balances": {"type": "object", "properties": {"stamps": {"type": "integer"}, "points": {"type": "integer"}}},
            "card": {"type": "object", "properties": {"size": {"type": "integer"}, "filled": {"type": "integer"}, "reward": {"type": "string"}}},
            "rewards": {"type": "array", "items": {"type": "object"}}, "coupons": {"type": "array", "items": {"type": "object"}},
        },
    },
    "AwardRequest": {
        "allOf": [MEMBER_REF, {
            "type": "object", "required": ["receipt_id"],
            "properties": {"receipt_id": {"type": "string", "maxLength": 64, "description": "Idempotency key per store: a retry answers with the original result (200, replayed: true)"},
                           "amount": AMOUNT, "visit": {"type": "boolean"}},
        }],
    },
    "RedemptionRequest": {"allOf": [MEMBER_REF, {"type": "object", "required": ["reward_id", "request_id"], "properties": {"reward_id": {"type": "integer"}, "request_id": {"type": "string", "maxLength": 64}}}]},
    "CorrectionRequest": {"allOf": [MEMBER_REF, {"type": "object", "required": ["currency", "amount", "reason"], "properties": {"currency": {"enum": ["stamp", "point"]}, "amount": {"type": "integer"}, "reason": {"type": "string"}}}]},
    "ClaimRequest": {"type": "object", "required": ["receipt_id"], "properties": {"receipt_id": {"type": "string", "maxLength": 64}, "amount": AMOUNT, "visit": {"type": "boolean"}}},
    "Claim": {"type": "object", "properties": {"code": {"type": "string"}, "line_url": {"type": "string"}, "qr_url": {"type": "string"}, "expires_at": {"type": "string", "format": "date-time"}}},
    "Store": {"type": "object", "required": ["code", "name"], "properties": {"code": {"type": "string"}, "name": {"type": "string"}}},
    "StaffRequest": {"type": "object", "required": ["username", "password"], "properties": {"username": {"type": "string"}, "password": {"type": "string", "minLength": 8}, "name": {"type": "string"}, "role": {"enum": ["cashier", "manager"]}}},
    "ApiKeyRequest": {"type": "object", "properties": {"label": {"type": "string"}}},
    "EarningRule": {
        "type": "object",
        "properties": {
            "stamps_per_visit": {"type": "integer", "minimum": 0}, "amount_per_stamp": {"type": ["string", "null"]},
            "amount_per_point": {"type": ["string", "null"]}, "min_spend": {"type": "string"},
            "daily_cap_stamps": {"type": ["integer", "null"]}, "daily_cap_points": {"type": ["integer", "null"]},
            "card_size": {"type": "integer", "minimum": 1, "maximum": 50}, "reward_kind": {"enum": ["free_item", "coupon"]},
            "reward_name": {"type": "string"}, "stamp_expiry_days": {"type": ["integer", "null"]}, "point_expiry_days": {"type": ["integer", "null"]},
        },
    },
    "CouponRef": {"type": "object", "description": "The coupon QR's token, or its code typed by hand",
                  "properties": {"token": {"type": "string"}, "code": {"type": "string"}, "amount": AMOUNT}},
    "VoidRequest": {"type": "object", "required": ["reason"], "properties": {"token": {"type": "string"}, "code": {"type": "string"}, "reason": {"type": "string"}}},
    "Tier": {
        "type": "object",
        "properties": {
            "code": {"type": "string"}, "name": {"type": "string"}, "rank": {"type": "integer", "description": "0 is the entry tier"},
            "metric": {"enum": ["spend", "points", "visits"]}, "threshold": {"type": ["string", "number"]},
            "window_days": {"type": "integer"}, "period_days": {"type": "integer"}, "reminder_days": {"type": "integer"},
            "earn_multiplier": {"type": ["string", "number"]}, "benefits": {"type": "array", "items": {"type": "string"}},
            "color": {"type": "string"}, "image_url": {"type": ["string", "null"]}, "birthday_template_id": {"type": ["integer", "null"]},
            "upgrade_template_id": {"type": ["integer", "null"]}, "richmenu_id": {"type": ["string", "null"]},
        },
    },
    "CouponTemplate": {
        "type": "object", "required": ["name", "kind"],
        "properties": {
            "name": {"type": "string"}, "kind": {"enum": ["amount_off", "percent_off", "free_item"]},
            "value": {"type": ["string", "number"], "description": "NT$ off for amount_off; the percentage off for percent_off (15 = 15% off, shown as 85 折)"},
            "item_name": {"type": "string"}, "min_spend": {"type": ["string", "number"]},
            "valid_from": {"type": "string", "format": "date-time"}, "valid_until": {"type": "string", "format": "date-time"},
            "valid_days": {"type": "integer", "minimum": 1}, "per_member_limit": {"type": "integer", "minimum": 1},
            "total_stock": {"type": "integer", "minimum": 0}, "store_codes": {"type": "array", "items": {"type": "string"}},
            "trigger": {"enum": ["welcome", "birthday", "stamp_card", "tier_upgrade", "campaign", "manual"]},
        },
    },
    "IssueRequest": {"type": "object", "required": ["member_no"], "properties": {"member_no": {"type": "string"}, "occasion": {"type": "string", "description": "Idempotency key: the same occasion issues once"}}},
    "RewardItem": {"type": "object", "required": ["name", "points_cost"], "properties": {"name": {"type": "string"}, "points_cost": {"type": "integer", "minimum": 1}}},
}

PATHS: dict[str, Any] = {
    "/api/v1/auth/login": {"post": _op("Staff sign-in; returns a bearer token for the cashier page", body="Login", auth="none")},
    "/api/v1/me": {"get": _op("Who is signed in, and for which store")},
    "/api/v1/scan": {"post": _op("Look up a member by card QR token or member number", body="MemberRef", ok="MemberSummary", errors=("404",))},
    "/api/v1/awards": {"post": _op("Award stamps/points for a receipt (idempotent on store + receipt_id)", body="AwardRequest", status="201", errors=("404", "409", "422"))},
    "/api/v1/rewards": {"get": _op("The points rewards catalogue")},
    "/api/v1/redemptions": {"post": _op("Redeem a catalogue reward for points (idempotent on store + request_id)", body="RedemptionRequest", status="201", errors=("404", "409", "422"))},
    "/api/v1/grants/{grant_id}/use": {"post": _op("Hand over a stamp-card reward", body="MemberRef", params=[_path_param("grant_id", "integer")], errors=("404", "409"))},
    "/api/v1/corrections": {"post": _op("Manager's compensating ledger entry", body="CorrectionRequest", status="201", errors=("403", "409", "422"))},
    "/api/v1/members/{member_no}/ledger": {"get": _op("A member's last 50 ledger entries", params=[_path_param("member_no")], errors=("404",))},
    "/api/v1/claims": {"post": _op("One-time receipt claim code and its LINE link", body="ClaimRequest", ok="Claim", status="201", errors=("422",))},
    "/api/v1/coupons/check": {"post": _op("Check a coupon for this store and amount without redeeming it", body="CouponRef", errors=("404", "409"))},
    "/api/v1/coupons/redeem": {"post": _op("Redeem a coupon exactly once (coupon_expired, coupon_voided, coupon_wrong_store, coupon_min_spend, coupon_already_redeemed, coupon_token_invalid)", body="CouponRef", errors=("404", "409"))},
    "/api/v1/coupons/void-redemption": {"post": _op("Manager: undo a redemption (recorded)", body="VoidRequest", errors=("403", "404", "409"))},
    "/api/v1/admin/tiers": {"get": _op("List tiers", auth="admin"), "post": _op("Create a tier", body="Tier", status="201", auth="admin", errors=("409", "422"))},
    "/api/v1/admin/tiers/{code}": {"put": _op("Change a tier", body="Tier", auth="admin", params=[_path_param("code")], errors=("404", "422"))},
    "/api/v1/admin/coupon-templates": {"get": _op("List coupon templates", auth="admin"), "post": _op("Create a coupon template", body="CouponTemplate", status="201", auth="admin", errors=("422",))},
    "/api/v1/admin/coupon-templates/{template_id}/issue": {"post": _op("Issue a coupon to a member by hand", body="IssueRequest", status="201", auth="admin", params=[_path_param("template_id", "integer")], errors=("404", "422"))},
    "/api/v1/admin/coupons/{code}/void": {"post": _op("Withdraw an unused coupon", body="Object", auth="admin", params=[_path_param("code")], errors=("404", "409"))},
    "/api/v1/admin/stores": {"get": _op("List stores", auth="admin"), "post": _op("Create a store", body="Store", status="201", auth="admin", errors=("409", "422"))},
    "/api/v1/admin/stores/{code}/staff": {
        "get": _op("List a store's staff", auth="admin", params=[_path_param("code")], errors=("404",)),
        "post": _op("Add staff to a store", body="StaffRequest", status="201", auth="admin", params=[_path_param("code")], errors=("404", "409", "422")),
    },
    "/api/v1/admin/stores/{code}/api-keys": {"post": _op("Create a POS API key (shown once)", body="ApiKeyRequest", status="201", auth="admin", params=[_path_param("code")], errors=("404",))},
    "/api/v1/admin/earning-rule": {"get": _op("The earning rules", ok="EarningRule", auth="admin"), "put": _op("Change the earning rules", body="EarningRule", ok="EarningRule", auth="admin", errors=("422",))},
    "/api/v1/admin/rewards": {"get": _op("The rewards catalogue, inactive included", auth="admin"), "post": _op("Add a catalogue reward", body="RewardItem", status="201", auth="admin", errors=("422",))},
}

RESPONSES = {
    code: {"description": text, "content": {"application/json": {"schema": _ref("Error")}}}
    for code, text in {
        "400": "Bad input or token (e.g. token_expired, token_invalid, invalid_json)",
        "401": "Missing or wrong credentials",
        "403": "Not allowed for this role (manager_only)",
        "404": "Unknown member, store, reward (member_not_found, …)",
        "409": "Conflict (receipt_already_awarded, insufficient_balance, grant_used)",
        "422": "Invalid field (invalid_amount, invalid_receipt_id, …)",
    }.items()
}


def document() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {"title": "Loyalty bot: cashier, POS and admin API", "version": "1"},
        "paths": PATHS,
        "components": {
            "schemas": SCHEMAS,
            "responses": RESPONSES,
            "securitySchemes": {
                "staffOrPos": {"type": "http", "scheme": "bearer", "description": "A staff token from /api/v1/auth/login, or a store's POS key pos_…"},
                "admin": {"type": "http", "scheme": "bearer", "description": "ADMIN_TOKEN"},
            },
        },
    }


@bp.get("/openapi.json")
def openapi_json():  # type: ignore[no-untyped-def]
    return document()
