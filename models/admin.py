"""Admin tokens with scopes, and the audit log of every change made through the admin API.

A console sign-in (models/admin_user.py) is an ordinary token here with an owner and an expiry, so
every admin route, its scope check and the audit log treat the browser console like any other caller."""
from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from models.base import Base, IntPK, Timestamp
from models.errors import InvalidInput, NotFound
from models.store import AuthError

SCOPES = ("members:read", "campaigns:manage", "settings:manage", "members:adjust")
ROOT = "root"  # the bootstrap ADMIN_TOKEN: every scope


class AdminToken(Base):
    __tablename__ = "admin_token"

    id: Mapped[IntPK]
    name: Mapped[str] = mapped_column(String(120))
    token_id: Mapped[str] = mapped_column(String(32), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    scopes: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[Timestamp]
    revoked_at: Mapped[Timestamp | None]
    # a console session: whose, and until when (tokens made with POST /tokens have neither)
    admin_user_id: Mapped[int | None] = mapped_column(ForeignKey("admin_user.id"), index=True)
    expires_at: Mapped[Timestamp | None]  # console sessions always; other tokens when made with expires_in_days
    # the console user who minted it (through their session or a token of theirs): revoked with them
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("admin_user.id"), index=True)


class AuditLog(Base):
    __tablename__ = "audit_log"

    id: Mapped[IntPK]
    actor: Mapped[str] = mapped_column(String(160))
    action: Mapped[str] = mapped_column(String(200))
    details: Mapped[dict[str, Any]] = mapped_column(JSON)
    at: Mapped[Timestamp]


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


MAX_TOKEN_DAYS = 3650


def create_token(session: Session, *, name: str, scopes: list[str], now: datetime, expires_in_days: int | None = None,
                 created_by: AdminToken | None = None) -> tuple[AdminToken, str]:
    """A scoped token, optionally expiring; one made by a console user (``created_by``: the token
    they called with) is revoked when that user is disabled or changes their password."""
    if not isinstance(name, str) or not name.strip() or len(name.strip()) > 120:
        raise InvalidInput("name is required (at most 120 characters)", code="invalid_token", details={"field": "name"})
    if not scopes or not isinstance(scopes, list) or not all(isinstance(x, str) for x in scopes) or set(scopes) - set(SCOPES):
        raise InvalidInput(f"scopes: a non-empty list of {', '.join(SCOPES)}", code="invalid_token", details={"field": "scopes"})
    if expires_in_days is not None and (isinstance(expires_in_days, bool) or not isinstance(expires_in_days, int)
                                        or not 1 <= expires_in_days <= MAX_TOKEN_DAYS):
        raise InvalidInput(f"expires_in_days: a whole number of days, 1 to {MAX_TOKEN_DAYS}", code="invalid_token",
                           details={"field": "expires_in_days"})
    token_id, secret = secrets.token_hex(6), secrets.token_urlsafe(24)
    maker = created_by and (created_by.admin_user_id or created_by.created_by_id)
    token = AdminToken(name=name.strip(), token_id=token_id, secret_hash=_digest(secret), scopes=sorted(set(scopes)), created_at=now,
                       expires_at=now + timedelta(days=expires_in_days) if expires_in_days else None, created_by_id=maker)
    session.add(token)
    session.flush()
    return token, f"adm_{token_id}_{secret}"


def find_token(session: Session, presented: str) -> AdminToken | None:
    """The live ``adm_…`` token behind a bearer (revoked or forged: None); expiry is the caller's to judge."""
    parts = presented.split("_", 2)
    if len(parts) == 3 and parts[0] == "adm":
        token = session.scalars(select(AdminToken).where(AdminToken.token_id == parts[1])).one_or_none()
        if token is not None and token.revoked_at is None and hmac.compare_digest(token.secret_hash, _digest(parts[2])):
            return token
    return None


def list_tokens(session: Session, *, include_sessions: bool = False, limit: int = 200) -> list[AdminToken]:
    """Tokens newest first (revoked and expired ones too; their secrets are never kept)."""
    query = select(AdminToken).order_by(AdminToken.id.desc()).limit(limit)
    if not include_sessions:
        query = query.where(AdminToken.admin_user_id.is_(None))
    return list(session.scalars(query))


def revoke_token(session: Session, token_id: int, *, now: datetime) -> AdminToken:
    """From now on the token is refused. Revoking twice changes nothing."""
    token = session.get(AdminToken, token_id)
    if token is None:
        raise NotFound(f"No admin token {token_id}", code="token_not_found")
    if token.revoked_at is None:
        token.revoked_at = now
        session.flush()
    return token


def token_json(token: AdminToken, now: datetime) -> dict[str, Any]:
    iso = lambda t: t.isoformat() if t else None  # noqa: E731
    live = token.revoked_at is None and (token.expires_at is None or token.expires_at > now)
    return {"id": token.id, "name": token.name, "key_id": token.token_id, "scopes": token.scopes,
            "kind": "console" if token.admin_user_id else "api", "created_at": iso(token.created_at),
            "expires_at": iso(token.expires_at), "revoked_at": iso(token.revoked_at), "active": live,
            "created_by_id": token.created_by_id}


def authenticate(session: Session, presented: str, *, root_secret: str | None, now: datetime | None = None) -> tuple[str, set[str]]:
    """(who, scopes) for a bearer: the root ADMIN_TOKEN, or an ``adm_…`` token that has not expired."""
    if root_secret and hmac.compare_digest(root_secret.encode(), presented.encode()):
        return ROOT, set(SCOPES)
    token = find_token(session, presented)
    if token is not None and token.expires_at is not None and (now is None or now >= token.expires_at):
        raise AuthError("Your sign-in has expired; sign in again", code="session_expired")
    if token is not None:
        return f"token:{token.id}:{token.name}", set(token.scopes)
    raise AuthError("Admin token required", code="unauthorized")


SECRET_FIELDS = {"password", "api_key", "token", "secret"}


def _redact(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: ("***" if k in SECRET_FIELDS else _redact(v)) for k, v in value.items()}
    return value


def record(session: Session, *, actor: str, action: str, details: dict[str, Any], now: datetime) -> None:
    """Add the audit row to the caller's transaction: it commits with the change, or not at all."""
    clean = _redact(details)
    session.add(AuditLog(actor=actor[:160], action=action[:200], details=clean, at=now))


def recent(session: Session, limit: int = 100) -> list[AuditLog]:
    return list(session.scalars(select(AuditLog).order_by(AuditLog.id.desc()).limit(limit)))
