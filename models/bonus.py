"""Earning bonuses per product or category, on a receipt's line items (the earning rule's ``bonuses``).

Each bonus names what it applies to, a ``sku`` or a ``category`` (the product's, copied onto the
line when the award is stored), and one effect:

- ``points: N`` or ``stamps: N``: N more per unit bought (拿鐵加一點: {"sku": "LATTE", "points": 1});
- ``multiplier: M``: the points the matching lines' totals earn at the rule's amount_per_point (and
  the tier's multiplier) are multiplied by M, i.e. (M − 1) times them more (新品雙倍點數:
  {"category": "新品", "multiplier": 2}).

Bonuses add up (two that match one line both apply) and are rounded down once per bonus. They count
under the daily caps like the points and stamps they add to (models.ledger.award writes them as
their own ``bonus`` ledger entry, naming what earned them). Pure: no database.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal
from typing import Any, Protocol, Sequence

from models.errors import InvalidInput
from models.limits import MAX_STAMPS_PER_VISIT, amount_in, whole_in

MAX_BONUSES = 50
MAX_BONUS_POINTS = 10_000  # per unit
MAX_MULTIPLIER = Decimal(10)
TARGETS = ("sku", "category")
EFFECTS = ("points", "stamps", "multiplier")


class Item(Protocol):
    """What a bonus reads of a line: models.items.Line and models.product.AwardItem both have it."""

    sku: str
    qty: int
    name: str | None
    category: str | None

    @property
    def line_total(self) -> Decimal: ...


@dataclass(frozen=True)
class Bonus:
    stamps: int = 0
    points: int = 0
    on: tuple[str, ...] = ()  # what earned them: the lines' names (or SKUs) and categories, for the ledger's note


def _bad(index: int, key: str, message: str) -> InvalidInput:
    return InvalidInput(f"bonuses[{index}]: {message}", code="invalid_rule", details={"field": "bonuses", "index": index, "key": key})


def parse_bonuses(raw: Any) -> list[dict[str, Any]] | None:
    """The rule's bonuses as stored (null or [] for none); a bad one is 422 invalid_rule with
    details.field "bonuses", details.index and details.key."""
    if raw is None or raw == []:
        return None
    if not isinstance(raw, list) or len(raw) > MAX_BONUSES:
        raise InvalidInput(f"bonuses is a list of at most {MAX_BONUSES} objects", code="invalid_rule", details={"field": "bonuses"})
    out: list[dict[str, Any]] = []
    for i, item in enumerate(raw):
        if not isinstance(item, dict):
            raise _bad(i, "", "each bonus is an object such as {\"sku\": \"LATTE\", \"points\": 1}")
        unknown = sorted(set(item) - set(TARGETS) - set(EFFECTS))
        if unknown:
            raise _bad(i, unknown[0], f"unknown field {unknown[0]} (a bonus has sku or category, and points, stamps or multiplier)")
        targets = [k for k in TARGETS if k in item]
        effects = [k for k in EFFECTS if k in item]
        if len(targets) != 1:
            raise _bad(i, "sku", "give exactly one of sku or category")
        if len(effects) != 1:
            raise _bad(i, "points", "give exactly one of points, stamps or multiplier")
        target, effect = targets[0], effects[0]
        value = item[target]
        if not isinstance(value, str) or not value.strip() or len(value.strip()) > 64:
            raise _bad(i, target, f"{target} is text of 1 to 64 characters")
        amount = item[effect]
        if effect == "multiplier":
            m = amount_in(amount, Decimal("1.01"), MAX_MULTIPLIER) if not isinstance(amount, float) or amount.is_integer() else None
            if m is None:
                raise _bad(i, effect, f"multiplier is more than 1 and at most {MAX_MULTIPLIER} (2 decimals, e.g. 2 or \"1.5\")")
            out.append({target: value.strip(), effect: str(m)})
            continue
        most = MAX_BONUS_POINTS if effect == "points" else MAX_STAMPS_PER_VISIT
        if not whole_in(amount, 1, most):
            raise _bad(i, effect, f"{effect} is a whole number from 1 to {most:,} per unit")
        out.append({target: value.strip(), effect: int(amount)})
    return out


def _matches(bonus: dict[str, Any], item: Item) -> bool:
    if "sku" in bonus:
        return item.sku == bonus["sku"]
    return item.category is not None and item.category == bonus["category"]


def bonus_for(bonuses: Sequence[dict[str, Any]] | None, items: Sequence[Item] | None, *, amount_per_point: Decimal | None,
              multiplier: Decimal = Decimal(1), with_amount: bool = True) -> Bonus:
    """What the receipt's lines earn over the rule's points and stamps. ``multiplier`` is the
    tier's; multiplier bonuses need an amount (``with_amount``) and a points rate."""
    if not bonuses or not items:
        return Bonus()
    stamps = points = 0
    on: list[str] = []
    for bonus in bonuses:
        hits = [item for item in items if _matches(bonus, item)]
        if not hits:
            continue
        if "multiplier" in bonus:
            if not (with_amount and amount_per_point):
                continue
            total = sum((item.line_total for item in hits), Decimal(0))
            extra = int((total / amount_per_point * multiplier * (Decimal(bonus["multiplier"]) - 1)).to_integral_value(ROUND_FLOOR))
            points += extra
        else:
            units = sum(item.qty for item in hits)
            extra = units * int(bonus.get("points") or bonus.get("stamps") or 0)
            if "points" in bonus:
                points += extra
            else:
                stamps += extra
        if extra:
            label = bonus["category"] if "category" in bonus else (hits[0].name or hits[0].sku)
            if label not in on:
                on.append(label)
    return Bonus(stamps=stamps, points=points, on=tuple(on))


def split_capped(base: int, bonus: int, capped_total: int) -> tuple[int, int]:
    """A daily cap (or the per-receipt stamp limit) takes from the bonus first: (base, bonus) kept."""
    kept_base = min(base, capped_total)
    return kept_base, max(0, capped_total - kept_base)


def bonus_note(bonus: Bonus) -> str:
    """The bonus entry's note: what earned it (the member's history shows it)."""
    return "、".join(bonus.on)[:200]
