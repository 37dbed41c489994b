"""Staff accounts over their life (owners only): disable and enable, a new password, sign out
everywhere. Each ends the account's staff tokens at once (models/store.py token_version)."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, g

from bot.api.util import json_body
from bot.api.auth import require_admin
from models.store import Staff, get_staff, get_store, set_staff_active, set_staff_password, sign_out_staff

bp = Blueprint("staff_api", __name__, url_prefix="/api/v1/admin/stores/<code>/staff/<username>")


def staff_json(staff: Staff) -> dict[str, Any]:
    return {"id": staff.id, "username": staff.username, "name": staff.display_name, "role": staff.role, "active": staff.is_active}


def _change(code: str, username: str, change) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    staff = get_staff(g.db, get_store(g.db, code), username)
    change(staff)
    g.db.commit()
    return staff_json(staff)


@bp.post("/disable")
@require_admin
def disable(code: str, username: str):  # type: ignore[no-untyped-def]
    """Refused from the next request on, on every device; the history stays."""
    return _change(code, username, lambda s: set_staff_active(s, False))


@bp.post("/enable")
@require_admin
def enable(code: str, username: str):  # type: ignore[no-untyped-def]
    return _change(code, username, lambda s: set_staff_active(s, True))


@bp.post("/password")
@require_admin
def password(code: str, username: str):  # type: ignore[no-untyped-def]
    """A new password (the policy of models/passwords.py); signs the account out everywhere."""
    new = json_body().get("password")
    return _change(code, username, lambda s: set_staff_password(s, new))  # type: ignore[arg-type]


@bp.post("/sign-out")
@require_admin
def sign_out(code: str, username: str):  # type: ignore[no-untyped-def]
    """Every staff token of this account stops working (a lost phone, a shared tablet)."""
    return _change(code, username, sign_out_staff)
