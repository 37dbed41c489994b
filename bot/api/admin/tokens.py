"""Admin tokens (owners only): mint one (shown once, optionally expiring), list them, revoke one.
Console sessions are tokens too: listed with ?sessions=1, revoked like any other."""
from __future__ import annotations

from flask import Blueprint, g, request

from bot.api.util import json_body
from bot.api.auth import _bearer, require_scope
from bot.services import services
from models import admin

bp = Blueprint("tokens_api", __name__, url_prefix="/api/v1/admin/tokens")
SETTINGS = "settings:manage"


@bp.post("")
@require_scope(SETTINGS)
def create():  # type: ignore[no-untyped-def]
    """A token made through a console user's session is theirs: revoked when they are disabled or change their password."""
    body, now = json_body(), services().now()
    token, plain = admin.create_token(g.db, name=body.get("name") or "", scopes=body.get("scopes"), now=now,  # type: ignore[arg-type]
                                      expires_in_days=body.get("expires_in_days"), created_by=admin.find_token(g.db, _bearer()))
    g.db.commit()
    return {**admin.token_json(token, now), "token": plain, "note": "Shown once."}, 201


@bp.get("")
@require_scope(SETTINGS)
def list_all():  # type: ignore[no-untyped-def]
    now = services().now()
    tokens = admin.list_tokens(g.db, include_sessions=request.args.get("sessions") in ("1", "true"))
    return {"tokens": [admin.token_json(t, now) for t in tokens]}


@bp.delete("/<int:token_id>")
@require_scope(SETTINGS)
def revoke(token_id: int):  # type: ignore[no-untyped-def]
    now = services().now()
    token = admin.revoke_token(g.db, token_id, now=now)
    g.db.commit()
    return admin.token_json(token, now)
