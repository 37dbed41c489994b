"""Admin accounts for the browser console: an email, a scrypt password hash and a role.

A role is a fixed set of the admin API's scopes, so the console can do exactly what a scoped
token could; signing in issues a short-lived ``adm_`` token (models/admin.py) owned by the user.

    role       scopes
    analyst    members:read                                   (look, never change)
    marketer   + campaigns:manage                             (tags, segments, campaigns, automations)
    manager    + members:adjust                               (balance corrections with a reason)
    owner      + settings:manage                              (everything: tiers, rules, stores, staff)

Repeated wrong passwords lock the account for a while: the counter lives on the row (several
workers share it), and a locked account refuses even the right password until the lock ends.
"""
from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import Boolean, Integer, String, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column
from werkzeug.security import check_password_hash, generate_password_hash

import models.store
from models.admin import SCOPES, AdminToken, _digest
from models.base import Base, IntPK, Timestamp, add_unique
from models.errors import Conflict, DomainError, InvalidInput, NotFound

ROLES: dict[str, tuple[str, ...]] = {
    "analyst": ("members:read",),
    "marketer": ("members:read", "campaigns:manage"),
    "manager": ("members:read", "campaigns:manage", "members:adjust"),
    "owner": SCOPES,
}
MAX_FAILURES = 5
LOCK_MINUTES = 15
SESSION_HOURS = 8  # a working day; the console asks for the password again after it


class AdminUser(Base):
    __tablename__ = "admin_user"

    id: Mapped[IntPK]
    email: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(16))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[Timestamp | None]
    last_login_at: Mapped[Timestamp | None]
    created_at: Mapped[Timestamp]


class TooManyAttempts(DomainError):
    code = "too_many_attempts"
    status = 429


def _hash(password: str) -> str:
    if len(password) < 8:
        raise InvalidInput("Password needs at least 8 characters", code="weak_password", details={"field": "password"})
    return generate_password_hash(password, method=models.store.PASSWORD_METHOD)  # tests make it cheap there


def _email(email: str) -> str:
    email = email.strip().lower()
    if "@" not in email or len(email) > 254 or " " in email:
        raise InvalidInput("An email address is expected", code="invalid_email", details={"field": "email"})
    return email


def create_admin_user(session: Session, *, email: str, password: str, role: str, display_name: str, now: datetime) -> AdminUser:
    if role not in ROLES:
        raise InvalidInput(f"role must be one of {', '.join(ROLES)}", code="invalid_role", details={"field": "role"})
    address = _email(email)
    user = AdminUser(email=address, display_name=display_name.strip() or address.split("@")[0], password_hash=_hash(password),
                     role=role, is_active=True, failed_logins=0, created_at=now)
    add_unique(session, user, Conflict(f"{address} already has an account", code="admin_user_exists"))
    return user


def get_admin_user(session: Session, email: str) -> AdminUser:
    user = session.scalars(select(AdminUser).where(AdminUser.email == email.strip().lower())).one_or_none()
    if user is None:
        raise NotFound(f"No admin account {email}", code="admin_user_not_found")
    return user


def list_admin_users(session: Session) -> list[AdminUser]:
    return list(session.scalars(select(AdminUser).order_by(AdminUser.email)))


def set_password(session: Session, user: AdminUser, password: str, *, now: datetime) -> None:
    """A new password also ends the lock and signs the user out everywhere."""
    user.password_hash, user.failed_logins, user.locked_until = _hash(password), 0, None
    revoke_sessions(session, user, now=now)


def set_active(session: Session, user: AdminUser, active: bool, *, now: datetime) -> None:
    """Disabling signs the user out; the last active owner cannot be disabled (nobody could
    manage settings and accounts any more). The active owners are locked while they are
    counted, so two owners disabling each other at once cannot both succeed."""
    if not active and user.role == "owner":
        owners = session.scalars(select(AdminUser.id).where(AdminUser.role == "owner", AdminUser.is_active.is_(True))
                                 .order_by(AdminUser.id).with_for_update()).all()
        if not set(owners) - {user.id}:
            raise Conflict("At least one active owner account must remain", code="last_owner", details={"email": user.email})
    user.is_active = active
    if not active:
        revoke_sessions(session, user, now=now)


def revoke_sessions(session: Session, user: AdminUser, *, now: datetime) -> None:
    session.execute(update(AdminToken).where(AdminToken.admin_user_id == user.id, AdminToken.revoked_at.is_(None)).values(revoked_at=now))


_DUMMY_HASH = generate_password_hash(secrets.token_hex(8), method="pbkdf2:sha256:1000")


def check_credentials(session: Session, *, email: str, password: str, now: datetime) -> AdminUser | None:
    """The user, or None for a wrong email or password (a failure is counted: the caller commits
    it before answering, so it survives the refusal). A locked account raises TooManyAttempts."""
    user = session.scalars(select(AdminUser).where(AdminUser.email == email.strip().lower())).one_or_none()
    if user is None:
        check_password_hash(_DUMMY_HASH, password)  # about the same time as a real check
        return None
    if user.locked_until is not None and user.locked_until > now:
        wait = int((user.locked_until - now).total_seconds()) + 1
        raise TooManyAttempts("Too many failed sign-ins; try again later", details={"retry_after_seconds": wait})
    if user.is_active and check_password_hash(user.password_hash, password):
        user.failed_logins, user.locked_until, user.last_login_at = 0, None, now
        session.flush()
        return user
    # counted in SQL, so two workers refusing at once both count
    session.execute(update(AdminUser).where(AdminUser.id == user.id).values(failed_logins=AdminUser.failed_logins + 1))
    session.refresh(user)
    if user.failed_logins >= MAX_FAILURES:
        user.failed_logins, user.locked_until = 0, now + timedelta(minutes=LOCK_MINUTES)
    session.flush()
    return None


def open_session(session: Session, user: AdminUser, *, now: datetime) -> tuple[AdminToken, str]:
    """An ``adm_`` token with the role's scopes, valid for SESSION_HOURS."""
    token_id, secret = secrets.token_hex(6), secrets.token_urlsafe(24)
    token = AdminToken(name=f"console {user.email}"[:120], token_id=token_id, secret_hash=_digest(secret), scopes=list(ROLES[user.role]),
                       created_at=now, admin_user_id=user.id, expires_at=now + timedelta(hours=SESSION_HOURS))
    session.add(token)
    session.flush()
    return token, f"adm_{token_id}_{secret}"


def user_json(user: AdminUser) -> dict[str, object]:
    return {"email": user.email, "name": user.display_name, "role": user.role, "scopes": list(ROLES[user.role]),
            "active": user.is_active, "last_login_at": user.last_login_at.isoformat() if user.last_login_at else None}
