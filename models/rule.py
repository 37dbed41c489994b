"""The brand's earning rules: one row of configuration, and the pure arithmetic on it."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_FLOOR, Decimal
from typing import Any, Sequence

from sqlalchemy import JSON, Integer, Numeric, String
from sqlalchemy.orm import Mapped, Session, mapped_column

from models.base import Base, Timestamp, txn_cache, insert_for
from models.bonus import Bonus, Item, bonus_for, parse_bonuses
from models.errors import InvalidInput
from models.limits import (
    MAX_CARD_SIZE, MAX_DAILY_CAP_POINTS, MAX_DAILY_CAP_STAMPS, MAX_DAYS, MAX_PURCHASE, MAX_RATE, MAX_STAMPS_PER_VISIT, amount_in, whole_in,
)

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
    # the same member awarded again at the counter within this many minutes: warn (the award
    # stands, the page says so) or refuse (409 repeat_visit); null: no rule
    repeat_visit_minutes: Mapped[int | None] = mapped_column(Integer)
    repeat_visit_policy: Mapped[str | None] = mapped_column(String(8))  # warn | refuse; null: warn
    # per-product bonuses on receipt line items (models/bonus.py): [{"sku", "points"|"stamps"} |
    # {"category", "multiplier"}]; null: none
    bonuses: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON(none_as_null=True))
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
    "repeat_visit_minutes": None,
    "repeat_visit_policy": "warn",
    "bonuses": None,
}
REPEAT_POLICIES = ("warn", "refuse")
MAX_REPEAT_MINUTES = 1440


@dataclass(frozen=True)
class Earn:
    stamps: int
    points: int
    bonus: Bonus = Bonus()  # on top of stamps and points: the rule's bonuses on the receipt's items


def earn_for(rule: EarningRule, *, amount: Decimal | None, visit: bool, multiplier: Decimal = Decimal(1),
             items: Sequence[Item] | None = None) -> Earn:
    """Stamps and points one purchase or visit earns, before daily caps, and what the rule's
    bonuses add for the receipt's line items (models/bonus.py).

    Below the minimum spend a purchase earns nothing (nor any bonus); the multiplier (tiers) scales points.
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
    extra = bonus_for(rule.bonuses, items, amount_per_point=rule.amount_per_point, multiplier=multiplier, with_amount=amount is not None)
    return Earn(stamps, points, extra)


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


# name: (lowest, highest, whether null is allowed). Null caps mean no cap, null periods no expiry.
WHOLE_FIELDS: dict[str, tuple[int, int, bool]] = {
    "stamps_per_visit": (0, MAX_STAMPS_PER_VISIT, False),
    "daily_cap_stamps": (0, MAX_DAILY_CAP_STAMPS, True),
    "daily_cap_points": (0, MAX_DAILY_CAP_POINTS, True),
    "card_size": (1, MAX_CARD_SIZE, False),
    "stamp_expiry_days": (0, MAX_DAYS, True),
    "point_expiry_days": (0, MAX_DAYS, True),
    "repeat_visit_minutes": (1, MAX_REPEAT_MINUTES, True),
}
RATE_FIELDS = ("amount_per_stamp", "amount_per_point")  # null or 0: that way of earning is off
MAX_REWARD_NAME = 120


def _bad(name: str, message: str) -> InvalidInput:
    return InvalidInput(message, code="invalid_rule", details={"field": name})


def _whole(name: str, value: Any) -> int | None:
    low, high, nullable = WHOLE_FIELDS[name]
    if value is None and nullable:
        return None
    if not whole_in(value, low, high):
        raise _bad(name, f"{name} must be a whole number from {low} to {high:,}" + (" (or null)" if nullable else ""))
    return int(value)


def _rate(name: str, value: Any) -> Decimal | None:
    if value is None:
        return None
    amount = amount_in(value, Decimal(0), MAX_RATE)
    if amount is None:
        raise _bad(name, f"{name} must be null (or 0: off), or NT$0.01 to {MAX_RATE:,} with at most 2 decimals")
    return amount or None


def update_rule(session: Session, changes: dict[str, Any], *, now: datetime) -> EarningRule:
    rule = get_rule(session)
    unknown = set(changes) - set(DEFAULTS)
    if unknown:
        raise _bad(sorted(unknown)[0], f"Unknown fields: {', '.join(sorted(unknown))}")
    for name, value in changes.items():
        if name in RATE_FIELDS:
            setattr(rule, name, _rate(name, value))
        elif name == "min_spend":
            amount = amount_in(value, Decimal(0), MAX_PURCHASE)
            if amount is None:
                raise _bad(name, f"min_spend must be NT$0 to {MAX_PURCHASE:,} with at most 2 decimals")
            rule.min_spend = amount
        elif name == "reward_kind":
            if value not in REWARD_KINDS:
                raise _bad(name, f"reward_kind must be one of {REWARD_KINDS}")
            rule.reward_kind = value
        elif name == "repeat_visit_policy":
            if value not in REPEAT_POLICIES:
                raise _bad(name, f"repeat_visit_policy must be one of {REPEAT_POLICIES}")
            rule.repeat_visit_policy = value
        elif name == "bonuses":
            rule.bonuses = parse_bonuses(value)
        elif name == "reward_name":
            if not isinstance(value, str) or not value.strip() or len(value.strip()) > MAX_REWARD_NAME:
                raise _bad(name, f"reward_name is required (text, at most {MAX_REWARD_NAME} characters)")
            rule.reward_name = value.strip()
        else:
            setattr(rule, name, _whole(name, value))
    rule.updated_at = now
    session.flush()
    return rule


def rule_to_dict(rule: EarningRule) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in DEFAULTS:
        value = getattr(rule, name)
        out[name] = str(value) if isinstance(value, Decimal) else value
    out["repeat_visit_policy"] = out["repeat_visit_policy"] or "warn"
    out["bonuses"] = list(rule.bonuses or [])
    return out
