"""Coupons: templates a marketer defines, coupons issued to members, redeemed once at a counter.

Issuing respects total stock (a conditional UPDATE on the template's counter) and the
per-member limit (counted under the member's row lock); redemption flips the status
with a conditional UPDATE, so two counters scanning at once redeem it once.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, Numeric, String, UniqueConstraint, func, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from models.base import BigInt, Base, IntPK, Timestamp
from models.errors import Conflict, DomainError, InvalidInput, NotFound
from models.limits import MAX_DAYS, MAX_PER_MEMBER_LIMIT, MAX_PURCHASE, MAX_STORE_CODES, MAX_TOTAL_STOCK, amount_in, whole_in
from models.ledger import identified_by, lock_member
from models.member import Member
from models.store import Actor, Forbidden, Store

KINDS = ("amount_off", "percent_off", "free_item")
TRIGGERS = ("welcome", "birthday", "stamp_card", "tier_upgrade", "campaign", "manual")


class CouponTemplate(Base):
    __tablename__ = "coupon_template"

    id: Mapped[IntPK]
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(16))
    value: Mapped[Decimal] = mapped_column(Numeric(12, 2), default=Decimal(0))
    item_name: Mapped[str | None] = mapped_column(String(120))
    min_spend: Mapped[Decimal] = mapped_column(Numeric(12, 2), default=Decimal(0))
    valid_from: Mapped[Timestamp | None]
    valid_until: Mapped[Timestamp | None]
    valid_days: Mapped[int | None] = mapped_column(Integer)
    per_member_limit: Mapped[int | None] = mapped_column(Integer)
    total_stock: Mapped[int | None] = mapped_column(Integer)
    issued_count: Mapped[int] = mapped_column(BigInt, default=0)
    store_codes: Mapped[list[str] | None] = mapped_column(JSON)
    trigger: Mapped[str] = mapped_column(String(16), default="manual")
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[Timestamp]


class Coupon(Base):
    __tablename__ = "coupon"
    __table_args__ = (UniqueConstraint("template_id", "member_id", "occasion", name="uq_coupon_occasion"),)

    id: Mapped[IntPK]
    template_id: Mapped[int] = mapped_column(ForeignKey("coupon_template.id"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id"), index=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    source: Mapped[str] = mapped_column(String(16))
    occasion: Mapped[str] = mapped_column(String(64))  # e.g. "birthday:2026", "welcome", "manual:<uuid>"
    status: Mapped[str] = mapped_column(String(16), default="issued")  # issued | redeemed | expired | voided
    issued_at: Mapped[Timestamp]
    valid_from: Mapped[Timestamp]
    expires_at: Mapped[Timestamp]
    redeemed_at: Mapped[Timestamp | None]
    redeemed_store_id: Mapped[int | None] = mapped_column(ForeignKey("store.id"))
    redeemed_amount: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    reminded_at: Mapped[Timestamp | None]


class CouponEvent(Base):
    """Append-only history: issued, redeemed, voided, expired, reminded."""

    __tablename__ = "coupon_event"

    id: Mapped[IntPK]
    coupon_id: Mapped[int] = mapped_column(ForeignKey("coupon.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    store_id: Mapped[int | None] = mapped_column(ForeignKey("store.id"))
    actor_kind: Mapped[str] = mapped_column(String(16))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    note: Mapped[str | None] = mapped_column(String(200))
    amount: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    at: Mapped[Timestamp]
    identified_by: Mapped[str | None] = mapped_column(String(16))  # how the coupon (or member) was identified


class CouponError(DomainError):
    status = 409


@dataclass(frozen=True)
class Issued:
    coupon: Coupon | None
    created: bool
    reason: str | None = None  # why nothing was issued: out_of_stock, member_limit, inactive


# --- templates -------------------------------------------------------------------------

def _dec(name: str, value: Any, default: Decimal | None = None) -> Decimal:
    if value is None and default is not None:
        return default
    out = amount_in(value, Decimal(0), MAX_PURCHASE)
    if out is None:
        raise InvalidInput(f"{name} must be an amount from 0 to {MAX_PURCHASE:,} with at most 2 decimals", code="invalid_template",
                           details={"field": name, "max": str(MAX_PURCHASE)})
    return out


def _opt_int(name: str, value: Any, minimum: int, maximum: int) -> int | None:
    if value is None:
        return None
    if not whole_in(value, minimum, maximum):
        raise InvalidInput(f"{name} must be a whole number from {minimum} to {maximum:,}", code="invalid_template",
                           details={"field": name, "max": maximum})
    return value


def _opt_text(name: str, value: Any, max_len: int = 120) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value.strip()) > max_len:
        raise InvalidInput(f"{name} is text of at most {max_len} characters", code="invalid_template", details={"field": name})
    return value.strip() or None


def _time(name: str, value: Any) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError as exc:
        raise InvalidInput(f"{name} must be an ISO 8601 time", code="invalid_template", details={"field": name}) from exc
    if parsed.tzinfo is None:
        raise InvalidInput(f"{name} needs a time zone (e.g. +08:00)", code="invalid_template", details={"field": name})
    return parsed


def create_template(session: Session, data: dict[str, Any], *, now: datetime) -> CouponTemplate:
    name = data.get("name")
    if not isinstance(name, str) or not name.strip() or len(name.strip()) > 120:
        raise InvalidInput("name is required (text, at most 120 characters)", code="invalid_template", details={"field": "name"})
    kind = data.get("kind")
    if kind not in KINDS:
        raise InvalidInput(f"kind must be one of {KINDS}", code="invalid_template", details={"field": "kind"})
    trigger = data.get("trigger", "manual")
    if trigger not in TRIGGERS:
        raise InvalidInput(f"trigger must be one of {TRIGGERS}", code="invalid_template", details={"field": "trigger"})
    value = _dec("value", data.get("value"), Decimal(0))
    if kind == "percent_off" and not (0 < value < 100):
        raise InvalidInput("percent_off value is between 0 and 100", code="invalid_template", details={"field": "value"})
    if kind == "amount_off" and value <= 0:
        raise InvalidInput("amount_off value must be positive", code="invalid_template", details={"field": "value"})
    valid_from, valid_until = _time("valid_from", data.get("valid_from")), _time("valid_until", data.get("valid_until"))
    valid_days = _opt_int("valid_days", data.get("valid_days"), 1, MAX_DAYS)
    if valid_until is None and valid_days is None:
        raise InvalidInput("Give valid_until (fixed window) or valid_days (after issue)", code="invalid_template", details={"field": "valid_days"})
    if valid_from and valid_until and valid_until <= valid_from:
        raise InvalidInput("valid_until must be after valid_from", code="invalid_template", details={"field": "valid_until"})
    stores = data.get("store_codes")
    if stores is not None:
        if not isinstance(stores, list) or len(stores) > MAX_STORE_CODES or not all(isinstance(c, str) for c in stores):
            raise InvalidInput(f"store_codes is a list of at most {MAX_STORE_CODES} store codes", code="invalid_template",
                               details={"field": "store_codes", "max": MAX_STORE_CODES})
        known = set(session.scalars(select(Store.code).where(Store.code.in_(stores))))
        if set(stores) - known:
            raise InvalidInput(f"Unknown stores: {sorted(set(stores) - known)}", code="invalid_template", details={"field": "store_codes"})
    template = CouponTemplate(
        name=name.strip(), kind=kind, value=value, item_name=_opt_text("item_name", data.get("item_name")),
        min_spend=_dec("min_spend", data.get("min_spend"), Decimal(0)), valid_from=valid_from, valid_until=valid_until,
        valid_days=valid_days, per_member_limit=_opt_int("per_member_limit", data.get("per_member_limit"), 1, MAX_PER_MEMBER_LIMIT),
        total_stock=_opt_int("total_stock", data.get("total_stock"), 0, MAX_TOTAL_STOCK), issued_count=0, store_codes=stores,
        trigger=trigger, is_active=True, created_at=now,
    )
    session.add(template)
    session.flush()
    return template


def templates_for(session: Session, trigger: str) -> list[CouponTemplate]:
    return list(session.scalars(select(CouponTemplate).where(CouponTemplate.trigger == trigger, CouponTemplate.is_active.is_(True)).order_by(CouponTemplate.id)))


# --- issuing ---------------------------------------------------------------------------

def _new_code() -> str:
    return "".join(secrets.choice("ABCDEFGHJKLMNPQRSTUVWXYZ23456789") for _ in range(10))


def issue(session: Session, *, template: CouponTemplate, member_id: int, source: str, occasion: str, now: datetime) -> Issued:
    """Issue one coupon for this occasion, once; respects stock and the per-member limit."""
    if lock_member(session, member_id).erased_at is not None:
        return Issued(None, created=False, reason="member_erased")
    existing = session.scalars(
        select(Coupon).where(Coupon.template_id == template.id, Coupon.member_id == member_id, Coupon.occasion == occasion)
    ).one_or_none()
    if existing is not None:
        return Issued(existing, created=False)
    if not template.is_active or (template.valid_until is not None and template.valid_until <= now):
        return Issued(None, created=False, reason="inactive")
    if template.per_member_limit is not None:
        held = session.scalar(select(func.count()).select_from(Coupon).where(Coupon.template_id == template.id, Coupon.member_id == member_id))
        if held >= template.per_member_limit:
            return Issued(None, created=False, reason="member_limit")
    taken = session.execute(
        update(CouponTemplate)
        .where(CouponTemplate.id == template.id)
        .where((CouponTemplate.total_stock.is_(None)) | (CouponTemplate.issued_count < CouponTemplate.total_stock))
        .values(issued_count=CouponTemplate.issued_count + 1)
    ).rowcount
    if taken != 1:
        return Issued(None, created=False, reason="out_of_stock")
    valid_from = max(now, template.valid_from) if template.valid_from else now
    expires = now + timedelta(days=template.valid_days) if template.valid_days else template.valid_until
    if template.valid_until is not None and expires is not None:
        expires = min(expires, template.valid_until)
    coupon = Coupon(
        template_id=template.id, member_id=member_id, code=_new_code(), source=source, occasion=occasion,
        status="issued", issued_at=now, valid_from=valid_from, expires_at=expires,
    )
    session.add(coupon)
    session.flush()
    _event(session, coupon, "issued", None, now, note=source)
    return Issued(coupon, created=True)


def issue_for_trigger(session: Session, *, trigger: str, member_id: int, occasion: str, now: datetime) -> list[Coupon]:
    out = []
    for template in templates_for(session, trigger):
        result = issue(session, template=template, member_id=member_id, source=trigger, occasion=occasion, now=now)
        if result.created and result.coupon is not None:
            out.append(result.coupon)
    return out


def usable_coupons(session: Session, member_id: int, now: datetime) -> list[tuple[Coupon, CouponTemplate]]:
    rows = session.execute(
        select(Coupon, CouponTemplate)
        .join(CouponTemplate, CouponTemplate.id == Coupon.template_id)
        .where(Coupon.member_id == member_id, Coupon.status == "issued", Coupon.expires_at > now)
        .order_by(Coupon.expires_at, Coupon.id)
    )
    return [(c, t) for c, t in rows]


# --- redemption ------------------------------------------------------------------------

def _event(session: Session, coupon: Coupon, kind: str, actor: Actor | None, now: datetime, note: str | None = None, amount: Decimal | None = None) -> None:
    session.add(CouponEvent(
        coupon_id=coupon.id, kind=kind, store_id=actor.store_id if actor else None,
        actor_kind=actor.kind if actor else "system", staff_id=actor.staff_id if actor else None,
        note=note, amount=amount, at=now, identified_by=identified_by(actor),
    ))
    session.flush()


def get_by_code(session: Session, code: str) -> Coupon:
    coupon = session.scalars(select(Coupon).where(Coupon.code == code)).one_or_none()
    if coupon is None:
        raise NotFound("No such coupon", code="coupon_not_found")
    return coupon


def check_redeemable(session: Session, coupon: Coupon, *, store: Store, amount: Decimal | None, now: datetime) -> CouponTemplate:
    template = session.get(CouponTemplate, coupon.template_id)
    assert template is not None
    holder = session.get(Member, coupon.member_id)
    if holder is not None and holder.erased_at is not None:  # withdrawn at the erasure; a voided redemption stays unusable too
        raise CouponError("This coupon's member was erased", code="member_erased")
    if coupon.status == "redeemed":
        raise CouponError("This coupon was already used", code="coupon_already_redeemed")
    if coupon.status == "voided":
        raise CouponError("This coupon was withdrawn", code="coupon_voided")
    if coupon.status == "expired" or coupon.expires_at <= now:
        raise CouponError("This coupon has expired", code="coupon_expired")
    if coupon.valid_from > now:
        raise CouponError("This coupon is not valid yet", code="coupon_not_yet_valid")
    if template.store_codes and store.code not in template.store_codes:
        raise CouponError("This coupon is not accepted at this store", code="coupon_wrong_store")
    if template.min_spend and (amount is None or amount < template.min_spend):
        raise CouponError(
            f"This coupon needs a spend of at least {template.min_spend}", code="coupon_min_spend",
            details={"min_spend": str(template.min_spend)},
        )
    return template


def redeem(session: Session, *, code: str, amount: Decimal | None, actor: Actor, now: datetime) -> Coupon:
    """Redeem exactly once: the status flips only where it is still 'issued'."""
    coupon = get_by_code(session, code)
    store = session.get(Store, actor.store_id)
    assert store is not None
    check_redeemable(session, coupon, store=store, amount=amount, now=now)
    flipped = session.execute(
        update(Coupon)
        .where(Coupon.id == coupon.id, Coupon.status == "issued")
        .values(status="redeemed", redeemed_at=now, redeemed_store_id=actor.store_id, redeemed_amount=amount)
    ).rowcount
    if flipped != 1:
        raise CouponError("This coupon was already used", code="coupon_already_redeemed")
    session.refresh(coupon)
    _event(session, coupon, "redeemed", actor, now, amount=amount)
    return coupon


@dataclass(frozen=True)
class CouponLookup:
    """What the counter sees before redeeming: the coupon, its template, why it cannot be redeemed
    here and now (a refusal's code; the minimum spend is asked for at redemption), and whether
    this store may void its redemption."""

    coupon: Coupon
    template: CouponTemplate
    problem: str | None
    can_void: bool


def look_up(session: Session, *, code: str, store: Store, now: datetime) -> CouponLookup:
    coupon = get_by_code(session, code)
    template = session.get(CouponTemplate, coupon.template_id)
    assert template is not None
    try:
        check_redeemable(session, coupon, store=store, amount=template.min_spend or None, now=now)
        problem = None
    except CouponError as err:
        problem = err.code
    voids = session.scalar(select(func.count()).select_from(CouponEvent).where(
        CouponEvent.coupon_id == coupon.id, CouponEvent.kind == "voided")) or 0
    can_void = coupon.status == "redeemed" and coupon.redeemed_store_id == store.id and voids < VOIDS_PER_COUPON
    return CouponLookup(coupon, template, problem, can_void)


VOIDS_PER_COUPON = 1  # a redemption can be undone once: redeem, void, redeem again, and that one stands


def void_redemption(session: Session, *, code: str, reason: str, actor: Actor, now: datetime) -> Coupon:
    """Undo a redemption (a cancelled sale): the coupon is usable again. Once per coupon, so a
    manager cannot void and re-redeem one coupon for ever; the row lock makes it once with two managers too."""
    if not actor.is_manager:
        raise Forbidden("Only a manager can void a redemption", code="manager_only")
    if not reason or not reason.strip():
        raise InvalidInput("A reason is required", code="reason_required")
    coupon = get_by_code(session, code)
    if coupon.redeemed_store_id is not None and coupon.redeemed_store_id != actor.store_id:
        raise Forbidden("Only the store that redeemed it can void it", code="coupon_wrong_store")
    status = session.scalars(select(Coupon.status).where(Coupon.id == coupon.id).with_for_update()).one()
    voids = session.scalar(select(func.count()).select_from(CouponEvent).where(
        CouponEvent.coupon_id == coupon.id, CouponEvent.kind == "voided")) or 0  # a withdrawn coupon is never redeemed again
    if status == "redeemed" and voids >= VOIDS_PER_COUPON:
        raise Conflict("This coupon's redemption was voided before; a coupon is voided at most once",
                       code="coupon_void_limit", details={"voids": int(voids), "limit": VOIDS_PER_COUPON})
    flipped = session.execute(
        update(Coupon)
        .where(Coupon.id == coupon.id, Coupon.status == "redeemed")
        .values(status="issued", redeemed_at=None, redeemed_store_id=None, redeemed_amount=None)
    ).rowcount
    if flipped != 1:
        raise Conflict("This coupon is not redeemed", code="coupon_not_redeemed")
    session.refresh(coupon)
    _event(session, coupon, "voided", actor, now, note=reason.strip())
    return coupon


def expire_coupons(session: Session, *, now: datetime) -> int:
    rows = list(session.scalars(select(Coupon).where(Coupon.status == "issued", Coupon.expires_at <= now).with_for_update(skip_locked=True)))
    for coupon in rows:
        coupon.status = "expired"
        _event(session, coupon, "expired", None, now)
    return len(rows)


def due_reminders(session: Session, *, now: datetime, days_before: int) -> list[Coupon]:
    return list(session.scalars(
        select(Coupon).where(
            Coupon.status == "issued", Coupon.reminded_at.is_(None),
            Coupon.expires_at > now, Coupon.expires_at <= now + timedelta(days=days_before),
        ).order_by(Coupon.member_id, Coupon.id).with_for_update(skip_locked=True)
    ))


def describe_value(template: CouponTemplate) -> str:
    if template.kind == "amount_off":
        return f"折抵 NT${template.value.normalize():f}"
    if template.kind == "percent_off":  # value is the percentage off; Taiwan says what is paid: 15% off = 85 折
        paid = (Decimal(100) - template.value).normalize()
        return f"{(paid / 10).normalize():f} 折" if paid % 10 == 0 else f"{paid:f} 折"
    return f"免費兌換 {template.item_name or template.name}"


def coupon_token(secret: str, code: str) -> str:
    """What a coupon's QR carries: its code, signed so a typed or altered code is refused."""
    from itsdangerous import Signer

    return Signer(secret, salt="coupon-qr").sign(code).decode()


def read_coupon_token(secret: str, token: str) -> str:
    from itsdangerous import BadSignature, Signer

    try:
        return Signer(secret, salt="coupon-qr").unsign(token.strip()).decode()
    except BadSignature as exc:
        raise CouponError("This is not a valid coupon QR", code="coupon_token_invalid") from exc


def revoke(session: Session, *, code: str, reason: str, now: datetime) -> Coupon:
    """A marketer withdraws an unused coupon; it can no longer be redeemed."""
    coupon = get_by_code(session, code)
    flipped = session.execute(update(Coupon).where(Coupon.id == coupon.id, Coupon.status == "issued").values(status="voided")).rowcount
    if flipped != 1:
        raise Conflict("Only an unused coupon can be voided", code="coupon_not_issued")
    session.refresh(coupon)
    _event(session, coupon, "voided", None, now, note=(reason or "")[:200] or None)
    return coupon


def coupon_json(coupon: Coupon, template: CouponTemplate) -> dict[str, Any]:
    return {
        "code": coupon.code, "name": template.name, "kind": template.kind, "value": format(template.value.normalize(), "f"),
        "description": describe_value(template), "min_spend": format(template.min_spend.normalize(), "f"),
        "status": coupon.status, "source": coupon.source, "issued_at": coupon.issued_at.isoformat(),
        "valid_from": coupon.valid_from.isoformat(), "expires_at": coupon.expires_at.isoformat(),
        "redeemed_at": coupon.redeemed_at.isoformat() if coupon.redeemed_at else None,
        "stores": template.store_codes,
    }
