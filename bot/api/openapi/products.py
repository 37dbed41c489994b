"""The product catalogue and receipt line items in the OpenAPI document (bot/api/admin/products.py, the
items of awards and claim codes, the earning rule's bonuses); bot/api/openapi/document.py merges these."""
from __future__ import annotations

from typing import Any

from bot.api.openapi.schemas import CAMPAIGNS, READ, TIME, _obj, op, path_param, ref
from models.bonus import MAX_BONUS_POINTS, MAX_MULTIPLIER
from models.items import MAX_QTY
from models.limits import MAX_PURCHASE, MAX_STAMPS_PER_VISIT
from models.product import MAX_CATEGORY, MAX_NAME, MAX_ROWS, MAX_SKU

MONEY_IN = {"description": "NT$ as an integer or a decimal string (no floats with decimals)",
            "oneOf": [{"type": "integer", "minimum": 0, "maximum": int(MAX_PURCHASE)}, {"type": "string", "pattern": r"^\d+(\.\d{1,2})?$"}]}
SKU = {"type": "string", "minLength": 1, "maxLength": MAX_SKU}

PRODUCT_SCHEMAS: dict[str, Any] = {
    "ReceiptItem": {**_obj(["sku", "qty", "unit_price"], "One receipt line as the POS sends it",
                           sku={**SKU, "description": "Matched to the catalogue's product; an unknown SKU is kept and listed for mapping"},
                           name={"type": "string", "maxLength": MAX_NAME, "description": "The name the POS prints"},
                           qty={"type": "integer", "minimum": 1, "maximum": MAX_QTY}, unit_price=MONEY_IN),
                    "additionalProperties": False},
    "EarningBonus": {**_obj(doc=(
        "sku or category (the product's), and one of: points or stamps (that many more per unit bought), or multiplier (the points the "
        "matching lines' totals earn are multiplied: 2 doubles them). Written to the ledger as its own entry, reason bonus; counts under "
        "the daily caps."),
        sku=SKU, category={"type": "string", "minLength": 1, "maxLength": MAX_CATEGORY},
        points={"type": "integer", "minimum": 1, "maximum": MAX_BONUS_POINTS},
        stamps={"type": "integer", "minimum": 1, "maximum": MAX_STAMPS_PER_VISIT},
        multiplier={"type": ["number", "string"], "minimum": 1.01, "maximum": float(MAX_MULTIPLIER), "description": "e.g. 2 or \"1.5\""}),
        "additionalProperties": False},
    "ProductInput": {**_obj(["sku", "name"], "A product; on an existing SKU only the fields sent change",
                            sku=SKU, name={"type": "string", "minLength": 1, "maxLength": MAX_NAME},
                            category={"type": ["string", "null"], "maxLength": MAX_CATEGORY},
                            price={**MONEY_IN, "oneOf": [*MONEY_IN["oneOf"], {"type": "null"}]}, active={"type": "boolean"}),
                     "additionalProperties": False},
    "ProductChange": {**_obj(["name"], "The path names the SKU; a body's sku must be the same",
                             sku=SKU, name={"type": "string", "minLength": 1, "maxLength": MAX_NAME},
                             category={"type": ["string", "null"], "maxLength": MAX_CATEGORY},
                             price={**MONEY_IN, "oneOf": [*MONEY_IN["oneOf"], {"type": "null"}]}, active={"type": "boolean"}),
                      "additionalProperties": False},
    "ProductUpsert": {"oneOf": [{"type": "array", "maxItems": MAX_ROWS, "items": ref("ProductInput")},
                                _obj(["products"], products={"type": "array", "maxItems": MAX_ROWS, "items": ref("ProductInput")})]},
    "Product": _obj(sku={"type": "string"}, name={"type": "string"}, category={"type": ["string", "null"]},
                    price={"type": ["string", "null"], "description": "NT$ list price"}, active={"type": "boolean"},
                    created_at=TIME, updated_at=TIME, created={"type": "boolean", "description": "PUT /products/{sku}: made now"},
                    items_linked={"type": "integer", "description": "PUT /products/{sku}: past receipt lines linked to it now"}),
    "UnknownSku": _obj(sku={"type": "string"}, lines={"type": "integer", "description": "Receipt lines with it"},
                       units={"type": "integer", "description": "Their quantities summed"},
                       last_name={"type": ["string", "null"], "description": "The name the POS sent last"}, last_seen_at=TIME),
    "ProductCatalogue": _obj(["products", "unknown_skus"], products={"type": "array", "items": ref("Product")},
                             unknown_skus={"type": "array", "items": ref("UnknownSku"), "description": (
                                 "SKUs on stored receipt lines that no product has, the most seen first (at most 500): create "
                                 "the product to map one")}),
    "TillProducts": _obj(["products"], products={"type": "array", "items": _obj(
        sku={"type": "string"}, name={"type": "string"}, category={"type": ["string", "null"]}, price={"type": ["string", "null"]})}),
    "ProductsUpserted": _obj(created={"type": "array", "items": {"type": "string"}}, updated={"type": "array", "items": {"type": "string"}},
                             items_linked={"type": "integer", "description": "Past receipt lines with these SKUs now linked to their product"}),
}

INVALID = "invalid_product (details: row, 0-based in the list, field, sku); invalid_json"
SKU_PARAM = path_param("sku", description="The product's SKU")

PRODUCT_PATHS: dict[str, Any] = {
    "/api/v1/products": {"get": op("The active products, for the till's item list (sku, name, category, price)", ok="TillProducts")},
    "/api/v1/admin/products": {
        "get": op("The product catalogue, and the unknown SKUs receipts carried", auth="admin", scope=READ, ok="ProductCatalogue",
                  params=[{"name": "active", "in": "query", "required": False, "schema": {"type": "string", "enum": ["true"]},
                           "description": "true: active products only"}]),
        "put": op("Create or change products by SKU (bulk; all or nothing)", auth="admin", scope=CAMPAIGNS, body="ProductUpsert",
                  ok="ProductsUpserted", errors={"422": INVALID}, description=(
                      "A new product maps its SKU: receipt lines already stored under it link to it (and take its category). "
                      "Also from a CSV: flask --app bot loyalty import-products FILE (columns sku,name,category,price).")),
    },
    "/api/v1/admin/products/{sku}": {
        "get": op("One product", auth="admin", scope=READ, ok="Product", params=[SKU_PARAM], errors={"404": "product_not_found"}),
        "put": op("Create or change one product (creating it maps an unknown SKU)", auth="admin", scope=CAMPAIGNS, body="ProductChange",
                  ok="Product", params=[SKU_PARAM], also={"201": ("Created", "Product")}, errors={"422": INVALID}),
    },
}
