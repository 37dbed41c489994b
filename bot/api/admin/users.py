"""Console accounts from the console itself (the owner's job): list, create, disable, enable and
set a new password; the same domain calls as `flask --app bot loyalty admin-user` (bot/cli/admin_users.py).

Every route needs settings:manage, which among the console's roles only an owner holds, so an
analyst, marketer or manager gets 403 missing_scope. The scope check writes each change to the
audit log (passwords masked) in the route's transaction."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, g

from bot.api.util import json_body
from bot.api.auth import require_scope
from bot.services import services
from models.admin_user import AdminUser, create_admin_user, get_admin_user, list_admin_users, set_active, set_password, user_json
from models.errors import InvalidInput

bp = Blueprint("admin_users_api", __name__, url_prefix="/api/v1/admin")
SETTINGS = "settings:manage"


def row(user: AdminUser) -> dict[str, Any]:
    return {**user_json(user), "created_at": user.created_at.isoformat(), "failed_logins": user.failed_logins}


def _text(body: dict[str, Any], name: str, *, max_len: int, default: str | None = None) -> str:
    """A text field (``default`` when absent or null); another type, or too long, is refused with the field named."""
    value = body.get(name, default)
    if value is None:
        value = default
    if not isinstance(value, str) or len(value) > max_len:
        raise InvalidInput(f"{name} is text, at most {max_len} characters", code=f"invalid_{name}", details={"field": name})
    return value


@bp.get("/users")
@require_scope(SETTINGS)
def users():  # type: ignore[no-untyped-def]
    return {"users": [row(u) for u in list_admin_users(g.db)]}


@bp.post("/users")
@require_scope(SETTINGS)
def add_user():  # type: ignore[no-untyped-def]
    body = json_body()
    user = create_admin_user(g.db, email=_text(body, "email", max_len=254, default=""), password=_text(body, "password", max_len=200, default=""),
                             role=_text(body, "role", max_len=16, default=""), display_name=_text(body, "name", max_len=120, default=""),
                             now=services().now())
    g.db.commit()
    return row(user), 201


@bp.post("/users/<email>/disable")
@require_scope(SETTINGS)
def disable_user(email: str):  # type: ignore[no-untyped-def]
    """Signs the account out everywhere; the last active owner is refused (409 last_owner)."""
    return _set_active(email, False)


@bp.post("/users/<email>/enable")
@require_scope(SETTINGS)
def enable_user(email: str):  # type: ignore[no-untyped-def]
    return _set_active(email, True)


def _set_active(email: str, active: bool):  # type: ignore[no-untyped-def]
    user = get_admin_user(g.db, email)
    set_active(g.db, user, active, now=services().now())
    g.db.commit()
    return row(user)


@bp.post("/users/<email>/password")
@require_scope(SETTINGS)
def reset_password(email: str):  # type: ignore[no-untyped-def]
    """A new password ends a lock and signs the account out everywhere (its owner included, when it is the caller)."""
    user = get_admin_user(g.db, email)
    set_password(g.db, user, _text(json_body(), "password", max_len=200, default=""), now=services().now())
    g.db.commit()
    return row(user)
