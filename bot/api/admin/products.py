"""The product catalogue (/api/v1/admin/products): what receipt line items are matched to.

Reading needs members:read; changing needs campaigns:manage (a marketer maps the SKUs the POS
sends). Creating a product whose SKU receipts already carried links those past lines to it.
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, g, request

from bot.api.util import JSONRefused, decimal_str, json_body
from bot.api.auth import require_actor, require_scope
from bot.api.openapi.schemas import CAMPAIGNS, READ
from bot.services import services
from models.errors import InvalidInput
from models.product import Product, Upserted, get_product, list_products, parse_product, unknown_skus, upsert_products

bp = Blueprint("products_api", __name__, url_prefix="/api/v1/admin")
counter_bp = Blueprint("products_counter", __name__, url_prefix="/api/v1")  # the till picks items from the catalogue


def product_json(p: Product) -> dict[str, Any]:
    return {"sku": p.sku, "name": p.name, "category": p.category, "price": decimal_str(p.price), "active": p.active,
            "created_at": p.created_at.isoformat(), "updated_at": p.updated_at.isoformat()}


def upserted_json(done: Upserted) -> dict[str, Any]:
    return {"created": done.created, "updated": done.updated, "items_linked": done.items_linked}


def _body() -> Any:
    """The request's JSON (a list or an object), read as strictly as every other body (bot/api/util.py)."""
    if not request.is_json:
        raise InvalidInput("Send JSON (Content-Type: application/json)", code="invalid_json")
    try:
        return current_app.json.loads(request.get_data(cache=True))
    except JSONRefused as exc:
        raise InvalidInput(f"Not valid JSON here: {exc}", code="invalid_json", details={"path": exc.path, "reason": exc.reason}) from exc
    except ValueError as exc:
        raise InvalidInput("Send JSON", code="invalid_json") from exc


@bp.get("/products")
@require_scope(READ)
def products():  # type: ignore[no-untyped-def]
    """The catalogue, and the SKUs receipts carried that it does not have (to map)."""
    return {
        "products": [product_json(p) for p in list_products(g.db, active_only=request.args.get("active") == "true")],
        "unknown_skus": [{"sku": u.sku, "lines": u.lines, "units": u.units, "last_name": u.last_name,
                          "last_seen_at": u.last_seen_at.isoformat()} for u in unknown_skus(g.db)],
    }


@counter_bp.get("/products")
@require_actor
def till_products():  # type: ignore[no-untyped-def]
    """The active products, for the cashier page's item list."""
    return {"products": [{"sku": p.sku, "name": p.name, "category": p.category, "price": decimal_str(p.price)}
                         for p in list_products(g.db, active_only=True)]}


@bp.put("/products")
@require_scope(CAMPAIGNS)
def put_products():  # type: ignore[no-untyped-def]
    """Bulk upsert by SKU: a JSON list of products (or {"products": [...]}); all or nothing."""
    body = _body()
    if isinstance(body, dict) and set(body) == {"products"}:
        body = body["products"]
    if not isinstance(body, list):
        raise InvalidInput("Send a list of products [{sku, name, category?, price?, active?}]", code="invalid_json")
    done = upsert_products(g.db, [parse_product(row, i) for i, row in enumerate(body)], now=services().now())
    g.db.commit()
    return upserted_json(done)


@bp.get("/products/<sku>")
@require_scope(READ)
def show_product(sku: str):  # type: ignore[no-untyped-def]
    return product_json(get_product(g.db, sku))


@bp.put("/products/<sku>")
@require_scope(CAMPAIGNS)
def put_product(sku: str):  # type: ignore[no-untyped-def]
    """One product by its SKU (the path's; a body's sku must be the same). Creating one for an
    unknown SKU maps it: receipt lines already stored under it link to the product."""
    body = json_body()  # an object with the documented names (ProductChange) only
    if body.get("sku", sku) != sku:
        raise InvalidInput("The body's sku differs from the path's", code="invalid_product", details={"field": "sku"})
    done = upsert_products(g.db, [parse_product({**body, "sku": sku})], now=services().now())
    product = get_product(g.db, sku.strip())
    g.db.commit()
    return {**product_json(product), "created": bool(done.created), "items_linked": done.items_linked}, (201 if done.created else 200)
