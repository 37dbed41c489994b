"""Stores, their staff, and POS API keys. Secrets are stored hashed; everything is store-scoped."""
from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column
from werkzeug.security import check_password_hash, generate_password_hash

from models.base import Base, IntPK, Timestamp, add_unique
from models import throttle
from models.errors import Conflict, DomainError, InvalidInput, NotFound
from models.passwords import check_password
from models.throttle import Attempt

ROLES = ("cashier", "manager")
# werkzeug's scrypt; the method travels inside each hash, so a change here never locks anyone out.
PASSWORD_METHOD = "scrypt"


class Store(Base):
    __tablename__ = "store"

    id: Mapped[IntPK]
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[Timestamp]


class Staff(Base):
    __tablename__ = "staff"

    id: Mapped[IntPK]
    store_id: Mapped[int] = mapped_column(ForeignKey("store.id"), index=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(16))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[Timestamp]
    # in every staff token; a new password or "sign out everywhere" moves it on, and older tokens are refused
    token_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class ApiKey(Base):
    """A POS's key: ``pos_<key_id>_<secret>``; only a SHA-256 of the secret is kept."""

    __tablename__ = "api_key"

    id: Mapped[IntPK]
    store_id: Mapped[int] = mapped_column(ForeignKey("store.id"), index=True)
    key_id: Mapped[str] = mapped_column(String(32), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    label: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[Timestamp]
    revoked_at: Mapped[Timestamp | None]


class AuthError(DomainError):
    code = "unauthorized"
    status = 401


class Forbidden(DomainError):
    code = "forbidden"
    status = 403


@dataclass(frozen=True)
class Actor:
    """Who acts at the counter: a signed-in staff member, or a store's POS key."""

    store_id: int
    kind: str  # staff | api_key | system | member
    staff_id: int | None = None
    api_key_id: int | None = None
    role: str = "cashier"
    # how this request identified the member it acts on (models.ledger.IDENTIFIED_BY); every ledger
    # entry, coupon event and handed-over reward written for the request records it
    identified_by: str | None = None

    @property
    def is_manager(self) -> bool:
        return self.role == "manager"

    def identifying(self, method: str) -> "Actor":
        """This actor, acting on a member identified by ``method``."""
        from dataclasses import replace

        return replace(self, identified_by=method)


def create_store(session: Session, *, code: str, name: str, now: datetime) -> Store:
    code = code.strip()
    if not code or not code.replace("-", "").replace("_", "").isalnum() or len(code) > 32:
        raise InvalidInput("Store code: letters, digits, - and _ (at most 32)", code="invalid_store_code")
    if not name.strip():
        raise InvalidInput("Store name is required", code="invalid_store_name")
    store = Store(code=code, name=name.strip(), created_at=now)
    add_unique(session, store, Conflict(f"Store {code} exists", code="store_exists"))
    return store


def get_store(session: Session, code: str) -> Store:
    store = session.scalars(select(Store).where(Store.code == code)).one_or_none()
    if store is None:
        raise NotFound(f"No store {code}", code="store_not_found")
    return store


def list_stores(session: Session) -> list[Store]:
    return list(session.scalars(select(Store).order_by(Store.code)))


def create_staff(
    session: Session, store: Store, *, username: str, password: str, role: str, display_name: str, now: datetime
) -> Staff:
    if role not in ROLES:
        raise InvalidInput(f"role must be one of {', '.join(ROLES)}", code="invalid_role")
    if not username.strip():
        raise InvalidInput("Username is required", code="invalid_username")
    staff = Staff(
        store_id=store.id,
        username=username.strip().lower(),
        display_name=display_name.strip() or username,
        password_hash=_password_hash(password, username),
        role=role,
        is_active=True,
        created_at=now,
    )
    add_unique(session, staff, Conflict(f"Username {username} is taken", code="username_taken"))
    return staff


_DUMMY: dict[str, str] = {}


def dummy_hash() -> str:
    """A hash made the way real ones are (PASSWORD_METHOD when called), to check unknown names against."""
    if PASSWORD_METHOD not in _DUMMY:
        _DUMMY[PASSWORD_METHOD] = generate_password_hash(secrets.token_hex(8), method=PASSWORD_METHOD)
    return _DUMMY[PASSWORD_METHOD]


def authenticate_staff(session: Session, username: str, password: str, *, address: str, now: datetime) -> Staff | None:
    """The staff member, or None for a wrong name or password (counted: the caller commits the
    failure before refusing). Throttled per (name, address) and per address (models/throttle.py)."""
    attempt = Attempt("staff", username, address)
    throttle.check(session, attempt, now=now)
    staff = session.scalars(select(Staff).where(Staff.username == username.strip().lower())).one_or_none()
    if staff is not None and check_password_hash(staff.password_hash, password) and staff.is_active:
        throttle.succeed(session, attempt)
        return staff
    if staff is None:
        check_password_hash(dummy_hash(), password)  # the same work as a real check: timing tells nothing
    throttle.fail(session, attempt, now=now)
    return None


def get_staff(session: Session, store: Store, username: str) -> Staff:
    staff = session.scalars(select(Staff).where(Staff.store_id == store.id, Staff.username == username.strip().lower())).one_or_none()
    if staff is None:
        raise NotFound(f"Store {store.code} has no staff {username}", code="staff_not_found")
    return staff


def set_staff_active(staff: Staff, active: bool) -> None:
    """Disabled staff are refused at once: every request checks the account."""
    staff.is_active = active
    if not active:
        staff.token_version += 1


def set_staff_password(staff: Staff, password: str) -> None:
    """A new password signs the staff member out on every device."""
    staff.password_hash = _password_hash(password, staff.username)
    staff.token_version += 1


def sign_out_staff(staff: Staff) -> None:
    staff.token_version += 1


def _password_hash(password: str, name: str = "") -> str:
    return generate_password_hash(check_password(password, name=name), method=PASSWORD_METHOD)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_api_key(session: Session, store: Store, *, label: str | None, now: datetime) -> tuple[ApiKey, str]:
    """The new key and its plain text, shown once."""
    if label is not None and (not isinstance(label, str) or len(label.strip()) > 120):
        raise InvalidInput("label is text, at most 120 characters", code="invalid_label", details={"field": "label"})
    key_id, secret = secrets.token_hex(6), secrets.token_urlsafe(24)
    key = ApiKey(store_id=store.id, key_id=key_id, secret_hash=_digest(secret), label=(label or "").strip() or "POS", created_at=now)
    session.add(key)
    session.flush()
    return key, f"pos_{key_id}_{secret}"


def list_api_keys(session: Session, store: Store) -> list[ApiKey]:
    """A store's keys, newest first, revoked ones included (their secrets are never kept)."""
    return list(session.scalars(select(ApiKey).where(ApiKey.store_id == store.id).order_by(ApiKey.id.desc())))


def revoke_api_key(session: Session, store: Store, key_id: str, *, now: datetime) -> ApiKey:
    """The POS holding this key is refused from now on. Revoking twice changes nothing."""
    key = session.scalars(select(ApiKey).where(ApiKey.store_id == store.id, ApiKey.key_id == key_id)).one_or_none()
    if key is None:
        raise NotFound(f"Store {store.code} has no API key {key_id}", code="api_key_not_found")
    if key.revoked_at is None:
        key.revoked_at = now
        session.flush()
    return key


def authenticate_api_key(session: Session, presented: str) -> ApiKey:
    parts = presented.split("_", 2)
    if len(parts) != 3 or parts[0] != "pos":
        raise AuthError("Not a POS API key", code="invalid_api_key")
    key = session.scalars(select(ApiKey).where(ApiKey.key_id == parts[1])).one_or_none()
    if key is None or key.revoked_at is not None or not hmac.compare_digest(key.secret_hash, _digest(parts[2])):
        raise AuthError("Unknown or revoked API key", code="invalid_api_key")
    return key
