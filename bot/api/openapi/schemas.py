"""The data behind GET /openapi.json: schemas, shared responses, security schemes and the operation
helper (bot/api/openapi/document.py lists the paths and assembles the document).

The segment rule schemas live in bot/api/openapi/rules.py; bot/api/openapi/document.py merges both."""
from __future__ import annotations

import re
from typing import Any

from models.admin import SCOPES
from models.items import MAX_ITEMS
from models.ledger import MAX_AMOUNT
from models.limits import (
    MAX_BENEFIT_LENGTH, MAX_CARD_SIZE, MAX_CORRECTION, MAX_DAILY_CAP_POINTS, MAX_DAILY_CAP_STAMPS, MAX_DAYS, MAX_PER_MEMBER_LIMIT,
    MAX_POINTS_COST, MAX_RATE, MAX_STAMPS_PER_AWARD, MAX_STAMPS_PER_VISIT,
    MAX_STORE_CODES, MAX_TIER_BENEFITS, MAX_TIER_RANK, MAX_TIER_REMINDER_DAYS, MAX_TIER_THRESHOLD, MAX_TOTAL_STOCK,
)

READ, CAMPAIGNS, SETTINGS, ADJUST = "members:read", "campaigns:manage", "settings:manage", "members:adjust"
assert set(SCOPES) == {READ, CAMPAIGNS, SETTINGS, ADJUST}, "admin scopes changed: update the OpenAPI document"

JSON = "application/json"


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any] | str) -> dict[str, Any]:
    return {JSON: {"schema": ref(schema) if isinstance(schema, str) else schema}}


def op(summary: str, *, body: str | None = None, ok: str | dict[str, Any] = "Object", status: str = "200", auth: str = "counter",
       scope: str | None = None, params: list[dict[str, Any]] | None = None, errors: tuple[str, ...] | dict[str, str] = (),
       description: str | None = None, ok_text: str = "OK",
       also: dict[str, tuple[str, str]] | None = None, ok_content: dict[str, Any] | None = None) -> dict[str, Any]:
    """One operation. ``errors``: status codes referring to the shared responses, or {status: what it means here}.
    Counter routes (staff or POS) always answer 400/401; admin routes 401 and 403 (missing_scope)."""
    if auth == "admin" and scope not in SCOPES:
        raise ValueError(f"admin operation {summary!r} needs one of the scopes {SCOPES}")
    responses: dict[str, Any] = {status: {"description": ok_text, "content": ok_content or _json(ok)}}
    for code, (text, schema) in (also or {}).items():
        responses[code] = {"description": text, "content": _json(schema)}
    shared = ("401", "403") if auth == "admin" else (("400", "401") if auth == "counter" else ("401",))
    named = dict(errors) if isinstance(errors, dict) else dict.fromkeys(errors, "")
    for code in sorted({*shared, *named}):
        if named.get(code):
            responses[code] = {"description": named[code], "content": _error_content(named[code])}
        else:
            responses[code] = {"$ref": f"#/components/responses/{'MissingScope' if auth == 'admin' and code == '403' else code}"}
    result: dict[str, Any] = {"summary": summary, "responses": responses}
    if description or scope:
        result["description"] = "\n\n".join(filter(None, [description, scope and f"Admin scope: `{scope}`."]))
    result["security"] = {"counter": [{"staffOrPos": []}], "admin": [{"admin": [scope]}]}.get(auth, [])
    if body:
        result["requestBody"] = {"required": True, "content": _json(body)}
    if params:
        result["parameters"] = params
    return result


def _error_content(description: str) -> dict[str, Any]:
    """The Error schema with an example carrying the first error code the description names
    (a snake_case word, or a single word opening a parenthesis: "(unauthorized, …)")."""
    found = re.search(r"\b[a-z]+(?:_[a-z]+)+\b|(?<=\()[a-z]+(?=[,;)])", description)
    example = {"code": found.group(0) if found else "error", "message": "…", "details": {}}
    return {JSON: {"schema": ref("Error"), "example": example}}


def path_param(name: str, kind: str = "string", description: str | None = None) -> dict[str, Any]:
    param: dict[str, Any] = {"name": name, "in": "path", "required": True, "schema": {"type": kind}}
    if description:
        param["description"] = description
    return param


def query_param(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description}


# --- request and response bodies -------------------------------------------------------------

MEMBER_REF = {
    "type": "object",
    "description": "The card's QR token, a member number typed by hand, or the member's phone (earning only, like a typed number; "
                   "rate-limited per staff account and per store and audited). A member_no starting with 0 is read as a phone.",
    "properties": {"token": {"type": "string"}, "member_no": {"type": "string", "pattern": "^[0-9]+$"},
                   "phone": {"type": "string", "description": "Taiwan mobile: 09xxxxxxxx or +8869xxxxxxxx (spaces and dashes allowed)"}},
}
AMOUNT = {"description": "NT$ as an integer or a decimal string (no floats)", "oneOf": [{"type": "integer", "minimum": 0}, {"type": "string", "pattern": r"^\d+(\.\d{1,2})?$"}]}
PURCHASE_AMOUNT = {  # models.ledger.check_purchase: what an award takes, and so what a claim code is made for
    "description": f"NT$ as an integer or a decimal string (no floats), from 0 to {MAX_AMOUNT:,} (more: 422 invalid_amount)",
    "oneOf": [{"type": "integer", "minimum": 0, "maximum": int(MAX_AMOUNT)}, {"type": "string", "pattern": r"^\d+(\.\d{1,2})?$"}]}
RECEIPT_ITEMS = {  # bot/api/openapi/products.py has ReceiptItem
    "type": "array", "maxItems": MAX_ITEMS, "items": ref("ReceiptItem"), "description": (
    "The receipt's line items (optional). Their total, sum(qty × unit_price), must be within ITEMS_TOTAL_TOLERANCE (default NT$1) "
    "of amount, else 422 items_total_mismatch (details: items_total, amount, difference, tolerance); a line that is not valid is 422 "
    "invalid_items (details.field such as items[2].qty). Stored with the award, in its transaction. The receipt id sent again with "
    "the same items (per SKU and unit price, the quantities; order and names do not matter) is a retry; other items are refused "
    "like another amount (409).")}
PURCHASE_422 = (f"invalid_amount: not a number ≥ 0 with at most 2 decimals, or above {MAX_AMOUNT:,} (details: field, max); "
                "invalid_receipt_id; nothing_to_award (neither an amount nor visit: true); invalid_visit; invalid_json; "
                "invalid_items (details.field such as items[0].qty); items_total_mismatch (details: items_total, amount, difference, tolerance)")
TIME = {"type": "string", "format": "date-time"}
TIME_OR_NULL = {"type": ["string", "null"], "format": "date-time"}
COUNTS = {"type": "object", "additionalProperties": {"type": "integer"}}
MONEY = {"type": "string", "description": "NT$ as a decimal string", "examples": ["1280.50"]}
DECIMAL = r"^\d+(\.\d{1,2})?$"


def bounded_amount(low: object, high: object, what: str, *, nullable: bool = False) -> dict[str, Any]:
    """An NT$ (or other decimal) setting: a number or a decimal string from low to high, at most 2 decimals."""
    kinds = ["number", "string", "null"] if nullable else ["number", "string"]
    return {"type": kinds, "minimum": float(low), "maximum": float(high), "pattern": DECIMAL,  # type: ignore[arg-type]
            "description": f"{what}: {low} to {high:,} with at most 2 decimals (a number or a decimal string)"}


def bounded_int(low: int, high: int, what: str, *, nullable: bool = False) -> dict[str, Any]:
    return {"type": ["integer", "null"] if nullable else "integer", "minimum": low, "maximum": high,
            "description": f"{what}: {low} to {high:,}" + (" (null: none)" if nullable else "")}


CORRECTION_AMOUNT = {"type": "integer", "minimum": -MAX_CORRECTION["point"], "maximum": MAX_CORRECTION["point"], "description": (
    f"Added when positive, taken off when negative (never below zero); not 0. One correction moves at most "
    f"{MAX_CORRECTION['stamp']:,} stamps or {MAX_CORRECTION['point']:,} points either way (more: 422 amount_too_large, "
    "details: field, currency, max)")}
CORRECTION_422 = ("invalid_amount (0 or not a whole number), amount_too_large (details: field, currency, max), invalid_currency, "
                  "invalid_reason or reason_required (no reason), invalid_json")


def _obj(required: list[str] | None = None, doc: str | None = None, **properties: Any) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        schema["required"] = required
    if doc:
        schema["description"] = doc
    return schema


def _list_of(key: str, item: str) -> dict[str, Any]:
    return _obj([key], **{key: {"type": "array", "items": ref(item)}})


CASHIER_SCHEMAS: dict[str, Any] = {
    "Object": {"type": "object"},
    "Error": _obj(["code", "message", "details"], code={"type": "string", "description": "snake_case; clients key on it", "examples": ["member_not_found"]},
                  message={"type": "string"}, details={"type": "object"}),
    "Login": _obj(["username", "password"], username={"type": "string"}, password={"type": "string"}),
    "MemberRef": MEMBER_REF,
    "MemberSummary": _obj(
        member_no={"type": "string"}, name={"type": ["string", "null"]}, tier={"type": ["string", "null"]}, joined_at=TIME_OR_NULL,
        balances=_obj(stamps={"type": "integer"}, points={"type": "integer"}),
        card=_obj(size={"type": "integer"}, filled={"type": "integer"}, reward={"type": "string"}),
        rewards={"type": "array", "items": _obj(id={"type": "integer"}, name={"type": "string"}, issued_at=TIME)},
        coupons={"type": "array", "items": ref("Coupon")},
    ),
    "AwardRequest": {"allOf": [MEMBER_REF, _obj(["receipt_id"], receipt_id={
        "type": "string", "maxLength": 64, "description": "Idempotency key per store: a retry answers with the original result (200, replayed: true); "
        "the same id for another member, amount or visit is refused (409 receipt_already_awarded), and so is another purchase "
        "than the receipt's open claim code was made for (409 receipt_already_has_claim); the same purchase uses that code up"},
        amount=PURCHASE_AMOUNT, visit={"type": "boolean"}, items=RECEIPT_ITEMS)]},
    "RedemptionRequest": {"allOf": [MEMBER_REF, _obj(["reward_id", "request_id"], reward_id={"type": "integer"}, request_id={
        "type": "string", "maxLength": 64, "description": "Idempotency key per store: a retry answers with the original result (200, replayed: true); "
        "the same id for another member or reward is refused (409 request_id_reused)"})]},
    "CorrectionRequest": {"allOf": [MEMBER_REF, _obj(["currency", "amount", "reason"], currency={"type": "string", "enum": ["stamp", "point"]},
                                                     amount=CORRECTION_AMOUNT, reason={"type": "string"})]},
    "PrememberRequest": _obj(["phone"], phone={"type": "string", "description": "Taiwan mobile: 09xxxxxxxx or +8869xxxxxxxx"}),
    "ClaimRequest": _obj(["receipt_id"], receipt_id={
        "type": "string", "maxLength": 64, "description": "Idempotency key per store: a retry of the same purchase answers with the original code "
        "(200, replayed: true); the same id for another amount or visit is refused (409 receipt_already_has_claim), and so is a receipt "
        "already awarded at the counter (409 receipt_already_awarded)"}, amount=PURCHASE_AMOUNT, visit={"type": "boolean"},
        items={**RECEIPT_ITEMS, "description": "The receipt's line items, stored with the award the code makes when the member collects. "
               + RECEIPT_ITEMS["description"].split(". ", 1)[1]}),
    "Claim": _obj(code={"type": "string"}, receipt_id={"type": "string"}, amount={"type": ["string", "null"]}, visit={"type": "boolean"},
                  expires_at=TIME, claimed={"type": "boolean", "description": "Used up: collected in chat, or the receipt awarded at the counter"}, replayed={"type": "boolean"}, line_url={"type": "string"}, qr_url={"type": "string"}),
    "LedgerEntry": _obj(
        id={"type": "integer"}, currency={"type": "string", "enum": ["stamp", "point"]}, amount={"type": "integer"}, reason={"type": "string"},
        note={"type": ["string", "null"]}, receipt_id={"type": ["string", "null"]}, store_id={"type": ["integer", "null"]},
        actor_kind={"type": ["string", "null"]}, staff_id={"type": ["integer", "null"]}, expires_at=TIME_OR_NULL, created_at=TIME,
        identified_by={"type": ["string", "null"], "enum": ["qr", "number", "phone", "confirmed", "claim_code", "system", None],
                       "description": "How the member was identified: card QR, typed member number (earning only), the member's confirmation "
                                      "in LINE, a receipt claim code sent in chat, or the system; null on entries from before it was recorded"},
    ),
    "Coupon": _obj(
        code={"type": ["string", "null"], "description": "null in a member summary for a member identified by a typed member number "
                                                          "(a code redeems its coupon; a typed number cannot spend)"}, name={"type": "string"}, kind={"type": "string", "enum": ["amount_off", "percent_off", "free_item"]}, value={"type": "string"},
        description={"type": "string"}, min_spend={"type": "string"}, status={"type": "string", "enum": ["issued", "redeemed", "expired", "voided"]}, source={"type": "string"},
        issued_at=TIME, valid_from=TIME, expires_at=TIME, redeemed_at=TIME_OR_NULL, stores={"type": ["array", "null"], "items": {"type": "string"}},
    ),
    "CouponLookup": _obj(
        coupon={"allOf": [ref("Coupon")], "description": "The coupon, with item_name (free_item) and redeemed_amount (the spend entered at redemption)"},
        member={"type": ["object", "null"], "properties": {"member_no": {"type": ["string", "null"]}, "name": {"type": ["string", "null"]}}},
        usable={"type": "boolean"}, problem={"type": ["string", "null"]}, needs_amount={"type": "boolean", "description": "A minimum spend applies: send amount to redeem"},
        can_void={"type": "boolean"}, redeemed_here={"type": "boolean", "description": "It is redeemed, at this store"},
    ),
    "CouponRef": _obj(doc="The coupon QR's token, or its code typed by hand", token={"type": "string"}, code={"type": "string"}, amount=AMOUNT),
    "VoidRequest": _obj(["reason"], token={"type": "string"}, code={"type": "string"}, reason={"type": "string"}),
}

SETTINGS_SCHEMAS: dict[str, Any] = {
    "Store": _obj(["code", "name"], code={"type": "string", "maxLength": 32}, name={"type": "string", "maxLength": 120}),
    "StoreUpdate": _obj(
        doc="Only the fields sent change; null (or an empty text) clears an optional one",
        name={"type": "string", "minLength": 1, "maxLength": 120},
        address={"type": ["string", "null"], "maxLength": 100, "description": "Shown in chat and sent in its LINE location message"},
        hours={"type": ["string", "null"], "maxLength": 200, "examples": ["每日 07:30–20:00"]},
        phone={"type": ["string", "null"], "pattern": r"^\+?[0-9][0-9 ()#-]{5,19}$", "description": "Its 撥打電話 button dials it"},
        latitude={"type": ["number", "null"], "minimum": -90, "maximum": 90, "description": "With longitude: 門市據點 sends a LINE location message"},
        longitude={"type": ["number", "null"], "minimum": -180, "maximum": 180},
        map_url={"type": ["string", "null"], "format": "uri", "maxLength": 500,
                 "description": "http(s); without it the map button searches Google Maps for the coordinates or the address"}),
    "StoreInfo": _obj(["code", "name"], code={"type": "string"}, name={"type": "string"}, created_at={"type": "string", "format": "date-time"},
                      address={"type": ["string", "null"]}, hours={"type": ["string", "null"]}, phone={"type": ["string", "null"]},
                      latitude={"type": ["number", "null"]}, longitude={"type": ["number", "null"]}, map_url={"type": ["string", "null"]}),
    "StaffRequest": _obj(["username", "password"], username={"type": "string", "maxLength": 64}, password={"type": "string", "minLength": 8},
                         name={"type": "string"}, role={"type": "string", "enum": ["cashier", "manager"], "default": "cashier"}),
    "ApiKeyRequest": _obj(label={"type": "string", "default": "POS"}),
    "EarningRule": _obj(
        doc=(f"PUT changes only the fields sent; a value out of range answers 422 invalid_rule naming it in details.field. "
             f"One receipt earns at most {MAX_STAMPS_PER_AWARD} stamps whatever the rule gives (the award says capped: true)."),
        stamps_per_visit=bounded_int(0, MAX_STAMPS_PER_VISIT, "Stamps a visit earns"),
        amount_per_stamp=bounded_amount(0, MAX_RATE, "NT$ per stamp; null or 0: no stamps for spending", nullable=True),
        amount_per_point=bounded_amount(0, MAX_RATE, "NT$ per point; null or 0: no points", nullable=True),
        min_spend=bounded_amount(0, MAX_AMOUNT, "NT$ below which a purchase earns nothing"),
        daily_cap_stamps=bounded_int(0, MAX_DAILY_CAP_STAMPS, "Stamps per member per Taipei day", nullable=True),
        daily_cap_points=bounded_int(0, MAX_DAILY_CAP_POINTS, "Points per member per Taipei day", nullable=True),
        card_size=bounded_int(1, MAX_CARD_SIZE, "Stamps that fill a card"), reward_kind={"type": "string", "enum": ["free_item", "coupon"]},
        reward_name={"type": "string", "minLength": 1, "maxLength": 120},
        stamp_expiry_days=bounded_int(0, MAX_DAYS, "Days stamps last; 0 or null: no expiry", nullable=True),
        point_expiry_days=bounded_int(0, MAX_DAYS, "Days points last; 0 or null: no expiry", nullable=True),
        repeat_visit_minutes=bounded_int(1, 1440, "The same member awarded again at the counter within this many minutes is a repeat "
                                                  "visit; null: no rule", nullable=True),
        repeat_visit_policy={"type": "string", "enum": ["warn", "refuse"], "description": "warn: the award stands and says repeat_visit "
                             "(minutes since the last one); refuse: 409 repeat_visit"},
        bonuses={"type": ["array", "null"], "items": ref("EarningBonus"), "maxItems": 50, "description": (
            "Per product or category, on the receipt's line items: [{\"sku\": \"LATTE\", \"points\": 1}, {\"category\": \"新品\", "
            "\"multiplier\": 2}]; null or []: none. PUT replaces the whole list; a bad one is 422 invalid_rule (details: field bonuses, index, key)")},
    ),
    "Tier": _obj(
        doc="A value out of range answers 422 invalid_tier naming it in details.field.",
        code={"type": "string", "maxLength": 32}, name={"type": "string", "maxLength": 60},
        rank={**bounded_int(0, MAX_TIER_RANK, "Order of the tiers"), "description": f"0 is the entry tier; at most {MAX_TIER_RANK}"},
        metric={"type": "string", "enum": ["spend", "points", "visits"]},
        threshold=bounded_amount(0, MAX_TIER_THRESHOLD, "NT$, points or visits in the window that qualify"),
        window_days=bounded_int(1, MAX_DAYS, "Days the threshold looks back"), period_days=bounded_int(1, MAX_DAYS, "Days a tier lasts once reached"),
        reminder_days=bounded_int(0, MAX_TIER_REMINDER_DAYS, "Days before the period ends to remind"),
        earn_multiplier=bounded_amount("0.1", 10, "Points multiplier"),
        benefits={"type": "array", "maxItems": MAX_TIER_BENEFITS, "items": {"type": "string", "maxLength": MAX_BENEFIT_LENGTH}},
        color={"type": "string", "pattern": "^#[0-9A-Fa-f]{6}$", "description": "#RRGGBB (either case); anything else is 422 invalid_tier (details.field: color). A colour saved before this rule that is not #RRGGBB is shown (and listed) as #6F4E37"}, image_url={"type": ["string", "null"], "maxLength": 1000},
        birthday_template_id={"type": ["integer", "null"]}, upgrade_template_id={"type": ["integer", "null"]},
        richmenu_id={"type": ["string", "null"], "maxLength": 80},
    ),
    "CouponTemplate": _obj(
        ["name", "kind"], doc="A value out of range answers 422 invalid_template naming it in details.field.",
        name={"type": "string", "maxLength": 120}, kind={"type": "string", "enum": ["amount_off", "percent_off", "free_item"]},
        value={**bounded_amount(0, MAX_AMOUNT, "Value"), "description": (
            f"NT$ off for amount_off (up to {MAX_AMOUNT:,}); the percentage off for percent_off, above 0 and below 100 "
            "(15 = 15% off, shown as 85 折)")},
        item_name={"type": "string", "maxLength": 120}, min_spend=bounded_amount(0, MAX_AMOUNT, "NT$ the purchase must reach"),
        valid_from=TIME, valid_until=TIME,
        valid_days=bounded_int(1, MAX_DAYS, "Days a coupon lasts after issue"),
        per_member_limit=bounded_int(1, MAX_PER_MEMBER_LIMIT, "Coupons of this template one member may hold"),
        total_stock=bounded_int(0, MAX_TOTAL_STOCK, "Coupons of this template in all"),
        store_codes={"type": "array", "maxItems": MAX_STORE_CODES, "items": {"type": "string"}},
        trigger={"type": "string", "enum": ["welcome", "birthday", "stamp_card", "tier_upgrade", "campaign", "manual"]},
    ),
    "IssueRequest": _obj(["member_no"], member_no={"type": "string"}, occasion={
        "type": "string", "maxLength": 64, "description": "Idempotency key: the same occasion issues once (default: a fresh one each call)"}),
    "IssuedCoupon": _obj(["coupon", "created"], coupon=ref("Coupon"), created={"type": "boolean", "description": "false: this occasion was already issued"}),
    "CouponVoidRequest": _obj(reason={"type": "string"}),
    "RewardItem": _obj(["name", "points_cost"], name={"type": "string", "maxLength": 120},
                       points_cost={"type": "integer", "minimum": 1, "maximum": MAX_POINTS_COST}),
    "TokenRequest": _obj(["name", "scopes"], name={"type": "string", "minLength": 1, "maxLength": 120},
                         scopes={"type": "array", "minItems": 1, "uniqueItems": True, "items": {"type": "string", "enum": list(SCOPES)}},
                         expires_in_days={"type": ["integer", "null"], "minimum": 1, "maximum": 3650,
                                          "description": "Refused after this many days (default: until revoked)"}),
    "TokenInfo": _obj(["id", "name", "scopes", "active"], id={"type": "integer", "description": "What DELETE /tokens/{id} takes"},
                      name={"type": "string"}, key_id={"type": "string", "description": "The public part: the token is adm_<key_id>_<secret>"},
                      scopes={"type": "array", "items": {"type": "string", "enum": list(SCOPES)}},
                      kind={"type": "string", "enum": ["api", "console"], "description": "console: a console sign-in's session"},
                      created_at=TIME, expires_at=TIME_OR_NULL, revoked_at=TIME_OR_NULL,
                      active={"type": "boolean", "description": "Neither revoked nor expired, by the server's clock"},
                      created_by_id={"type": ["integer", "null"], "description": "The console account that minted it: its tokens are revoked "
                                     "when it is disabled or its password changes"}),
    "TokenList": _obj(["tokens"], tokens={"type": "array", "items": ref("TokenInfo")}),
    "TokenCreated": {"allOf": [ref("TokenInfo"), _obj(["token"], token={"type": "string", "pattern": "^adm_",
                     "description": "adm_<key_id>_<secret>: shown once, only its hash is stored"}, note={"type": "string"})]},
    "StaffAccount": _obj(id={"type": "integer"}, username={"type": "string"}, name={"type": "string"},
                         role={"type": "string", "enum": ["cashier", "manager"]}, active={"type": "boolean"}),
    "AuditLog": _obj(["entries"], doc="The 100 newest entries, newest first", entries={"type": "array", "items": _obj(
        actor={"type": "string", "description": "root, or token:<id>:<name>"}, action={"type": "string", "examples": ["POST /api/v1/admin/campaigns"]},
        details=_obj(doc="The path arguments and JSON body (password, token, secret and api_key redacted)", args={"type": "object"},
                     body={"type": ["object", "null"]}),
        at=TIME)}),
}

MEMBER_ROW = _obj(member_no={"type": "string"}, name={"type": ["string", "null"]}, phone={"type": ["string", "null"]},
                  gender={"type": ["string", "null"], "examples": ["female"]}, joined_at=TIME_OR_NULL, reachable={"type": "boolean"},
                  in_line={"type": "boolean", "description": "false: a pre-member (made at the counter or imported) who has not joined in LINE yet"})
RFM_NES = {
    "rfm": {**COUNTS, "description": "Members per RFM class (classes with nobody are left out)", "examples": [{"重要價值": 12, "一般挽留": 40}]},
    "nes": {**COUNTS, "description": "Members per NES stage, every stage present", "examples": [{"N": 5, "E0": 30, "S1": 8, "S2": 3, "S3": 20}]},
}

MEMBER_SCHEMAS: dict[str, Any] = {
    "MemberRow": MEMBER_ROW,
    "MemberListRow": {"allOf": [ref("MemberRow"), _obj(
        ["points", "stamps", "tier", "last_visit_at"], points={"type": "integer"}, stamps={"type": "integer"},
        tier={"type": ["string", "null"], "description": "The tier's name (the entry tier for a member not moved yet); null with no tiers"},
        tier_code={"type": ["string", "null"]}, last_visit_at={**TIME_OR_NULL, "description": "The newest purchase counted as a visit"})]},
    "MemberPage": _obj(["total", "page", "per_page", "members"], total={"type": "integer"}, page={"type": "integer"}, per_page={"type": "integer"},
                       members={"type": "array", "items": ref("MemberListRow")}),
    "MemberDetail": _obj(
        profile={"allOf": [ref("MemberRow"), _obj(birthday_on={"type": ["string", "null"], "format": "date"}, terms_version={"type": ["string", "null"]},
                                                  tier_until=TIME_OR_NULL, erased_at={**TIME_OR_NULL, "description": "set once the member's data was erased"})]},
        summary=ref("MemberSummary"), ledger={"type": "array", "description": "The last 50 entries", "items": {"allOf": [ref("LedgerEntry"), _obj(
            store_name={"type": ["string", "null"], "description": "The store the entry was made at"},
            purchase_amount={**MONEY, "type": ["string", "null"], "description": "An award's purchase amount (NT$); null for other entries"})]}},
        coupons={"type": "array", "items": ref("Coupon")}, tags={"type": "array", "items": {"type": "string"}},
        segments={"description": "null until stats were computed for this member (needs a purchase and a recompute)", "oneOf": [{"type": "null"}, _obj(
            rfm=_obj(r={"type": ["integer", "null"]}, f={"type": ["integer", "null"]}, m={"type": ["integer", "null"]}, **{"class": {"type": ["string", "null"]}}),
            nes={"type": ["string", "null"]}, visits={"type": "integer"}, spend=MONEY, last_visit_at=TIME, computed_at=TIME)]},
        messages={"type": "array", "description": "The last 50 messages queued for the member", "items": _obj(
            purpose={"type": "string"}, status={"type": "string", "enum": ["pending", "sent", "failed", "skipped"]}, created_at=TIME, sent_at=TIME_OR_NULL)},
    ),
    "TagRequest": _obj(["tag"], tag={"type": "string", "minLength": 1, "maxLength": 60}),
    "MemberTags": _obj(["tags"], tags={"type": "array", "items": {"type": "string"}}),
    "Tag": _obj(["name", "kind"], name={"type": "string"}, kind={"type": "string", "enum": ["manual", "rule"]},
                rule={**ref("TargetRule"), "description": "rule tags only (null for manual tags): members are tagged while they match"}),
    "TagList": _list_of("tags", "Tag"),
    "RuleTagRequest": _obj(["name", "rule"], name={"type": "string", "minLength": 1, "maxLength": 60}, rule=ref("SegmentRule")),
    "PreviewRequest": _obj(rule=ref("TargetRule")),
    "SegmentPreview": _obj(["count", "sample"], count={"type": "integer", "description": "Joined members matching"},
                           sample={"type": "array", "maxItems": 10, "items": ref("MemberRow"), "description": "The first 10 by member id"}),
    "SegmentRequest": _obj(["name"], name={"type": "string", "minLength": 1, "maxLength": 120}, rule=ref("TargetRule")),
    "Segment": _obj(["id", "name", "rule"], id={"type": "integer"}, name={"type": "string"}, rule={"type": "object", "description": "A SegmentRule, or {} for everyone"}),
    "SegmentCreated": {"allOf": [ref("Segment"), _obj(["count"], count={"type": "integer", "description": "Members matching now"})]},
    "SegmentList": _list_of("segments", "Segment"),
    "SegmentOverview": _obj(["rfm", "nes", "computed_at"], **RFM_NES, computed_at={**TIME_OR_NULL, "description": "The last recompute (null: never)"}),
    "Recompute": _obj(["members_scored", "rule_tags", "rfm", "nes", "computed_at"], members_scored={"type": "integer"}, computed_at=TIME,
                      rule_tags={**COUNTS, "description": "Members per rule tag after the refresh"}, **RFM_NES),
}

SCHEMAS: dict[str, Any] = {**CASHIER_SCHEMAS, **SETTINGS_SCHEMAS, **MEMBER_SCHEMAS}  # campaigns, journeys, referrals: marketing.py

RESPONSES: dict[str, Any] = {
    code: {"description": text, "content": _error_content(text)}
    for code, text in {
        "400": "Bad member card QR (token_expired, token_invalid)",
        "401": "Missing or wrong credentials (unauthorized, session_expired)",
        "403": "Not allowed for this role (manager_only)",
        "MissingScope": "The admin token lacks this route's scope (missing_scope; details.scope names it)",
        "404": "Unknown member, store, reward, … (member_not_found, …)",
        "409": "Conflict (receipt_already_awarded, insufficient_balance, grant_used, …)",
        "422": "Invalid body or field (invalid_json, unknown_field, invalid_amount, invalid_receipt_id, …)",
    }.items()
}

ADMIN_SCHEME = (
    "An admin bearer token. Every admin route needs one scope:\n\n"
    "* `members:read`: read members, tags, segments, exports, campaigns, journeys and their reports\n"
    "* `campaigns:manage`: tag members, save segments and rule tags, recompute, compose/send/cancel campaigns, edit journeys, "
    "issue and withdraw coupons\n"
    "* `settings:manage`: stores, staff, POS keys, earning rules, rewards, tiers, coupon templates, the referral programme, "
    "console accounts (the owner role), admin tokens and the audit log\n"
    "* `members:adjust`: correct a member's stamps or points with a reason (a compensating ledger entry)\n\n"
    "The root `ADMIN_TOKEN` (environment) has every scope. Tokens `adm_<id>_<secret>` with chosen scopes come from "
    "`POST /api/v1/admin/tokens`; the admin console's sign-in (`POST /api/v1/admin/auth/login`) issues one that expires, "
    "with the scopes of the account's role (analyst, marketer, manager, owner). A token without the route's scope gets 403 `missing_scope`. "
    "Every change (any method but GET) is written to the audit log."
)
SECURITY_SCHEMES = {
    "staffOrPos": {"type": "http", "scheme": "bearer", "description": "A staff token from /api/v1/auth/login, or a store's POS key pos_…"},
    "admin": {"type": "http", "scheme": "bearer", "description": ADMIN_SCHEME},
}
