"""The largest amounts and settings the APIs accept, in one place (the OpenAPI document and the
refusals quote them). Each bound is far above what a shop does, and low enough that no single
request can make an unbounded amount of work or overflow a column:

- money is NT$ with at most 2 decimals, up to what ``Numeric(12, 2)`` holds with room to spare;
- stamps come in small numbers: one receipt earns at most two of the largest cards (a full card
  writes a reward grant, so stamps are work, not just a number);
- any period in days is at most ten years (``now + days`` must stay a date);
- counts a marketer sets (stock, per-member limits) fit 32-bit columns; what grows with use
  (ledger deltas, balances, award totals, issue counts) is 64-bit (migration 0009).

Only plain values here: modules import these, this module imports nothing of the project.
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

MAX_PURCHASE = Decimal(10_000_000)  # NT$ per receipt (awards, claim codes, coupon amounts, coupon values, minimum spends)
MAX_RATE = Decimal(1_000_000)  # NT$ per stamp or per point
MAX_CARD_SIZE = 50
MAX_STAMPS_PER_VISIT = MAX_CARD_SIZE
MAX_STAMPS_PER_AWARD = 2 * MAX_CARD_SIZE  # more is capped (the award says "capped": true)
MAX_DAILY_CAP_STAMPS = 1_000
MAX_DAILY_CAP_POINTS = 100_000_000
MAX_DAYS = 3650  # expiry periods, tier windows and periods, coupon validity
MAX_POINTS_COST = 1_000_000  # the dearest catalogue reward
MAX_CORRECTION = {"stamp": MAX_STAMPS_PER_AWARD, "point": MAX_POINTS_COST}  # one correction, either way
MAX_TIER_THRESHOLD = Decimal(1_000_000_000)  # NT$, points or visits in the tier window
MAX_TIER_RANK = 100
MAX_TIER_REMINDER_DAYS = 365
MAX_TIER_BENEFITS, MAX_BENEFIT_LENGTH = 20, 100
MAX_PER_MEMBER_LIMIT = 1_000
MAX_TOTAL_STOCK = 10_000_000
MAX_STORE_CODES = 500
MAX_REFERRAL_STAMPS, MAX_REFERRAL_POINTS = MAX_STAMPS_PER_AWARD, 10_000
MIN_DAY, MAX_DAY = date(1900, 1, 1), date(2999, 12, 31)  # days a report or a rule may name: date arithmetic around them cannot overflow
MAX_DB_INT = 2**63 - 1  # an id beyond this names nothing (and would not fit a BIGINT)


def whole_in(value: Any, low: int, high: int) -> bool:
    """A JSON whole number (not a boolean) from low to high."""
    return not isinstance(value, bool) and isinstance(value, int) and low <= value <= high


def amount_in(value: Any, low: Decimal, high: Decimal) -> Decimal | None:
    """``value`` as NT$ (an integer, a decimal string or a number) from low to high with at most
    2 decimals, or None when it is not one."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    if not amount.is_finite() or not low <= amount <= high or amount.normalize().as_tuple().exponent < -2:  # type: ignore[operator]
        return None
    return amount
