"""The settings the console manages beyond tiers, rules and coupons, in the OpenAPI document: the
points rewards catalogue, stores' POS keys and the console's own accounts (bot/api/admin/settings.py,
bot/api/admin/users.py). bot/api/openapi/document.py merges these paths and schemas."""
from __future__ import annotations

from typing import Any

from bot.api.openapi.schemas import SETTINGS, TIME, TIME_OR_NULL, _obj, op, path_param, ref
from models.admin_user import ROLES
from models.reward import MAX_POINTS_COST

STORE_CODE = path_param("code", description="The store code")
EMAIL = path_param("email", description="The account's email (its sign-in name), any case")
NO_USER = {"404": "No such account (admin_user_not_found)"}
ROLE = {"type": "string", "enum": list(ROLES), "description": "analyst: read only; marketer: + segments, campaigns, automations; "
                                                              "manager: + balance adjustments; owner: + every setting and the accounts"}


def admin(summary: str, **kw: Any) -> dict[str, Any]:
    return op(summary, auth="admin", scope=SETTINGS, **kw)


SETTINGS_MORE_SCHEMAS: dict[str, Any] = {
    "Reward": _obj(id={"type": "integer"}, name={"type": "string"}, points_cost={"type": "integer"},
                   active={"type": "boolean", "description": "false: withdrawn; the counter no longer offers it"}),
    "RewardList": _obj(["rewards"], rewards={"type": "array", "items": ref("Reward"), "description": "Cheapest first, withdrawn ones included"}),
    "RewardUpdate": _obj(doc="Only the fields sent change; redemptions already made keep the points they cost",
                         name={"type": "string", "minLength": 1, "maxLength": 120},
                         points_cost={"type": "integer", "minimum": 1, "maximum": MAX_POINTS_COST},
                         active={"type": "boolean", "description": "false withdraws the reward, true offers it again"}),
    "ApiKey": _obj(key_id={"type": "string", "description": "The public part: the key is pos_<key_id>_<secret>"},
                   label={"type": "string"}, store={"type": "string"}, hint={"type": "string", "examples": ["pos_3f2a9c1b7d4e_…"]},
                   created_at=TIME, revoked_at=TIME_OR_NULL, active={"type": "boolean"}),
    "ApiKeyList": _obj(["keys"], doc="Newest first, revoked ones included; the secrets are never kept, so never listed",
                       keys={"type": "array", "items": ref("ApiKey")}),
    "ApiKeyCreated": {"allOf": [ref("ApiKey"), _obj(["api_key"], api_key={"type": "string", "pattern": "^pos_", "description": (
        "The whole key, `pos_<key_id>_<secret>`: shown this once (only a SHA-256 of the secret is stored). "
        "The POS sends it as `Authorization: Bearer …`")}, note={"type": "string"})]},
    "AdminAccount": {"allOf": [ref("AdminUser"), _obj(created_at=TIME, failed_logins={
        "type": "integer", "minimum": 0, "description": "Wrong passwords since the account's last sign-in (told to the user when they next sign in)"})]},
    "AdminAccountList": _obj(["users"], users={"type": "array", "items": ref("AdminAccount")}),
    "AdminAccountRequest": _obj(["email", "password", "role"], email={"type": "string", "format": "email", "description": "The sign-in name"},
                                password={"type": "string", "minLength": 8, "maxLength": 200}, role=ROLE,
                                name={"type": "string", "maxLength": 120, "description": "Shown in the console (default: the part of the email before @)"}),
    "PasswordRequest": _obj(["password"], password={"type": "string", "minLength": 8, "maxLength": 200}),
}

SETTINGS_MORE_PATHS: dict[str, Any] = {
    "/api/v1/admin/rewards": {
        "get": admin("The rewards catalogue, withdrawn ones included", ok="RewardList"),
        "post": admin("Add a catalogue reward", body="RewardItem", ok="Reward", status="201", errors={
            "422": f"invalid_name (1–120 characters), invalid_points_cost (not a whole number), or invalid_reward "
                   f"(details.field: points_cost outside 1–{MAX_POINTS_COST:,})"})},
    "/api/v1/admin/rewards/{reward_id}": {"put": admin(
        "Change a catalogue reward: rename, reprice, withdraw or offer it again", body="RewardUpdate", ok="Reward",
        params=[path_param("reward_id", "integer")],
        errors={"404": "No such reward (reward_not_found)",
                "422": "invalid_json, or invalid_reward (details.field: name, points_cost, active, or an unknown field)"})},
    "/api/v1/admin/stores/{code}/api-keys": {
        "get": admin("A store's POS API keys (never their secrets)", ok="ApiKeyList", params=[STORE_CODE], errors={"404": "No such store (store_not_found)"}),
        "post": admin("Create a POS API key (shown once)", body="ApiKeyRequest", ok="ApiKeyCreated", status="201", params=[STORE_CODE],
                      description="The answer carries `Cache-Control: no-store`.",
                      errors={"404": "No such store (store_not_found)", "422": "invalid_json, or invalid_label (text, at most 120 characters)"})},
    "/api/v1/admin/stores/{code}/api-keys/{key_id}/revoke": {"post": admin(
        "Revoke a POS API key: the POS holding it is refused from now on", ok="ApiKey",
        params=[STORE_CODE, path_param("key_id", description="The key's public id (pos_<key_id>_…)")],
        description="No body. Revoking a revoked key changes nothing (its revoked_at stays).",
        errors={"404": "No such store, or no such key at this store (store_not_found, api_key_not_found)"})},
    "/api/v1/admin/users": {
        "get": admin("The console's accounts with their roles", ok="AdminAccountList"),
        "post": admin("Create a console account", body="AdminAccountRequest", ok="AdminAccount", status="201", errors={
            "409": "This email already has an account (admin_user_exists)",
            "422": "invalid_json, invalid_email, weak_password (under 8 characters), invalid_password, invalid_role, invalid_name "
                   "(details.field names the field)"})},
    "/api/v1/admin/users/{email}/disable": {"post": admin(
        "Disable a console account and sign it out everywhere", ok="AdminAccount", params=[EMAIL], description="No body.",
        errors={**NO_USER, "409": "The last active owner cannot be disabled (last_owner)"})},
    "/api/v1/admin/users/{email}/enable": {"post": admin(
        "Enable a console account again", ok="AdminAccount", params=[EMAIL], description="No body.", errors=NO_USER)},
    "/api/v1/admin/users/{email}/password": {"post": admin(
        "Set a new password for a console account", body="PasswordRequest", ok="AdminAccount", params=[EMAIL],
        description="Ends a lock and signs the account out everywhere (the caller too, when it is the caller's own account).",
        errors={**NO_USER, "422": "invalid_json, weak_password (under 8 characters), or invalid_password (not text, over 200 characters)"})},
}
