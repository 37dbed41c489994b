"""Stores, their staff, and POS API keys. Secrets are stored hashed; everything is store-scoped."""
from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from urllib.parse import quote, urlsplit

from sqlalchemy import Boolean, ForeignKey, Integer, Numeric, String, select
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
    # What 門市據點 shows in chat (update_store validates them); all optional.
    address: Mapped[str | None] = mapped_column(String(100))  # a LINE location message's address holds 100
    hours: Mapped[str | None] = mapped_column(String(200))  # opening hours as text: "每日 07:30–20:00"
    phone: Mapped[str | None] = mapped_column(String(20))
    latitude: Mapped[Decimal | None] = mapped_column(Numeric(9, 6))
    longitude: Mapped[Decimal | None] = mapped_column(Numeric(9, 6))
    map_url: Mapped[str | None] = mapped_column(String(500))

    @property
    def has_location(self) -> bool:
        return self.latitude is not None and self.longitude is not None

    def tel_uri(self) -> str | None:
        """tel:+886227201234 or tel:0227201234: the digits (and a leading +) of the phone."""
        return f"tel:{re.sub(r'[^0-9+]', '', self.phone)}" if self.phone else None

    def map_link(self) -> str | None:
        """The store's own map link, else a Google Maps search for its coordinates or address."""
        if self.map_url:
            return self.map_url
        if self.has_location:
            return f"https://www.google.com/maps/search/?api=1&query={self.latitude},{self.longitude}"
        if self.address:
            return f"https://www.google.com/maps/search/?api=1&query={quote(self.address, safe='')}"
        return None


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

    def identifying(self, method: str) -> Actor:
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


STORE_FIELDS = ("name", "address", "hours", "phone", "latitude", "longitude", "map_url")
PHONE_RE = re.compile(r"^\+?[0-9][0-9 ()#-]{5,19}$")


def _bad_store(field: str, message: str) -> InvalidInput:
    return InvalidInput(message, code="invalid_store", details={"field": field})


def _optional_text(changes: dict[str, object], field: str, max_len: int) -> str | None:
    value = changes[field]
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str) or len(value.strip()) > max_len:
        raise _bad_store(field, f"{field} is text, at most {max_len} characters (null or empty clears it)")
    return value.strip()


def _coordinate(changes: dict[str, object], field: str, limit: int) -> Decimal | None:
    value = changes[field]
    if value is None or value == "":
        return None
    try:
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise InvalidOperation
        number = Decimal(str(value).strip())
    except InvalidOperation:
        number = Decimal("NaN")
    if not number.is_finite() or not -limit <= number <= limit:
        raise _bad_store(field, f"{field} is a number from -{limit} to {limit} (null clears it)")
    return number.quantize(Decimal("0.000001"))


def update_store(session: Session, code: str, changes: dict[str, object]) -> Store:
    """Change a store's name and what the chat shows of it; the fields sent change, the others stay.
    Coordinates go together (both or neither); a map URL is http(s)."""
    store = get_store(session, code)
    unknown = sorted(set(changes) - set(STORE_FIELDS))
    if unknown:
        raise _bad_store(unknown[0], f"Unknown fields: {', '.join(unknown)}")
    if "name" in changes:
        name = changes["name"]
        if not isinstance(name, str) or not name.strip() or len(name.strip()) > 120:
            raise _bad_store("name", "name is required (text, at most 120 characters)")
        store.name = name.strip()
    for field, max_len in (("address", 100), ("hours", 200)):
        if field in changes:
            setattr(store, field, _optional_text(changes, field, max_len))
    if "phone" in changes:
        phone = _optional_text(changes, "phone", 20)
        if phone is not None and not PHONE_RE.match(phone):
            raise _bad_store("phone", "phone: digits, spaces, -, ( ), # and a leading +, 6 to 20 characters")
        store.phone = phone
    if "map_url" in changes:
        url = _optional_text(changes, "map_url", 500)
        parts = urlsplit(url) if url else None
        if parts is not None and (parts.scheme not in ("http", "https") or not parts.netloc or " " in url):
            raise _bad_store("map_url", "map_url is an http(s) URL, at most 500 characters")
        store.map_url = url
    if "latitude" in changes:
        store.latitude = _coordinate(changes, "latitude", 90)
    if "longitude" in changes:
        store.longitude = _coordinate(changes, "longitude", 180)
    if (store.latitude is None) != (store.longitude is None):
        raise _bad_store("longitude" if store.longitude is None else "latitude", "latitude and longitude go together: send both, or clear both")
    session.flush()
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
