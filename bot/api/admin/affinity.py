"""What members buy, for the console (members:read):

    GET  /api/v1/admin/members/<no>/affinity         the member's categories and products (recency, frequency)
    GET  /api/v1/admin/products/<sku>/also-bought    members who bought this SKU (and its category) also bought …
    POST /api/v1/admin/affinity/rebuild              recompute "also bought" now (settings:manage; the daily job does it)
"""
from __future__ import annotations

from flask import Blueprint, g, request
from sqlalchemy import func, select

from bot.api.auth import require_scope
from bot.services import services
from models.affinity import TOP_N, also_bought, category_of, member_affinity, rebuild_affinity
from models.errors import InvalidInput
from models.member import get_by_member_no
from models.product import AwardItem, Product

bp = Blueprint("affinity_api", __name__, url_prefix="/api/v1/admin")
READ, SETTINGS = "members:read", "settings:manage"
MAX_DAYS = 3650


def _whole(name: str, default: int | None, low: int, high: int) -> int | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise InvalidInput(f"{name} is a whole number from {low} to {high}", code="invalid_query", details={"field": name})
    return int(raw)


@bp.get("/members/<member_no>/affinity")
@require_scope(READ)
def member_affinity_route(member_no: str):  # type: ignore[no-untyped-def]
    """Every purchase on record, or the last ``days``; voided awards' items left out."""
    member = get_by_member_no(g.db, member_no)
    days = _whole("days", None, 1, MAX_DAYS)
    limit = _whole("limit", 50, 1, 200)
    return {"member_no": member.member_no, **member_affinity(g.db, member.id, now=services().now(), window_days=days, limit=limit or 50)}


def _names(skus: list[str]) -> dict[str, tuple[str | None, str | None]]:
    """(name, category) per SKU: the catalogue's, else the name the POS sent."""
    if not skus:
        return {}
    known = {s: (n, c) for s, n, c in g.db.execute(select(Product.sku, Product.name, Product.category).where(Product.sku.in_(skus)))}
    pos = dict(g.db.execute(select(AwardItem.sku, func.max(AwardItem.name)).where(AwardItem.sku.in_([s for s in skus if s not in known]))
                            .group_by(AwardItem.sku)).all()) if len(known) < len(skus) else {}
    return {s: known.get(s, (pos.get(s), None)) for s in skus}


@bp.get("/products/<sku>/also-bought")
@require_scope(READ)
def also_bought_route(sku: str):  # type: ignore[no-untyped-def]
    """As of the last rebuild (computed_at); a SKU nobody bought with others has empty lists."""
    limit = _whole("limit", TOP_N, 1, 100) or TOP_N
    rows = also_bought(g.db, sku, limit=limit)
    category = category_of(g.db, sku)
    by_category = also_bought(g.db, category, level="category", limit=limit) if category else []
    names = _names([r.y for r in rows])
    computed = next((r.computed_at for r in [*rows, *by_category]), None)
    return {
        "sku": sku, "category": category,
        "computed_at": computed.isoformat() if computed else None,
        "window_days": next((r.window_days for r in [*rows, *by_category]), None),
        "items": [{"sku": r.y, "name": names[r.y][0], "category": names[r.y][1], "rank": r.rank, **r.json()} for r in rows],
        "categories": [{"category": r.y, "rank": r.rank, **r.json()} for r in by_category],
    }


@bp.post("/affinity/rebuild")
@require_scope(SETTINGS)
def rebuild_route():  # type: ignore[no-untyped-def]
    svc = services()
    now = svc.now()
    kept = rebuild_affinity(g.db, now=now, window_days=svc.settings.affinity_window_days)
    g.db.commit()
    return {"kept": kept, "window_days": svc.settings.affinity_window_days, "computed_at": now.isoformat()}
