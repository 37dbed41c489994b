"""The brand's earning rules: one row of configuration, and the pure arithmetic on it."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal
from typing import Any

from sqlalchemy import Integer, Numeric, String
from sqlalchemy.orm import Mapped, Session, mapped_column

from models.base import Base, Timestamp, txn_cache, insert_for
from models.errors import InvalidInput

RULE_ID = 1
REWARD_KINDS = ("free_item", "coupon")


class EarningRule(Base):
    __tablename__ = "earning_rule"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    stamps_per_visit: Mapped[int] = mapped_column(Integer, default=1)
    amount_per_stamp: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    amount_per_point: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    min_spend: Mapped[Decimal] = mapped_column(Numeric(12, 2), default=Decimal(0))
    daily_cap_stamps: Mapped[int | None] = mapped_column(Integer)
    daily_cap_points: Mapped[int | None] = mapped_column(Integer)
    card_size: Mapped[int] = mapped_column(Integer, default=10)
    reward_kind: Mapped[str] = mapped_column(String(16), default="free_item")
    reward_name: Mapped[str] = mapped_column(String(120), default="招牌飲品一杯")
    stamp_expiry_days: Mapped[int | None] = mapped_column(Integer)
    point_expiry_days: Mapped[int | None] = mapped_column(Integer)
    updated_at: Mapped[Timestamp | None]


DEFAULTS: dict[str, Any] = {
    "stamps_per_visit": 1,
    "amount_per_stamp": None,
    "amount_per_point": Decimal(10),
    "min_spend": Decimal(0),
    "daily_cap_stamps": None,
    "daily_cap_points": None,
    "card_size": 10,
    "reward_kind": "free_item",
    "reward_name": "招牌飲品一杯",
    "stamp_expiry_days": 365,
    "point_expiry_days": 365,
}


@dataclass(frozen=True)
class Earn:
    stamps: int
    points: int


def earn_for(rule: EarningRule, *, amount: Decimal | None, visit: bool, multiplier: Decimal = Decimal(1)) -> Earn:
    """Stamps and points one purchase or visit earns, before daily caps.

    Below the minimum spend a purchase earns nothing; the multiplier (tiers) scales points.
    """
    if amount is not None and amount < (rule.min_spend or 0):
        return Earn(0, 0)
    stamps = rule.stamps_per_visit if visit else 0
    points = 0
    if amount is not None and amount > 0:
        if rule.amount_per_stamp:
            stamps += int((amount / rule.amount_per_stamp).to_integral_value(ROUND_FLOOR))
        if rule.amount_per_point:
            raw = amount / rule.amount_per_point * multiplier
            points = int(raw.to_integral_value(ROUND_FLOOR))
    return Earn(stamps, points)


def capped(earned: int, already_today: int, cap: int | None) -> int:
    if cap is None:
        return earned
    return max(0, min(earned, cap - already_today))


def get_rule(session: Session) -> EarningRule:
    """The brand's rule, created with the defaults by whichever request needs it first.
    Kept for the rest of the transaction: an award reads it several times."""
    cache = txn_cache(session)
    if (kept := cache.get("rule")) is not None:
        return kept
    rule = session.get(EarningRule, RULE_ID)
    if rule is None:
        session.execute(insert_for(session)(EarningRule).values(id=RULE_ID, **DEFAULTS).on_conflict_do_nothing(index_elements=["id"]))
        rule = session.get(EarningRule, RULE_ID)
        assert rule is not None
    cache["rule"] = rule
    return rule


def _nonneg_int(name: str, value: Any, *, allow_none: bool) -> int | None:
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidInput(f"{name} must be a whole number ≥ 0", code="invalid_rule", details={"field": name})
    return value


def _amount(name: str, value: Any, *, allow_none: bool) -> Decimal | None:
    if value is None and allow_none:
        return None
    try:
        amount = Decimal(str(value))
    except Exception as exc:  # noqa: BLE001 - any unparsable value is the caller's mistake
        raise InvalidInput(f"{name} must be an amount", code="invalid_rule", details={"field": name}) from exc
    if not amount.is_finite() or amount < 0:
        raise InvalidInput(f"{name} must be an amount ≥ 0", code="invalid_rule", details={"field": name})
    return amount


def update_rule(session: Session, changes: dict[str, Any], *, now) -> EarningRule:  # type: ignore[no-untyped-def]
    rule = get_rule(session)
    unknown = set(changes) - set(DEFAULTS)
    if unknown:
        raise InvalidInput(f"Unknown fields: {', '.join(sorted(unknown))}", code="invalid_rule")
    for name, value in changes.items():
        if name in ("amount_per_stamp", "amount_per_point"):
            parsed = _amount(name, value, allow_none=True)
            setattr(rule, name, parsed if parsed else None)
        elif name == "min_spend":
            setattr(rule, name, _amount(name, value, allow_none=False))
        elif name == "reward_kind":
            if value not in REWARD_KINDS:
                raise InvalidInput(f"reward_kind must be one of {REWARD_KINDS}", code="invalid_rule")
            rule.reward_kind = value
        elif name == "reward_name":
            if not isinstance(value, str) or not value.strip():
                raise InvalidInput("reward_name is required", code="invalid_rule")
            rule.reward_name = value.strip()
        elif name == "card_size":
            size = _nonneg_int(name, value, allow_none=False)
            if not size or size > 50:
                raise InvalidInput("card_size must be 1 to 50", code="invalid_rule")
            rule.card_size = size
        else:
            nullable = name != "stamps_per_visit"
            setattr(rule, name, _nonneg_int(name, value, allow_none=nullable))
    rule.updated_at = now
    session.flush()
    return rule


def rule_to_dict(rule: EarningRule) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in DEFAULTS:
        value = getattr(rule, name)
        out[name] = str(value) if isinstance(value, Decimal) else value
    return out
