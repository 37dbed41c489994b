"""Receipt line items: what the POS sends with an award or a claim code, checked, compared and stored.

``parse_items`` is the one check of a receipt's items (awards and claim codes): each line a SKU, a
quantity and a unit price, and their total within ``tolerance`` of the receipt's amount (POS
rounding). A receipt id sent again is a retry only with the same items: ``canonical`` is the form
compared (per SKU and unit price, the quantity summed; the order of lines and the names the POS
sent do not matter). ``store_items`` writes them with the award (models.ledger.award), linking each
SKU to the catalogue's product (models/product.py) when there is one.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.errors import InvalidInput
from models.limits import MAX_PURCHASE, amount_in, whole_in
from models.product import MAX_NAME, MAX_SKU, AwardItem, Product

MAX_ITEMS = 200  # lines on one receipt
MAX_QTY = 9_999
DEFAULT_TOLERANCE = Decimal(1)  # NT$: sum(qty × unit_price) may differ from the amount by this much (ITEMS_TOTAL_TOLERANCE)
FIELDS = ("sku", "name", "qty", "unit_price")


@dataclass(frozen=True)
class Line:
    """One receipt line as the POS sent it; ``category`` is the product's (set when stored)."""

    sku: str
    qty: int
    unit_price: Decimal
    name: str | None = None
    category: str | None = None

    @property
    def line_total(self) -> Decimal:
        return self.unit_price * self.qty


def _bad(index: int, key: str, message: str) -> InvalidInput:
    return InvalidInput(f"items[{index}].{key}: {message}" if key else f"items[{index}]: {message}", code="invalid_items",
                        details={"field": f"items[{index}].{key}" if key else f"items[{index}]", "index": index, "key": key or None})


def _text(value: Any, most: int) -> str | None:
    if not isinstance(value, str):
        return None
    value = value.strip()
    if not value or len(value) > most or any(ord(ch) < 32 for ch in value):
        return None
    return value


def parse_line(raw: Any, index: int) -> Line:
    if not isinstance(raw, dict):
        raise _bad(index, "", "each item is an object {sku, name?, qty, unit_price}")
    unknown = sorted(set(raw) - set(FIELDS))
    if unknown:
        raise _bad(index, unknown[0], f"unknown field (items take {', '.join(FIELDS)})")
    sku = _text(raw.get("sku"), MAX_SKU)
    if sku is None:
        raise _bad(index, "sku", f"sku is required (text, at most {MAX_SKU} characters)")
    name = raw.get("name")
    if name is not None and (name := _text(name, MAX_NAME)) is None:
        raise _bad(index, "name", f"name is text of at most {MAX_NAME} characters (or leave it out)")
    if not whole_in(raw.get("qty"), 1, MAX_QTY):
        raise _bad(index, "qty", f"qty must be a whole number from 1 to {MAX_QTY:,}")
    price = raw.get("unit_price")
    unit_price = None if isinstance(price, float) and not price.is_integer() else amount_in(price, Decimal(0), MAX_PURCHASE)
    if unit_price is None:  # floats with decimals are refused as amounts are ("45.50", not 45.5)
        raise _bad(index, "unit_price", f"unit_price must be NT$0 to {MAX_PURCHASE:,} (an integer, or a string like \"45.50\")")
    return Line(sku=sku, qty=int(raw["qty"]), unit_price=unit_price.quantize(Decimal("0.01")), name=name)


def items_total(lines: Sequence[Line]) -> Decimal:
    return sum((line.line_total for line in lines), Decimal("0.00"))


def check_total(lines: Sequence[Line], amount: Decimal | None, tolerance: Decimal) -> None:
    """The items must add up to the receipt's amount, within ``tolerance`` (a visit without an
    amount has nothing to add up to)."""
    if amount is None or not lines:
        return
    total = items_total(lines)
    difference = total - amount
    if abs(difference) > tolerance:
        raise InvalidInput(
            f"The items add up to NT${total:,.2f}, NT${abs(difference):,.2f} {'more' if difference > 0 else 'less'} than the amount "
            f"NT${amount:,.2f} (at most NT${tolerance:,.2f} is allowed for rounding)", code="items_total_mismatch",
            details={"field": "items", "items_total": f"{total:.2f}", "amount": f"{amount:.2f}", "difference": f"{difference:.2f}",
                     "tolerance": f"{tolerance:.2f}"})


def parse_items(raw: Any, *, amount: Decimal | None, tolerance: Decimal = DEFAULT_TOLERANCE) -> list[Line] | None:
    """A receipt's ``items`` (None or [] when it sent none), each line checked (422 invalid_items
    naming items[i].field), their total against the amount (422 items_total_mismatch)."""
    if raw is None:
        return None
    if not isinstance(raw, list):
        raise InvalidInput("items is a list of {sku, name?, qty, unit_price}", code="invalid_items", details={"field": "items"})
    if len(raw) > MAX_ITEMS:
        raise InvalidInput(f"At most {MAX_ITEMS} items per receipt", code="invalid_items", details={"field": "items", "max": MAX_ITEMS})
    lines = [parse_line(item, i) for i, item in enumerate(raw)]
    check_total(lines, amount, tolerance)
    return lines or None


def canonical(lines: Sequence[Line] | None) -> list[tuple[str, str, int]]:
    """What makes two receipts' items the same: per (SKU, unit price) the quantity, sorted."""
    qty: dict[tuple[str, str], int] = {}
    for line in lines or ():
        key = (line.sku, f"{line.unit_price:.2f}")
        qty[key] = qty.get(key, 0) + line.qty
    return sorted((sku, price, n) for (sku, price), n in qty.items())


def same_items(a: Sequence[Line] | None, b: Sequence[Line] | None) -> bool:
    return canonical(a) == canonical(b)


def lines_json(lines: Sequence[Line] | None) -> list[dict[str, Any]] | None:
    """Lines as a JSON column keeps them (a claim code's, until the member collects)."""
    if not lines:
        return None
    return [{"sku": x.sku, "name": x.name, "qty": x.qty, "unit_price": f"{x.unit_price:.2f}"} for x in lines]


def lines_from_json(data: list[dict[str, Any]] | None) -> list[Line] | None:
    if not data:
        return None
    return [Line(sku=d["sku"], qty=int(d["qty"]), unit_price=Decimal(d["unit_price"]), name=d.get("name")) for d in data]


def store_items(
    session: Session, *, award_id: int, member_id: int, store_id: int, lines: Sequence[Line], now: datetime
) -> list[AwardItem]:
    """The award's lines, each linked to its product (or none: an unknown SKU, listed for mapping)
    with the product's category as it is now."""
    skus = {line.sku for line in lines}
    products = {p.sku: p for p in session.scalars(select(Product).where(Product.sku.in_(skus)))} if skus else {}
    rows = []
    for n, line in enumerate(lines, start=1):
        product = products.get(line.sku)
        rows.append(AwardItem(
            award_id=award_id, line_no=n, member_id=member_id, store_id=store_id, sku=line.sku,
            product_id=product.id if product else None, name=line.name, category=product.category if product else None,
            qty=line.qty, unit_price=line.unit_price, line_total=line.line_total, awarded_at=now,
        ))
    session.add_all(rows)
    session.flush()
    return rows


def award_lines(session: Session, award_id: int) -> list[Line]:
    rows = session.scalars(select(AwardItem).where(AwardItem.award_id == award_id).order_by(AwardItem.line_no))
    return [Line(sku=r.sku, qty=r.qty, unit_price=r.unit_price, name=r.name, category=r.category) for r in rows]


def bought_in(session: Session, award_ids: Sequence[int]) -> dict[int, list[tuple[str, int]]]:
    """What each award's receipt listed, as (name, quantity) in receipt order: the catalogue's name,
    else the POS's, else the SKU (the member's history shows it)."""
    if not award_ids:
        return {}
    rows = session.execute(
        select(AwardItem.award_id, AwardItem.sku, AwardItem.name, AwardItem.qty, Product.name)
        .outerjoin(Product, Product.id == AwardItem.product_id)
        .where(AwardItem.award_id.in_(set(award_ids))).order_by(AwardItem.award_id, AwardItem.line_no)
    ).all()
    out: dict[int, list[tuple[str, int]]] = {}
    for award_id, sku, pos_name, qty, product_name in rows:
        out.setdefault(award_id, []).append((product_name or pos_name or sku, int(qty)))
    return out
