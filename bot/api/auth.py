"""Who is calling the JSON APIs: staff (signed session token), a POS (store API key), or an admin."""
from __future__ import annotations

from functools import wraps
from typing import Callable

from flask import g, request
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from bot.services import services
from models import admin
from models.store import Actor, AuthError, Forbidden, Staff, authenticate_api_key

STAFF_SALT = "staff-session"


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(services().settings.secret_key, salt=STAFF_SALT)


def issue_staff_token(staff: Staff) -> str:
    """Signed and stateless, but carrying the account's token version: a new password, a disable or
    "sign out everywhere" moves the version on, and every older token is refused."""
    return _serializer().dumps({"sid": staff.id, "store": staff.store_id, "role": staff.role, "v": staff.token_version})


def client_address() -> str:
    """The caller's address; behind proxies (TRUSTED_PROXIES) the one they report (werkzeug's ProxyFix, bot/app.py)."""
    return request.remote_addr or "unknown"


def _bearer() -> str:
    header = request.headers.get("Authorization", "")
    if not header.startswith("Bearer ") or not header[7:].strip():
        raise AuthError("Sign in, or send a store API key as 'Authorization: Bearer …'", code="unauthorized")
    return header[7:].strip()


def current_actor() -> Actor:
    """The staff member or POS behind this request; its store comes from the credential, never the body."""
    if "actor" in g:
        return g.actor
    token = _bearer()
    svc = services()
    session = g.db
    if token.startswith("pos_"):
        key = authenticate_api_key(session, token)
        actor = Actor(store_id=key.store_id, kind="api_key", api_key_id=key.id, role="cashier")
    else:
        try:
            data = _serializer().loads(token, max_age=svc.settings.staff_session_hours * 3600)
        except SignatureExpired as exc:
            raise AuthError("Your sign-in has expired; sign in again", code="session_expired") from exc
        except BadSignature as exc:
            raise AuthError("Not a valid sign-in", code="unauthorized") from exc
        staff = session.get(Staff, data.get("sid"))
        if staff is None or not staff.is_active or staff.store_id != data.get("store"):
            raise AuthError("This account is no longer active", code="unauthorized")
        if data.get("v", 0) != staff.token_version:
            raise AuthError("You were signed out; sign in again", code="session_revoked")
        actor = Actor(store_id=staff.store_id, kind="staff", staff_id=staff.id, role=staff.role)
    g.actor = actor
    return actor


def require_actor(fn: Callable):  # type: ignore[no-untyped-def]
    @wraps(fn)
    def wrapper(*args, **kwargs):  # type: ignore[no-untyped-def]
        current_actor()
        return fn(*args, **kwargs)

    return wrapper


def require_manager(fn: Callable):  # type: ignore[no-untyped-def]
    @wraps(fn)
    def wrapper(*args, **kwargs):  # type: ignore[no-untyped-def]
        if not current_actor().is_manager:
            raise Forbidden("Only a manager can do this", code="manager_only")
        return fn(*args, **kwargs)

    return wrapper


def require_scope(scope: str) -> Callable:  # type: ignore[type-arg]
    """Admin API guard: the token must carry ``scope``; a change is written to the audit log
    in the route's own transaction (so it is recorded exactly when the change commits)."""

    def decorate(fn: Callable):  # type: ignore[no-untyped-def,type-arg]
        @wraps(fn)
        def wrapper(*args, **kwargs):  # type: ignore[no-untyped-def]
            who, scopes = admin.authenticate(g.db, _bearer(), root_secret=services().settings.admin_token, now=services().now())
            if scope not in scopes:
                raise Forbidden(f"This token lacks the {scope} scope", code="missing_scope", details={"scope": scope})
            g.admin = who
            if request.method not in ("GET", "HEAD", "OPTIONS"):
                body = request.get_json(silent=True)
                details = {"args": kwargs, "body": body if isinstance(body, dict) else None}
                admin.record(g.db, actor=who, action=f"{request.method} {request.path}", details=details, now=services().now())
            return fn(*args, **kwargs)

        return wrapper

    return decorate


require_admin = require_scope("settings:manage")
