"""The admin console's own routes in the OpenAPI document: sign-in, who am I, the forms' choices
and the balance adjustment (bot/api/admin/console.py). bot/api/openapi/document.py merges these paths and schemas."""
from __future__ import annotations

from typing import Any

from bot.api.openapi.corrections import APPROVAL, WAITING
from bot.api.openapi.schemas import ADJUST, CORRECTION_422, CORRECTION_AMOUNT, READ, TIME, TIME_OR_NULL, _obj, op, path_param, ref

SCOPE_LIST = {"type": "array", "items": {"type": "string"}}
ADMIN_USER = _obj(email={"type": "string"}, name={"type": "string"}, role={"type": "string", "enum": ["analyst", "marketer", "manager", "owner"]},
                  scopes=SCOPE_LIST, active={"type": "boolean"}, last_login_at=TIME_OR_NULL)
NAMED = {"type": "array", "items": _obj(code={"type": "string"}, name={"type": "string"})}

CONSOLE_SCHEMAS: dict[str, Any] = {
    "AdminLogin": _obj(["email", "password"], email={"type": "string", "format": "email"}, password={"type": "string"}),
    "AdminUser": ADMIN_USER,
    "AdminSession": _obj(["token", "expires_at", "user"], token={"type": "string", "description": "`adm_…`: send as `Authorization: Bearer …`"},
                         expires_at=TIME, user=ref("AdminUser")),
    "AdminWhoAmI": _obj(who={"type": "string", "description": "As the audit log names this caller"}, scopes=SCOPE_LIST,
                        user={"oneOf": [{"type": "null"}, ref("AdminUser")], "description": "null for the root token and tokens from POST /tokens"},
                        expires_at=TIME_OR_NULL),
    "SignedOut": _obj(revoked={"type": "boolean", "description": "false for a token that is not a console session (left alone)"}),
    "Lookups": _obj(
        tiers={"type": "array", "items": _obj(code={"type": "string"}, name={"type": "string"}, color={"type": "string"})},
        stores=NAMED, tags={"type": "array", "items": {"type": "string"}},
        segments={"type": "array", "items": _obj(id={"type": "integer"}, name={"type": "string"}, rule={"type": "object"})},
        coupon_templates={"type": "array", "items": _obj(id={"type": "integer"}, name={"type": "string"}, kind={"type": "string"},
                                                         trigger={"type": "string"}, active={"type": "boolean"})},
        rule_fields={"type": "object", "description": "Every segment rule field with its operators, value kind, choices and bounds",
                     "additionalProperties": _obj(ops=SCOPE_LIST, kind={"type": "string"}, choices={"type": "array"},
                                                  bounds={"type": ["array", "null"], "items": {"type": "integer"}})},
        card=_obj(size={"type": "integer"}, reward={"type": "string", "description": "The full card's reward ({reward} in texts)"}),
        brand=_obj(doc="The brand as members see it in LINE (BRAND_NAME): the console's previews show it", name={"type": "string"})),
    "AdjustmentRequest": _obj(["currency", "amount", "reason"], currency={"type": "string", "enum": ["stamps", "points"]},
                              amount=CORRECTION_AMOUNT,
                              reason={"type": "string", "maxLength": 200}),
    "Adjustment": _obj(entry=ref("LedgerEntry"), balances=_obj(stamps={"type": "integer"}, points={"type": "integer"})),
}

CONSOLE_PATHS: dict[str, Any] = {
    "/api/v1/admin/auth/login": {"post": op(
        "Admin console sign-in: an admin account's email and password for a short-lived admin token", body="AdminLogin", ok="AdminSession",
        auth="none", description=("The token carries the scopes of the account's role and expires after 8 hours. Accounts come from "
                                  "`flask --app bot loyalty admin-user create`. Five wrong passwords in a row lock the account for 15 minutes."),
        errors={"401": "Wrong email or password (invalid_credentials)",
                "429": "Too many failed sign-ins (too_many_attempts; details.retry_after_seconds)", "422": "invalid_json"})},
    "/api/v1/admin/auth/me": {"get": op("Who this token is: the console user and role, and the scopes", auth="admin", scope=READ, ok="AdminWhoAmI")},
    "/api/v1/admin/auth/logout": {"post": op("End this console session now", auth="admin", scope=READ, ok="SignedOut", description="No body.")},
    "/api/v1/admin/lookups": {"get": op(
        "The choices the console's forms offer: tiers, stores, tags, segments, coupon templates, segment rule fields", auth="admin", scope=READ, ok="Lookups")},
    "/api/v1/admin/members/{member_no}/adjustments": {"post": op(
        "Adjust a member's stamps or points with a reason", auth="admin", scope=ADJUST, body="AdjustmentRequest", ok="Adjustment", status="201",
        params=[path_param("member_no", description="The member number")], also=WAITING,
        description="A compensating ledger entry (reason `correction`, the reason as its note); the audit log records who made it. "
                    + APPROVAL + " Here an owner approves, in the console (POST /api/v1/admin/correction-requests/{request_id}/approve).",
        errors={"404": "No such member (member_not_found)", "409": "Would take the balance below zero (insufficient_balance)",
                "422": CORRECTION_422})},
}
