"""What members buy: the brand's product catalogue and the receipt line items stored with awards.

A product is one SKU of the brand (one brand per deployment, like the earning rule). A receipt's
line items are written with its award, in the award's transaction (models.ledger.award): each keeps
the SKU and name the POS sent, the product it matched (null: a SKU the catalogue does not know yet)
and the product's category at award time. member_id and awarded_at are copied from the award so
that "who bought what, when" is one table to aggregate (segments, affinity).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, Numeric, String, UniqueConstraint, func, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from models.base import Base, IntPK, Timestamp, insert_for
from models.errors import InvalidInput, NotFound
from models.limits import MAX_PURCHASE, amount_in

MAX_SKU = 64
MAX_NAME = 120
MAX_CATEGORY = 64
MAX_ROWS = 5_000  # products in one bulk upsert or import
PRODUCT_FIELDS = ("sku", "name", "category", "price", "active")


class Product(Base):
    __tablename__ = "product"

    id: Mapped[IntPK]
    sku: Mapped[str] = mapped_column(String(MAX_SKU), unique=True)
    name: Mapped[str] = mapped_column(String(MAX_NAME))
    category: Mapped[str | None] = mapped_column(String(MAX_CATEGORY))
    price: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))  # list price, NT$ (as award.amount)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[Timestamp]
    updated_at: Mapped[Timestamp]


class AwardItem(Base):
    __tablename__ = "award_item"
    __table_args__ = (
        UniqueConstraint("award_id", "line_no", name="uq_award_item_award_line"),
        Index("ix_award_item_member_id", "member_id"),
        Index("ix_award_item_sku", "sku"),
        Index("ix_award_item_product_id", "product_id"),
    )

    id: Mapped[IntPK]
    award_id: Mapped[int] = mapped_column(ForeignKey("award.id"))
    line_no: Mapped[int] = mapped_column(Integer)  # 1, 2, … in the order the POS sent them
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id"))
    store_id: Mapped[int] = mapped_column(ForeignKey("store.id"))
    sku: Mapped[str] = mapped_column(String(MAX_SKU))
    product_id: Mapped[int | None] = mapped_column(ForeignKey("product.id"))  # null: unknown SKU
    name: Mapped[str | None] = mapped_column(String(MAX_NAME))  # as the POS sent it
    category: Mapped[str | None] = mapped_column(String(MAX_CATEGORY))  # the product's, at award time
    qty: Mapped[int] = mapped_column(Integer)
    unit_price: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    line_total: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    awarded_at: Mapped[Timestamp]


# --- the catalogue ---------------------------------------------------------------------------

def _bad(row: int | None, field: str, message: str, sku: str | None = None) -> InvalidInput:
    where = f"row {row}: " if row is not None else ""
    details: dict[str, Any] = {"field": field}
    if row is not None:
        details["row"] = row
    if sku:
        details["sku"] = sku
    return InvalidInput(where + message, code="invalid_product", details=details)


def _text(value: Any, most: int) -> str | None:
    if not isinstance(value, str):
        return None
    value = value.strip()
    return value if value and len(value) <= most and not any(ord(ch) < 32 for ch in value) else None


def parse_product(raw: Any, row: int | None = None) -> dict[str, Any]:
    """One product as sent (a JSON object, a CSV row): sku and name required; category, price and
    active only when given (an existing product keeps what a row leaves out). ``row`` (0-based
    in JSON, the line number in a CSV) names it in the refusal: 422 invalid_product, details row and field."""
    if not isinstance(raw, dict):
        raise _bad(row, "", "each product is an object {sku, name, category?, price?, active?}")
    unknown = sorted(set(raw) - set(PRODUCT_FIELDS))
    if unknown:
        raise _bad(row, unknown[0], f"unknown field {unknown[0]} (products take {', '.join(PRODUCT_FIELDS)})")
    sku = _text(raw.get("sku"), MAX_SKU)
    if sku is None:
        raise _bad(row, "sku", f"sku is required (text, at most {MAX_SKU} characters)")
    name = _text(raw.get("name"), MAX_NAME)
    if name is None:
        raise _bad(row, "name", f"name is required (text, at most {MAX_NAME} characters)", sku)
    out: dict[str, Any] = {"sku": sku, "name": name}
    if "category" in raw:
        category = raw["category"]
        if category is None or (isinstance(category, str) and not category.strip()):
            out["category"] = None
        elif (out_category := _text(category, MAX_CATEGORY)) is None:
            raise _bad(row, "category", f"category is text of at most {MAX_CATEGORY} characters (or null)", sku)
        else:
            out["category"] = out_category
    if "price" in raw:
        price = raw["price"]
        if price is None or price == "":
            out["price"] = None
        else:
            amount = None if isinstance(price, float) and not price.is_integer() else amount_in(price, Decimal(0), MAX_PURCHASE)
            if amount is None:
                raise _bad(row, "price", f"price is NT$0 to {MAX_PURCHASE:,} with at most 2 decimals (an integer or a string like \"65.50\"), or null", sku)
            out["price"] = amount
    if "active" in raw:
        if not isinstance(raw["active"], bool):
            raise _bad(row, "active", "active is true or false", sku)
        out["active"] = raw["active"]
    return out


@dataclass(frozen=True)
class Upserted:
    created: list[str]
    updated: list[str]
    items_linked: int  # past receipt lines with these SKUs now linked to their product


def upsert_products(session: Session, rows: list[dict[str, Any]], *, now: datetime) -> Upserted:
    """Create or change products by SKU (rows from ``parse_product``; a SKU twice is refused). A new
    product links the receipt lines already stored under its SKU (``link_items``)."""
    if len(rows) > MAX_ROWS:
        raise InvalidInput(f"At most {MAX_ROWS:,} products at once", code="invalid_product", details={"field": "", "max": MAX_ROWS})
    seen: dict[str, int] = {}
    for i, row in enumerate(rows):
        if row["sku"] in seen:
            raise _bad(i, "sku", f"sku {row['sku']} is also in row {seen[row['sku']]}", row["sku"])
        seen[row["sku"]] = i
    existing = set(session.scalars(select(Product.sku).where(Product.sku.in_(list(seen))))) if seen else set()
    insert = insert_for(session)
    for row in rows:
        changes = {k: v for k, v in row.items() if k != "sku"}
        values = {"category": None, "price": None, "active": True, **row, "created_at": now, "updated_at": now}
        session.execute(insert(Product).values(**values).on_conflict_do_update(
            index_elements=["sku"], set_={**changes, "updated_at": now}))
    session.flush()
    linked = link_items(session, list(seen))
    created = [r["sku"] for r in rows if r["sku"] not in existing]
    return Upserted(created=created, updated=[r["sku"] for r in rows if r["sku"] in existing], items_linked=linked)


def link_items(session: Session, skus: list[str]) -> int:
    """Receipt lines stored under these SKUs before the catalogue knew them get their product, and
    its category (they had none). Lines already linked keep the category they were awarded with."""
    if not skus:
        return 0
    product = select(Product.id).where(Product.sku == AwardItem.sku).scalar_subquery()
    category = select(Product.category).where(Product.sku == AwardItem.sku).scalar_subquery()
    result = session.execute(
        update(AwardItem).where(AwardItem.product_id.is_(None), AwardItem.sku.in_(skus))
        .values(product_id=product, category=category).execution_options(synchronize_session=False))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def get_product(session: Session, sku: str) -> Product:
    product = session.scalars(select(Product).where(Product.sku == sku)).one_or_none()
    if product is None:
        raise NotFound("No such product", code="product_not_found", details={"sku": sku})
    return product


def list_products(session: Session, *, active_only: bool = False) -> list[Product]:
    query = select(Product).order_by(Product.sku)
    if active_only:
        query = query.where(Product.active.is_(True))
    return list(session.scalars(query))


@dataclass(frozen=True)
class UnknownSku:
    sku: str
    lines: int  # receipt lines
    units: int  # quantity over them
    last_name: str | None  # the name the POS sent last
    last_seen_at: datetime


def unknown_skus(session: Session, *, limit: int = 500) -> list[UnknownSku]:
    """SKUs seen on receipts that no product has (yet), the most seen first, for a marketer to map."""
    groups = session.execute(
        select(AwardItem.sku, func.count(), func.sum(AwardItem.qty), func.max(AwardItem.awarded_at))
        .where(AwardItem.product_id.is_(None)).group_by(AwardItem.sku)
        .order_by(func.count().desc(), AwardItem.sku).limit(limit)).all()
    if not groups:
        return []
    last_ids = select(func.max(AwardItem.id)).where(AwardItem.product_id.is_(None), AwardItem.name.is_not(None),
                                                    AwardItem.sku.in_([g[0] for g in groups])).group_by(AwardItem.sku)
    names = dict(session.execute(select(AwardItem.sku, AwardItem.name).where(AwardItem.id.in_(last_ids))).all())
    return [UnknownSku(sku=sku, lines=int(n), units=int(units or 0), last_name=names.get(sku), last_seen_at=at)
            for sku, n, units, at in groups]
