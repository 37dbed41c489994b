"""What members buy in the OpenAPI document (bot/api/admin/affinity.py): a member's categories and
products, and "members who buy X also buy Y". bot/api/openapi/document.py merges these paths and schemas."""
from __future__ import annotations

from typing import Any

from bot.api.openapi.schemas import MONEY, READ, SETTINGS, TIME, TIME_OR_NULL, _obj, op, path_param, query_param

TEXT_OR_NULL = {"type": ["string", "null"]}
COUNT = {"type": "integer", "minimum": 0}
RATIO = {"type": "number"}
BOUGHT = dict(receipts={**COUNT, "description": "Frequency: receipts (awards) with it"}, qty=COUNT, spend=MONEY,
              first_at=TIME, last_at={**TIME, "description": "Recency: the last receipt with it"},
              days_since_last={**COUNT, "description": "Whole days from last_at to now"})
BOUGHT_REQUIRED = ["receipts", "qty", "spend", "first_at", "last_at", "days_since_last"]
PAIR = dict(rank={"type": "integer", "minimum": 1, "description": "1: the strongest for this X"},
            members_both={**COUNT, "description": "Members who bought X and Y in the window"},
            members_x={**COUNT, "description": "Members who bought X"}, members_y={**COUNT, "description": "Members who bought Y"},
            support={**RATIO, "description": "members_both / members who bought anything in the window"},
            confidence={**RATIO, "description": "P(Y | X) = members_both / members_x"},
            lift={**RATIO, "description": "confidence / P(Y): above 1, X's buyers take Y more than members at large"})
PAIR_REQUIRED = ["rank", "members_both", "members_x", "members_y", "support", "confidence", "lift"]

AFFINITY_SCHEMAS: dict[str, Any] = {
    "MemberAffinity": _obj(
        ["member_no", "window_days", "categories", "products"],
        "What one member bought: categories and products, most receipts first (then the most recent); items of voided awards left out",
        member_no={"type": "string"},
        window_days={"type": ["integer", "null"], "description": "The days asked for; null: every purchase on record"},
        categories={"type": "array", "items": _obj(["category", *BOUGHT_REQUIRED], category={"type": "string"}, **BOUGHT)},
        products={"type": "array", "items": _obj(["sku", "name", "category", *BOUGHT_REQUIRED], sku={"type": "string"},
                                                  name={**TEXT_OR_NULL, "description": "The catalogue's name, else the one the POS sent"},
                                                  category={**TEXT_OR_NULL, "description": "null: a SKU the catalogue did not know"},
                                                  **BOUGHT)}),
    "AlsoBought": _obj(
        ["sku", "category", "computed_at", "window_days", "items", "categories"],
        "Members who bought this SKU also bought these SKUs; members who bought in its category also bought in these categories",
        sku={"type": "string"}, category=TEXT_OR_NULL,
        computed_at={**TIME_OR_NULL, "description": "The last rebuild; null: nothing stored for this SKU"},
        window_days={"type": ["integer", "null"]},
        items={"type": "array", "items": _obj(["sku", "name", "category", *PAIR_REQUIRED], sku={"type": "string"}, name=TEXT_OR_NULL,
                                               category=TEXT_OR_NULL, **PAIR)},
        categories={"type": "array", "items": _obj(["category", *PAIR_REQUIRED], category={"type": "string"}, **PAIR)}),
    "AffinityRebuilt": _obj(["kept", "window_days", "computed_at"], kept=_obj(sku=COUNT, category=COUNT), window_days=COUNT, computed_at=TIME),
}

AFFINITY_PATHS: dict[str, Any] = {
    "/api/v1/admin/members/{member_no}/affinity": {"get": op(
        "What one member buys: categories and products with recency and frequency", auth="admin", scope=READ, ok="MemberAffinity",
        params=[path_param("member_no", description="The member number"),
                query_param("days", {"type": "integer", "minimum": 1, "maximum": 3650}, "Only the last N days (default: everything)"),
                query_param("limit", {"type": "integer", "minimum": 1, "maximum": 200}, "Rows per list (default 50)")],
        errors={"404": "No such member (member_not_found)", "422": "invalid_query (details.field: days or limit)"})},
    "/api/v1/admin/products/{sku}/also-bought": {"get": op(
        "Members who bought this product also bought …", auth="admin", scope=READ, ok="AlsoBought",
        params=[path_param("sku", description="The SKU"),
                query_param("limit", {"type": "integer", "minimum": 1, "maximum": 100}, "Rows per list (default 20, what is kept)")],
        description=("Item-to-item co-occurrence over members, as of the last rebuild (the daily job, or POST "
                     "/api/v1/admin/affinity/rebuild): a pair counts once per member who bought both in the last "
                     "AFFINITY_WINDOW_DAYS (default 365), voided awards' items left out; pairs fewer than 2 members bought "
                     "together are not kept, and per X the 20 strongest (highest confidence, then lift). `categories` is the same "
                     "for the SKU's category."),
        errors={"422": "invalid_query (details.field: limit)"})},
    "/api/v1/admin/affinity/rebuild": {"post": op(
        "Recompute \"members who buy X also buy Y\" now", auth="admin", scope=SETTINGS, ok="AffinityRebuilt",
        description="Replaces every stored pair in one transaction (the daily job does this too); `kept`: rows per level.")},
}
