"""Admin accounts for the browser console: an email, a scrypt password hash and a role.

A role is a fixed set of the admin API's scopes, so the console can do exactly what a scoped
token could; signing in issues a short-lived ``adm_`` token (models/admin.py) owned by the user.

    role       scopes
    analyst    members:read                                   (look, never change)
    marketer   + campaigns:manage                             (tags, segments, campaigns, automations)
    manager    + members:adjust                               (balance corrections with a reason)
    owner      + settings:manage                              (everything: tiers, rules, stores, staff)

Wrong passwords are throttled per (account, client address) and per address (models/throttle.py),
never by a lock on the account that anyone could trigger from anywhere. The account counts its
failures since the last sign-in, and the next sign-in tells the user (``failed_attempts``).
"""
from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import Boolean, Integer, String, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column
from werkzeug.security import check_password_hash, generate_password_hash

import models.store
from models import throttle
from models.admin import SCOPES, AdminToken, _digest
from models.base import Base, IntPK, Timestamp, add_unique
from models.errors import Conflict, InvalidInput, NotFound
from models.passwords import check_password
from models.throttle import Attempt

ROLES: dict[str, tuple[str, ...]] = {
    "analyst": ("members:read",),
    "marketer": ("members:read", "campaigns:manage"),
    "manager": ("members:read", "campaigns:manage", "members:adjust"),
    "owner": SCOPES,
}
SESSION_HOURS = 8  # a working day; the console asks for the password again after it


class AdminUser(Base):
    __tablename__ = "admin_user"

    id: Mapped[IntPK]
    email: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(16))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)  # since the last sign-in, told at the next one
    locked_until: Mapped[Timestamp | None]  # no longer set: sign-ins are throttled per address (models/throttle.py)
    last_login_at: Mapped[Timestamp | None]
    created_at: Mapped[Timestamp]


def _hash(password: str, email: str = "") -> str:
    return generate_password_hash(check_password(password, name=email), method=models.store.PASSWORD_METHOD)  # tests make it cheap there


def _email(email: str) -> str:
    email = email.strip().lower()
    if "@" not in email or len(email) > 254 or " " in email:
        raise InvalidInput("An email address is expected", code="invalid_email", details={"field": "email"})
    return email


def create_admin_user(session: Session, *, email: str, password: str, role: str, display_name: str, now: datetime) -> AdminUser:
    if role not in ROLES:
        raise InvalidInput(f"role must be one of {', '.join(ROLES)}", code="invalid_role", details={"field": "role"})
    address = _email(email)
    user = AdminUser(email=address, display_name=display_name.strip() or address.split("@")[0], password_hash=_hash(password, address),
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
    """A new password also signs the user out everywhere and revokes the tokens they made."""
    user.password_hash, user.failed_logins, user.locked_until = _hash(password, user.email), 0, None
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
    """Ends the user's console sessions and revokes every token they minted: nothing they made outlives them."""
    mine = (AdminToken.admin_user_id == user.id) | (AdminToken.created_by_id == user.id)
    session.execute(update(AdminToken).where(mine, AdminToken.revoked_at.is_(None)).values(revoked_at=now))


def check_credentials(session: Session, *, email: str, password: str, address: str, now: datetime) -> tuple[AdminUser | None, int]:
    """(the user and the failures since their last sign-in), or (None, 0) for a wrong email or
    password; the failure is counted, and the caller commits it before answering. A throttled
    (account, address) pair or address raises TooManyAttempts before any password is checked."""
    attempt = Attempt("console", email, address)
    throttle.check(session, attempt, now=now)
    user = session.scalars(select(AdminUser).where(AdminUser.email == email.strip().lower())).one_or_none()
    if user is None:
        check_password_hash(models.store.dummy_hash(), password)  # the same work as a real check: timing tells nothing
    elif check_password_hash(user.password_hash, password) and user.is_active:
        missed, user.failed_logins, user.last_login_at = user.failed_logins, 0, now
        throttle.succeed(session, attempt)
        session.flush()
        return user, missed
    else:  # counted in SQL, so two workers refusing at once both count
        session.execute(update(AdminUser).where(AdminUser.id == user.id).values(failed_logins=AdminUser.failed_logins + 1))
    throttle.fail(session, attempt, now=now)
    return None, 0


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
