"""The referral programme's settings: one row (like the earning rule), and the pure rules on it.

What each side gets (stamps, points or a coupon; either side may get nothing), the purchase that
qualifies, the monthly cap of rewarded referrals per referrer, and how new a friend must be.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Integer, Numeric, String
from sqlalchemy.orm import Mapped, Session, mapped_column

from models.base import Base, Timestamp, insert_for
from models.coupon import CouponTemplate
from models.errors import InvalidInput
from models.limits import MAX_REFERRAL_POINTS, MAX_REFERRAL_STAMPS

PROGRAM_ID = 1
REWARD_KINDS = ("stamps", "points", "coupon")
SIDES = ("referrer", "friend")
MAX_MIN_PURCHASE = Decimal(10) ** 10  # the column holds 12 digits, 2 of them decimals


class ReferralProgram(Base):
    """The brand's referral settings: one row, like the earning rule."""

    __tablename__ = "referral_program"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    referrer_reward: Mapped[str | None] = mapped_column(String(8))  # stamps | points | coupon | none
    referrer_amount: Mapped[int] = mapped_column(Integer, default=0)
    referrer_template_id: Mapped[int | None] = mapped_column(ForeignKey("coupon_template.id"))
    friend_reward: Mapped[str | None] = mapped_column(String(8))
    friend_amount: Mapped[int] = mapped_column(Integer, default=0)
    friend_template_id: Mapped[int | None] = mapped_column(ForeignKey("coupon_template.id"))
    min_purchase: Mapped[Decimal] = mapped_column(Numeric(12, 2), default=Decimal(0))
    monthly_cap: Mapped[int | None] = mapped_column(Integer)
    new_friend_hours: Mapped[int] = mapped_column(Integer, default=24)
    updated_at: Mapped[Timestamp | None]


DEFAULTS: dict[str, Any] = {
    "enabled": True, "referrer_reward": "stamps", "referrer_amount": 2, "referrer_template_id": None,
    "friend_reward": "stamps", "friend_amount": 1, "friend_template_id": None,
    "min_purchase": Decimal(0), "monthly_cap": 10, "new_friend_hours": 24,
}


@dataclass(frozen=True)
class Gift:
    kind: str  # stamps | points | coupon
    amount: int = 0
    coupon_name: str | None = None



def get_program(session: Session) -> ReferralProgram:
    program = session.get(ReferralProgram, PROGRAM_ID)
    if program is None:
        session.execute(insert_for(session)(ReferralProgram).values(id=PROGRAM_ID, **DEFAULTS).on_conflict_do_nothing(index_elements=["id"]))
        program = session.get(ReferralProgram, PROGRAM_ID)
        assert program is not None
    return program


def _bad(field: str, message: str) -> InvalidInput:
    return InvalidInput(message, code="invalid_referral_program", details={"field": field})


def _whole(field: str, value: Any, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise _bad(field, f"{field} must be a whole number from {low} to {high}")
    return value


def _set_reward(session: Session, program: ReferralProgram, side: str, value: Any) -> None:
    kind, amount, template_id = None, 0, None
    if value is not None:
        if not isinstance(value, dict) or value.get("kind") not in REWARD_KINDS:
            raise _bad(side + "_reward", f"{side}_reward is null or {{kind: {' | '.join(REWARD_KINDS)}, …}}")
        kind = value["kind"]
        if kind == "coupon":
            template_id = value.get("coupon_template_id")
            if isinstance(template_id, bool) or not isinstance(template_id, int) or session.get(CouponTemplate, template_id) is None:
                raise _bad(side + "_reward", "coupon_template_id names no coupon template")
        else:  # stamps are few (each full card is a reward grant), points many
            amount = _whole(side + "_reward", value.get("amount"), 1, MAX_REFERRAL_STAMPS if kind == "stamps" else MAX_REFERRAL_POINTS)
    setattr(program, f"{side}_reward", kind)
    setattr(program, f"{side}_amount", amount)
    setattr(program, f"{side}_template_id", template_id)


def update_program(session: Session, changes: dict[str, Any], *, now: datetime) -> ReferralProgram:
    """Change the fields sent; the others stay."""
    program = get_program(session)
    known = {"enabled", "referrer_reward", "friend_reward", "min_purchase", "monthly_cap", "new_friend_hours"}
    unknown = set(changes) - known
    if unknown:
        raise _bad(sorted(unknown)[0], f"Unknown fields: {', '.join(sorted(unknown))}")
    for side in SIDES:
        if f"{side}_reward" in changes:
            _set_reward(session, program, side, changes[f"{side}_reward"])
    if "enabled" in changes:
        if not isinstance(changes["enabled"], bool):
            raise _bad("enabled", "enabled is true or false")
        program.enabled = changes["enabled"]
    if "min_purchase" in changes:
        try:
            amount = Decimal(str(changes["min_purchase"]))
        except InvalidOperation as exc:
            raise _bad("min_purchase", "min_purchase is an amount") from exc
        if (isinstance(changes["min_purchase"], (bool, float)) or not amount.is_finite() or not 0 <= amount < MAX_MIN_PURCHASE
                or amount.as_tuple().exponent < -2):  # type: ignore[operator]
            raise _bad("min_purchase", "min_purchase is an amount from 0 to 9,999,999,999 with at most 2 decimals (integer or decimal string)")
        program.min_purchase = amount
    if "monthly_cap" in changes:
        cap = changes["monthly_cap"]
        program.monthly_cap = None if cap is None else _whole("monthly_cap", cap, 1, 10_000)
    if "new_friend_hours" in changes:
        program.new_friend_hours = _whole("new_friend_hours", changes["new_friend_hours"], 1, 720)
    program.updated_at = now
    session.flush()
    return program


def _reward_json(program: ReferralProgram, side: str) -> dict[str, Any] | None:
    kind = getattr(program, f"{side}_reward")
    if kind is None:
        return None
    if kind == "coupon":
        return {"kind": kind, "coupon_template_id": getattr(program, f"{side}_template_id")}
    return {"kind": kind, "amount": getattr(program, f"{side}_amount")}


def program_json(program: ReferralProgram) -> dict[str, Any]:
    return {
        "enabled": program.enabled, "referrer_reward": _reward_json(program, "referrer"), "friend_reward": _reward_json(program, "friend"),
        "min_purchase": format(Decimal(program.min_purchase).normalize(), "f"), "monthly_cap": program.monthly_cap,
        "new_friend_hours": program.new_friend_hours,
        "updated_at": program.updated_at.isoformat() if program.updated_at else None,
    }


def planned_gift(session: Session, program: ReferralProgram, side: str) -> Gift | None:
    """What ``side`` gets under the current settings (for the invitation card)."""
    kind = getattr(program, f"{side}_reward")
    if kind == "coupon":
        template = session.get(CouponTemplate, getattr(program, f"{side}_template_id"))
        return Gift("coupon", 1, template.name) if template is not None else None
    return Gift(kind, getattr(program, f"{side}_amount")) if kind else None


def qualifies(program: ReferralProgram, amount: Decimal | None, visit: bool) -> bool:
    """A purchase that counts: at least the minimum when one is set, otherwise any paid purchase or visit."""
    if program.min_purchase and program.min_purchase > 0:
        return amount is not None and amount >= program.min_purchase
    return visit or (amount is not None and amount > 0)
