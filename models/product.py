"""What members buy: the brand's product catalogue and the receipt line items stored with awards.

A product is one SKU of the brand (one brand per deployment, like the earning rule). A receipt's
line items are written with its award, in the award's transaction (models.ledger.award): each keeps
the SKU and name the POS sent, the product it matched (null: a SKU the catalogue does not know yet)
and the product's category at award time. member_id and awarded_at are copied from the award so
that "who bought what, when" is one table to aggregate (segments, affinity).
"""
from __future__ import annotations

from decimal import Decimal

from sqlalchemy import Boolean, ForeignKey, Index, Integer, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, IntPK, Timestamp

MAX_SKU = 64
MAX_NAME = 120
MAX_CATEGORY = 64


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
