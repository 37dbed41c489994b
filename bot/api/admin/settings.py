"""Admin API (/api/v1/admin): stores, staff, POS keys, earning rules, the rewards catalogue.

Every route needs the settings:manage scope (the root ADMIN_TOKEN, an owner's console sign-in, or
a token made with it); changes are written to the audit log by the scope check.
"""
from __future__ import annotations

from flask import Blueprint, g

from bot.api.util import json_body, parse_int, parse_str
from bot.api.auth import require_admin
from bot.services import services
from models.reward import RewardItem, create_item, list_items, update_item
from models.rule import get_rule, rule_to_dict, update_rule
from models.store import ApiKey, Staff, create_api_key, create_staff, create_store, get_store, list_api_keys, list_stores, revoke_api_key, update_store

bp = Blueprint("admin_api", __name__, url_prefix="/api/v1/admin")


def store_json(store) -> dict:  # type: ignore[no-untyped-def,type-arg]
    """A store with what the chat shows of it (coordinates as numbers, 6 decimals)."""
    coord = lambda v: float(v) if v is not None else None  # noqa: E731
    return {"code": store.code, "name": store.name, "created_at": store.created_at.isoformat(),
            "address": store.address, "hours": store.hours, "phone": store.phone,
            "latitude": coord(store.latitude), "longitude": coord(store.longitude), "map_url": store.map_url}


def key_json(key: ApiKey, store_code: str) -> dict:  # type: ignore[type-arg]
    """A key as it may be shown again: its public id and a hint, never the secret or its hash."""
    return {"key_id": key.key_id, "label": key.label, "store": store_code, "hint": f"pos_{key.key_id}_…",
            "created_at": key.created_at.isoformat(), "revoked_at": key.revoked_at.isoformat() if key.revoked_at else None,
            "active": key.revoked_at is None}


def reward_json(item: RewardItem) -> dict:  # type: ignore[type-arg]
    return {"id": item.id, "name": item.name, "points_cost": item.points_cost, "active": item.is_active}


@bp.get("/stores")
@require_admin
def stores():  # type: ignore[no-untyped-def]
    return {"stores": [store_json(s) for s in list_stores(g.db)]}


@bp.post("/stores")
@require_admin
def add_store():  # type: ignore[no-untyped-def]
    body = json_body()
    store = create_store(g.db, code=parse_str(body, "code", max_len=32) or "", name=parse_str(body, "name", max_len=120) or "", now=services().now())
    g.db.commit()
    return store_json(store), 201


@bp.put("/stores/<code>")
@require_admin
def change_store(code: str):  # type: ignore[no-untyped-def]
    """Name, address, hours, phone, coordinates, map link: the fields sent change."""
    store = update_store(g.db, code, json_body())
    g.db.commit()
    return store_json(store)


@bp.get("/stores/<code>/staff")
@require_admin
def staff_list(code: str):  # type: ignore[no-untyped-def]
    store = get_store(g.db, code)
    rows = g.db.query(Staff).filter(Staff.store_id == store.id).order_by(Staff.username)
    return {"staff": [{"id": s.id, "username": s.username, "name": s.display_name, "role": s.role, "active": s.is_active} for s in rows]}


@bp.post("/stores/<code>/staff")
@require_admin
def add_staff(code: str):  # type: ignore[no-untyped-def]
    body = json_body()
    store = get_store(g.db, code)
    staff = create_staff(
        g.db, store,
        username=parse_str(body, "username", max_len=64) or "",
        password=str(body.get("password", "")),
        role=str(body.get("role", "cashier")),
        display_name=str(body.get("name") or body.get("username") or ""),
        now=services().now(),
    )
    g.db.commit()
    return {"id": staff.id, "username": staff.username, "name": staff.display_name, "role": staff.role, "store": store.code}, 201


@bp.get("/stores/<code>/api-keys")
@require_admin
def api_keys(code: str):  # type: ignore[no-untyped-def]
    store = get_store(g.db, code)
    return {"keys": [key_json(k, store.code) for k in list_api_keys(g.db, store)]}


@bp.post("/stores/<code>/api-keys")
@require_admin
def add_api_key(code: str):  # type: ignore[no-untyped-def]
    body = json_body()
    store = get_store(g.db, code)
    key, plain = create_api_key(g.db, store, label=body.get("label"), now=services().now())
    g.db.commit()
    out = {**key_json(key, store.code), "api_key": plain, "note": "Shown once; store it in the POS."}
    return out, 201, {"Cache-Control": "no-store"}


@bp.post("/stores/<code>/api-keys/<key_id>/revoke")
@require_admin
def revoke_key(code: str, key_id: str):  # type: ignore[no-untyped-def]
    store = get_store(g.db, code)
    key = revoke_api_key(g.db, store, key_id, now=services().now())
    g.db.commit()
    return key_json(key, store.code)


@bp.get("/earning-rule")
@require_admin
def show_rule():  # type: ignore[no-untyped-def]
    rule = get_rule(g.db)
    g.db.commit()
    return rule_to_dict(rule)


@bp.put("/earning-rule")
@require_admin
def change_rule():  # type: ignore[no-untyped-def]
    rule = update_rule(g.db, json_body(), now=services().now())
    g.db.commit()
    return rule_to_dict(rule)


@bp.get("/rewards")
@require_admin
def reward_items():  # type: ignore[no-untyped-def]
    return {"rewards": [reward_json(i) for i in list_items(g.db, active_only=False)]}


@bp.post("/rewards")
@require_admin
def add_reward_item():  # type: ignore[no-untyped-def]
    body = json_body()
    item = create_item(g.db, name=parse_str(body, "name", max_len=120) or "", points_cost=parse_int(body, "points_cost"), now=services().now())
    g.db.commit()
    return reward_json(item), 201


@bp.put("/rewards/<int:reward_id>")
@require_admin
def change_reward_item(reward_id: int):  # type: ignore[no-untyped-def]
    """Rename, reprice, withdraw (active: false) or bring back; the fields sent change."""
    item = update_item(g.db, reward_id, json_body())
    g.db.commit()
    return reward_json(item)
