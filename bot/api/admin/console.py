"""What the admin console needs beyond the admin API: signing in with an admin account, the
choices its forms offer (tiers, stores, tags, rule fields…), and a manager's balance adjustment.

A sign-in answers an ordinary ``adm_`` token with the role's scopes (models/admin_user.py), so the
console calls the same admin routes, under the same scope checks and audit log, as any token."""
from __future__ import annotations

from flask import Blueprint, g

from bot.api.util import json_body, parse_int, parse_str
from bot.api.auth import _bearer, client_address, require_scope
from bot.api.corrections import office_person, submitted_answer
from bot.services import services
from models import admin
from models.admin_user import AdminUser, check_credentials, open_session, user_json
from models.coupon import CouponTemplate
from models.errors import InvalidInput
from models.correction import submit_correction
from models.ledger import balances
from models.member import get_by_member_no
from models.rule import get_rule
from models.segment import Segment
from models.segment_rules import FIELDS
from models.store import AuthError, list_stores
from models.tag import list_tags
from models.tier import all_tiers, tier_color

bp = Blueprint("console_api", __name__, url_prefix="/api/v1/admin")
CURRENCIES = {"stamps": "stamp", "points": "point"}


@bp.post("/auth/login")
def login():  # type: ignore[no-untyped-def]
    """Email and password → a bearer token for SESSION_HOURS. Wrong ones: 401; repeated ones from one
    address wait longer each time (429 with retry_after_seconds, models/throttle.py)."""
    body, now = json_body(), services().now()
    user, missed = check_credentials(g.db, email=str(body.get("email", "")), password=str(body.get("password", "")),
                                     address=client_address(), now=now)
    if user is None:
        g.db.commit()  # the failure counts even though the answer is a refusal
        raise AuthError("Wrong email or password", code="invalid_credentials")
    token, plain = open_session(g.db, user, now=now)
    admin.record(g.db, actor=f"token:{token.id}:{token.name}", action="POST /api/v1/admin/auth/login",
                 details={"email": user.email, "ip": client_address(), "failed_attempts": missed}, now=now)
    g.db.commit()
    return {"token": plain, "expires_at": token.expires_at.isoformat() if token.expires_at else None, "user": user_json(user),
            "failed_attempts": missed}


@bp.get("/auth/me")
@require_scope("members:read")
def me():  # type: ignore[no-untyped-def]
    """Who the bearer is: a console user (with role), or a plain token / the root token (user null)."""
    token = admin.find_token(g.db, _bearer())
    user = g.db.get(AdminUser, token.admin_user_id) if token and token.admin_user_id else None
    scopes = list(admin.SCOPES) if token is None else token.scopes
    return {"who": g.admin, "scopes": scopes, "user": user_json(user) if user else None,
            "expires_at": token.expires_at.isoformat() if token and token.expires_at else None}


@bp.post("/auth/logout")
@require_scope("members:read")
def logout():  # type: ignore[no-untyped-def]
    """Ends a console session now; other tokens are left alone (they are revoked elsewhere)."""
    token = admin.find_token(g.db, _bearer())
    revoked = token is not None and token.admin_user_id is not None
    if revoked:
        token.revoked_at = services().now()  # type: ignore[union-attr]
    g.db.commit()
    return {"revoked": revoked}


@bp.get("/lookups")
@require_scope("members:read")
def lookups():  # type: ignore[no-untyped-def]
    """The choices the console's forms offer, with the rule fields straight from the rule compiler."""
    session = g.db
    return {
        "tiers": [{"code": t.code, "name": t.name, "color": tier_color(t)} for t in all_tiers(session)],
        "stores": [{"code": s.code, "name": s.name} for s in list_stores(session)],
        "tags": [t.name for t in list_tags(session)],
        "segments": [{"id": s.id, "name": s.name, "rule": s.rule} for s in session.query(Segment).order_by(Segment.name)],
        "coupon_templates": [{"id": t.id, "name": t.name, "kind": t.kind, "trigger": t.trigger, "active": t.is_active}
                             for t in session.query(CouponTemplate).order_by(CouponTemplate.id)],
        "rule_fields": {name: {"ops": list(f.ops), "kind": f.kind, "choices": list(f.choices), "bounds": list(f.bounds) if f.bounds else None}
                        for name, f in FIELDS.items()},
        "card": {"size": get_rule(session).card_size, "reward": get_rule(session).reward_name},
        "brand": {"name": services().settings.brand_name},  # what members see as the account's name (BRAND_NAME)
    }


@bp.post("/members/<member_no>/adjustments")
@require_scope("members:adjust")
def adjust(member_no: str):  # type: ignore[no-untyped-def]
    """A compensating ledger entry (never an edit) with its reason; the audit log says who made it. Above
    CORRECTION_APPROVAL_* it waits for an owner's approval instead (202 approval_required)."""
    body, now = json_body(), services().now()
    member = get_by_member_no(g.db, member_no)
    currency = CURRENCIES.get(str(body.get("currency")))
    if currency is None:
        raise InvalidInput("currency is stamps or points", code="invalid_currency", details={"field": "currency"})
    me = office_person()
    done = submit_correction(g.db, member=member, currency=currency, amount=parse_int(body, "amount"),
                             note=parse_str(body, "reason", max_len=200) or "", by=me, now=now, rule=get_rule(g.db),
                             approval_over=services().settings.correction_approval_over)
    answer = submitted_answer(done, now, me, balances={k + "s": v for k, v in balances(g.db, member.id).items()})
    g.db.commit()
    return answer
