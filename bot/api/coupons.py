"""Coupons and tiers over JSON: the counter checks and redeems coupons; admins define tiers,
coupon templates, and issue or withdraw coupons by hand."""
from __future__ import annotations

import uuid

from flask import Blueprint, g, request

from bot.api.util import decimal_str, json_body, parse_amount, parse_str
from bot.api.auth import current_actor, require_actor, require_admin, require_scope
from bot.jobs.outbox import enqueue_messages, enqueue_redemption_push, send_after_response
from bot.services import services
from handlers.messages import text
from models import admin
from models.coupon import (
    CouponTemplate, check_redeemable, coupon_json, create_template, describe_value, get_by_code, issue, look_up,
    read_coupon_token, redeem, revoke, void_redemption,
)
from models.errors import InvalidInput, NotFound
from models.member import Member, get_by_member_no
from models.store import Staff, Store
from models.tier import all_tiers, apply_tier_fields, create_tier, get_tier, tier_json

bp = Blueprint("coupon_api", __name__, url_prefix="/api/v1")


def coupon_from(body: dict) -> str:  # type: ignore[type-arg]
    """A coupon code from its QR token (signed) or, for manual entry, from the code itself."""
    return coupon_identified(body)[0]


def coupon_identified(body: dict) -> tuple[str, str]:  # type: ignore[type-arg]
    """The coupon's code, and how it was identified (coupon_qr or coupon_code, for its event)."""
    token, code = body.get("token"), body.get("code")
    if isinstance(token, str) and token.strip():
        return read_coupon_token(services().settings.secret_key, token), "coupon_qr"
    if isinstance(code, str) and code.strip():
        return code.strip().upper(), "coupon_code"
    raise InvalidInput("Send the coupon's QR token or its code", code="coupon_required")


def _with_template(coupon):  # type: ignore[no-untyped-def]
    return coupon_json(coupon, g.db.get(CouponTemplate, coupon.template_id))


@bp.post("/coupons/check")
@require_actor
def check():  # type: ignore[no-untyped-def]
    body, actor = json_body(), current_actor()
    coupon = get_by_code(g.db, coupon_from(body))
    store = g.db.get(Store, actor.store_id)
    check_redeemable(g.db, coupon, store=store, amount=parse_amount(body.get("amount")), now=services().now())
    return {"coupon": _with_template(coupon), "usable": True}


@bp.post("/coupons/lookup")
@require_actor
def lookup():  # type: ignore[no-untyped-def]
    """Everything the cashier page shows of a scanned or typed coupon, whatever its state."""
    actor = current_actor()
    found = look_up(g.db, code=coupon_from(json_body()), store=g.db.get(Store, actor.store_id), now=services().now())
    coupon, member = found.coupon, g.db.get(Member, found.coupon.member_id)
    return {
        "coupon": {**coupon_json(coupon, found.template), "item_name": found.template.item_name,
                   "redeemed_amount": decimal_str(coupon.redeemed_amount)},
        "member": {"member_no": member.member_no, "name": member.display_name} if member else None,
        "usable": found.problem is None, "problem": found.problem,
        "needs_amount": found.template.min_spend > 0, "can_void": found.can_void,
        "redeemed_here": coupon.status == "redeemed" and coupon.redeemed_store_id == actor.store_id,
    }


@bp.post("/coupons/redeem")
@require_actor
def redeem_coupon():  # type: ignore[no-untyped-def]
    body = json_body()
    code, method = coupon_identified(body)
    actor = current_actor().identifying(method)
    coupon = redeem(g.db, code=code, amount=parse_amount(body.get("amount")), actor=actor, now=services().now())
    template = g.db.get(CouponTemplate, coupon.template_id)
    member = g.db.get(Member, coupon.member_id)
    pushed = enqueue_redemption_push(g.db, member, actor.store_id, coupon=(template.name, describe_value(template))) if member else None
    payload = {"coupon": _with_template(coupon)}
    g.db.commit()
    if pushed:
        send_after_response([pushed])
    return payload


@bp.post("/coupons/void-redemption")
@require_actor
def void():  # type: ignore[no-untyped-def]
    """Once per coupon (409 coupon_void_limit after that); written to the admin audit log with the change."""
    body, actor, now = json_body(), current_actor(), services().now()
    reason = parse_str(body, "reason") or ""
    coupon = void_redemption(g.db, code=coupon_from(body), reason=reason, actor=actor, now=now)
    staff = g.db.get(Staff, actor.staff_id) if actor.staff_id else None
    store = g.db.get(Store, actor.store_id)
    admin.record(g.db, actor=f"staff:{staff.id}:{staff.username}" if staff else f"{actor.kind}:{actor.api_key_id}",
                 action=f"POST {request.path}", details={"coupon": coupon.code, "reason": reason.strip(), "store": store.code if store else None},
                 now=now)
    payload = {"coupon": _with_template(coupon)}
    g.db.commit()
    return payload


# --- admin -----------------------------------------------------------------------------

@bp.get("/admin/tiers")
@require_admin
def tiers():  # type: ignore[no-untyped-def]
    return {"tiers": [tier_json(t) for t in all_tiers(g.db)]}


@bp.post("/admin/tiers")
@require_admin
def add_tier():  # type: ignore[no-untyped-def]
    tier = create_tier(g.db, json_body(), now=services().now())
    g.db.commit()
    return tier_json(tier), 201


@bp.put("/admin/tiers/<code>")
@require_admin
def change_tier(code: str):  # type: ignore[no-untyped-def]
    tier = get_tier(g.db, code)
    apply_tier_fields(tier, json_body())
    g.db.flush()
    g.db.commit()
    return tier_json(tier)


def template_json(t: CouponTemplate) -> dict:  # type: ignore[type-arg]
    return {
        "id": t.id, "name": t.name, "kind": t.kind, "value": format(t.value.normalize(), "f"), "item_name": t.item_name,
        "min_spend": format(t.min_spend.normalize(), "f"), "valid_from": t.valid_from.isoformat() if t.valid_from else None,
        "valid_until": t.valid_until.isoformat() if t.valid_until else None, "valid_days": t.valid_days,
        "per_member_limit": t.per_member_limit, "total_stock": t.total_stock, "issued_count": t.issued_count,
        "store_codes": t.store_codes, "trigger": t.trigger, "active": t.is_active,
    }


@bp.get("/admin/coupon-templates")
@require_admin
def templates():  # type: ignore[no-untyped-def]
    return {"templates": [template_json(t) for t in g.db.query(CouponTemplate).order_by(CouponTemplate.id)]}


@bp.post("/admin/coupon-templates")
@require_admin
def add_template():  # type: ignore[no-untyped-def]
    template = create_template(g.db, json_body(), now=services().now())
    g.db.commit()
    return template_json(template), 201


@bp.post("/admin/coupon-templates/<int:template_id>/issue")
@require_scope("campaigns:manage")
def issue_manual(template_id: int):  # type: ignore[no-untyped-def]
    """Issue to one member by hand; `occasion` (default: a fresh one) makes a retry issue once."""
    body, svc = json_body(), services()
    template = g.db.get(CouponTemplate, template_id)
    if template is None:
        raise NotFound("No such coupon template", code="template_not_found")
    member = get_by_member_no(g.db, parse_str(body, "member_no", max_len=16) or "")
    occasion = parse_str(body, "occasion", required=False, max_len=64) or f"manual:{uuid.uuid4()}"
    result = issue(g.db, template=template, member_id=member.id, source="manual", occasion=occasion, now=svc.now())
    if result.coupon is None:
        raise InvalidInput(f"Not issued: {result.reason}", code=f"coupon_{result.reason}")
    row = enqueue_messages(g.db, member, "coupon", [text(svc.texts("coupon_received", name=template.name))], now=svc.now()) if result.created else None
    payload = {"coupon": coupon_json(result.coupon, template), "created": result.created}
    g.db.commit()
    if row:
        send_after_response([row])
    return payload, (201 if result.created else 200)


@bp.post("/admin/coupons/<code>/void")
@require_scope("campaigns:manage")
def revoke_coupon(code: str):  # type: ignore[no-untyped-def]
    body = json_body()
    coupon = revoke(g.db, code=code.upper(), reason=str(body.get("reason") or ""), now=services().now())
    payload = {"coupon": _with_template(coupon)}
    g.db.commit()
    return payload


