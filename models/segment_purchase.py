"""Rule fields over what members bought (niche clubs: 烘焙 lovers, wine buyers), for the segment
rule language (models/segment_rules.py declares them in FIELDS and calls these):

    {"field": "bought_category", "op": "eq" | "in", "value": "烘焙" | ["烘焙", "甜點"]}
    {"field": "bought_sku",      "op": "eq" | "in", "value": "LATTE-L" | [...]}
    {"field": "category_share",  "op": "gte" | "lte", "value": {"category": "烘焙", "share": 0.3}}

Each looks at the member's line items of the last PURCHASE_WINDOW_DAYS (365, the default RFM
window: like visits and total_spend, the window is fixed, not part of the condition), items of
voided awards left out (models.affinity.counted). ``category_share`` is the category's part of the
member's spend on line items in the window (line totals, 0–1 inclusive); a member with no spend on
items in the window has no share, so neither ``gte`` nor ``lte`` holds for them (``not`` does).
Each is one correlated EXISTS over award_item, read through its member and category indexes; the
share compares whole numbers (cents × 10⁴ against basis points × cents: ``share`` takes at most
four decimals), never divides, so it is exact on SQLite's floating NUMERIC too.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, case, cast, exists, func, select

from models.affinity import counted
from models.member import Member
from models.product import AwardItem

PURCHASE_WINDOW_DAYS = 365
SHARE_KEYS = ("category", "share")
SHARE_PLACES = 4  # 0.1234 at most: shares are compared in basis points


class ShareValueError(ValueError):
    def __init__(self, key: str, reason: str) -> None:
        super().__init__(reason)
        self.key, self.reason = key, reason


def parse_share(value: Any, max_text: int) -> tuple[str, Decimal]:
    """``{"category": text, "share": 0–1}`` as (category, share); ShareValueError names the bad key ('' for the whole)."""
    if not isinstance(value, dict):
        raise ShareValueError("", 'an object {"category": …, "share": 0–1} is expected')
    extra = sorted(set(value) - set(SHARE_KEYS))
    if extra:
        raise ShareValueError(extra[0], "unknown key (use category and share)")
    category = value.get("category")
    if not isinstance(category, str) or not category:
        raise ShareValueError("category", "a category name is expected")
    if len(category) > max_text:
        raise ShareValueError("category", f"at most {max_text} characters")
    raw = value.get("share")
    try:
        share = Decimal(str(raw))
    except InvalidOperation as exc:
        raise ShareValueError("share", "a number from 0 to 1 is expected") from exc
    if raw is None or isinstance(raw, bool) or not share.is_finite() or not 0 <= share <= 1:
        raise ShareValueError("share", "a number from 0 to 1 is expected")
    if share != share.quantize(Decimal(1).scaleb(-SHARE_PLACES)):
        raise ShareValueError("share", f"at most {SHARE_PLACES} decimals")
    return category, share


def _window(now: datetime) -> list[ColumnElement[bool]]:
    return [AwardItem.member_id == Member.id, AwardItem.awarded_at > now - timedelta(days=PURCHASE_WINDOW_DAYS),
            AwardItem.awarded_at <= now, counted()]


def bought(column, op: str, value: Any, now: datetime) -> ColumnElement[bool]:
    """Bought (any of) these categories or SKUs in the window."""
    return exists().where(column.in_([value] if op == "eq" else value), *_window(now))


def category_share(op: str, value: tuple[str, Decimal], now: datetime) -> ColumnElement[bool]:
    category, share = value
    cents = cast(func.round(AwardItem.line_total * 100), BigInteger)
    total = func.sum(cents)
    inside = func.sum(case((AwardItem.category == category, cents), else_=0)) * 10**SHARE_PLACES
    points = int(share.scaleb(SHARE_PLACES))
    holds = inside >= points * total if op == "gte" else inside <= points * total
    return exists(select(AwardItem.member_id).where(*_window(now)).group_by(AwardItem.member_id).having(total > 0, holds))
